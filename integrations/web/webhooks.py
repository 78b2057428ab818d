"""Webhook subscriptions on the integrations area (managers): their own subscriptions listed,
created (the signing secret shown once, in the creation's response), paused, resumed and
deleted, and each one's deliveries with every attempt and a replay button. Every write goes
through ``integrations.webhooks.services``."""

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from customers.web.exchange_common import MANAGE_INTEGRATIONS, requires_perm
from customers.web.forms import submit
from integrations.web.webhook_forms import WebhookSubscriptionInputForm
from integrations.webhooks import services, triggers
from integrations.webhooks.models import WebhookSubscription

RECENT_DELIVERIES = 100


@requires_perm(MANAGE_INTEGRATIONS)
@require_GET
def webhook_list(request: HttpRequest) -> HttpResponse:
    return _list_page(request, WebhookSubscriptionInputForm())


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
@never_cache
def webhook_create(request: HttpRequest) -> HttpResponse:
    """The secret exists in this response only (never in a session or a redirect): the page is
    rendered here, uncached, and the secret cannot be shown again."""
    form = WebhookSubscriptionInputForm(request.POST)
    created = submit(
        form,
        # blank where the form refused the input, so the service still checks the rest
        lambda data: services.subscription_create(
            owner=request.user, **{"url": "", "events": [], **data}
        ),
    )
    if created is not None:
        subscription, secret = created
        context = {"subscription": subscription, "secret": secret}
        return render(request, "web/webhooks/created.html", context, status=201)
    return _list_page(request, form, status=422)


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def webhook_pause(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = services.subscription_pause(subscription=_own(request, pk))
    messages.success(request, _("Deliveries to %(url)s are paused.") % {"url": subscription.url})
    return redirect("web:webhook-list")


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def webhook_resume(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = services.subscription_resume(subscription=_own(request, pk))
    triggers.deliver_soon()  # what waited goes out now
    messages.success(request, _("Deliveries to %(url)s resumed.") % {"url": subscription.url})
    return redirect("web:webhook-list")


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own(request, pk)
    services.subscription_delete(subscription=subscription)
    messages.success(
        request, _("The subscription to %(url)s is deleted.") % {"url": subscription.url}
    )
    return redirect("web:webhook-list")


@requires_perm(MANAGE_INTEGRATIONS)
@require_GET
def webhook_deliveries(request: HttpRequest, pk: int) -> HttpResponse:
    subscription = _own(request, pk)
    deliveries = (
        subscription.deliveries.select_related("event")
        .prefetch_related("attempt_log")
        .order_by("-id")[:RECENT_DELIVERIES]
    )
    context = {"subscription": subscription, "deliveries": deliveries, "shown": RECENT_DELIVERIES}
    return render(request, "web/webhooks/deliveries.html", context)


@requires_perm(MANAGE_INTEGRATIONS)
@require_POST
def webhook_replay(request: HttpRequest, pk: int, delivery_id: int) -> HttpResponse:
    subscription = _own(request, pk)
    delivery = get_object_or_404(subscription.deliveries, pk=delivery_id)
    services.replay(delivery=delivery)
    triggers.deliver_soon()
    messages.success(request, _("Delivery %(id)s is sent again.") % {"id": delivery.pk})
    return redirect("web:webhook-deliveries", subscription.pk)


def _own(request: HttpRequest, pk: int) -> WebhookSubscription:
    """The user's own subscription; 404 for anyone else's (no hint that it exists)."""
    return get_object_or_404(_subscriptions(request), pk=pk)


def _subscriptions(request: HttpRequest) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(owner=request.user)


def _list_page(request: HttpRequest, form: WebhookSubscriptionInputForm, *, status: int = 200):
    context = {"form": form, "subscriptions": _subscriptions(request)}
    return render(request, "web/webhooks/list.html", context, status=status)
