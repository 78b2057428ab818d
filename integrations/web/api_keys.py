"""The integrations page (managers): partner API keys (created with scopes, the raw key shown
once, revoked) and the latest import and export jobs."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from customers.web.exchange_common import MANAGE_INTEGRATIONS, requires_perm
from customers.web.forms import apply_errors
from integrations import selectors
from integrations.models import ApiKey
from integrations.services import api_keys
from integrations.web.api_key_forms import ApiKeyInputForm

RECENT_JOBS = 20


@requires_perm(MANAGE_INTEGRATIONS)
@require_GET
def integration_list(request: HttpRequest) -> HttpResponse:
    return _page(request, ApiKeyInputForm())


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
@never_cache
def api_key_create(request: HttpRequest) -> HttpResponse:
    """The raw key exists only in this response (never in a session or a redirect): the page
    is rendered here, uncached, and the key cannot be shown again."""
    form = ApiKeyInputForm(request.POST)
    if form.is_valid():
        try:
            api_key, raw_key = api_keys.api_key_create(user=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            return _page(request, ApiKeyInputForm(), created=api_key, raw_key=raw_key, status=201)
    return _page(request, form, status=422)


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def api_key_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    api_key = get_object_or_404(ApiKey, pk=pk)
    api_keys.api_key_revoke(api_key=api_key, revoked_by=request.user)  # 403 unless allowed
    messages.success(request, _("The key “%(name)s” is revoked.") % {"name": api_key.name})
    return redirect("web:integration-list")


def _page(request: HttpRequest, form: ApiKeyInputForm, *, status: int = 200, **extra):
    keys = list(ApiKey.objects.select_related("user"))
    for key in keys:
        key.may_revoke = api_keys.api_key_may_revoke(api_key=key, user=request.user)
    context = {
        "form": form,
        "api_keys": keys,
        "import_jobs": selectors.import_job_list(user=request.user)[:RECENT_JOBS],
        "export_jobs": selectors.export_job_list(user=request.user)[:RECENT_JOBS],
        **extra,
    }
    return render(request, "web/integrations/index.html", context, status=status)
