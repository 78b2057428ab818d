"""The probes. Plain Django views, outside REST: no log-in, no API key, no rate limit, no
session; SECURE_REDIRECT_EXEMPT lets a proxy probe them over plain HTTP on loopback."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm_project.operations import health


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """The process answers: no database, broker or cache is touched, so a restart is never
    ordered because a dependency is down (that is /readyz's question)."""
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """200 while no check failed (a degraded one included), else 503; every check is named."""
    results = health.run_checks()
    ready = health.is_ready(results)
    degraded = any(result.status == health.DEGRADED for result in results)
    overall = health.FAILED if not ready else health.DEGRADED if degraded else health.OK
    return JsonResponse(
        {"status": overall, "checks": {result.name: result.as_dict() for result in results}},
        status=200 if ready else 503,
    )
