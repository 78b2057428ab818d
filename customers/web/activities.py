"""Ticking an activity off, from the dashboard or a timeline."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers.actors import Actor
from customers.models import Activity
from customers.services import activities
from customers.web import common


@common.requires("change_activity")
@require_POST
def activity_done(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark done through the service. With htmx the row is replaced by a short note."""
    activity = get_object_or_404(Activity, pk=pk)
    try:
        activities.activity_complete(actor=Actor.for_request(request), activity=activity)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if common.is_htmx(request):
            text = _("Done: %(subject)s") % {"subject": activity.subject}
            return HttpResponse(f'<li class="muted" role="status">{escape(text)}</li>')
        messages.success(request, _("Marked as done."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("web:dashboard")
    return redirect(target)
