"""The probes and the metrics endpoint. Plain Django views, outside REST: no log-in, no API key,
no rate limit, no session; SECURE_REDIRECT_EXEMPT lets a proxy probe them over plain HTTP on
loopback."""

from hmac import compare_digest

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from crm_project.operations import health, metrics


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


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    """Prometheus text for a scraper holding METRICS_TOKEN. Without the setting the endpoint
    does not exist (404): counts of queued jobs and failures are not for everyone."""
    token = settings.METRICS_TOKEN
    if not token:
        return HttpResponse(status=404)
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not compare_digest(presented.strip().encode(), token.encode()):
        response = HttpResponse(status=401)
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return HttpResponse(metrics.exposition(), content_type=CONTENT_TYPE_LATEST)
