"""Subscribing, relaying outbox events to deliveries, and delivering them."""

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import pii
from customers.events import ENTITIES, EVENT_TYPES
from integrations import outbound
from integrations.models import ApiKey
from integrations.scopes import PII_READ, has_scope
from integrations.services.change_feed import RESOURCE_OF_ENTITY, read_changes, readable_entities
from integrations.webhooks import signing
from integrations.webhooks.models import (
    ALL_EVENTS,
    RelayCursor,
    WebhookDelivery,
    WebhookSubscription,
)

RELAY = "webhooks"
RELAY_PAGE = 500
MAX_RELAY_PAGES = 200
USER_AGENT = "CRM-Webhooks/1"
Status = WebhookDelivery.Status


# Subscriptions


def subscription_create(
    *,
    owner: Any,
    url: str,
    events: Sequence[str],
    api_key: ApiKey | None = None,
    description: str = "",
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret, which is shown this once. Each event type
    needs its entity readable by `owner` through `api_key` (``*`` needs every entity), as the
    change feed asks: a webhook carries the records themselves."""
    _check_url(url)
    events = _check_events(events)
    _check_readable(events, owner=owner, api_key=api_key)
    secret = signing.new_secret()
    subscription = WebhookSubscription.objects.create(
        owner=owner,
        api_key=api_key,
        url=url,
        events=events,
        secret=secret,
        description=description,
    )
    return subscription, secret


def subscription_pause(*, subscription: WebhookSubscription) -> WebhookSubscription:
    subscription.is_active = False
    subscription.save(update_fields=["is_active"])
    return subscription


def subscription_resume(*, subscription: WebhookSubscription) -> WebhookSubscription:
    """Active again, the failure flag cleared; waiting deliveries go out at once."""
    subscription.is_active = True
    subscription.disabled_at = None
    subscription.disabled_reason = ""
    subscription.save(update_fields=["is_active", "disabled_at", "disabled_reason"])
    subscription.deliveries.filter(status=Status.PENDING).update(next_attempt_at=timezone.now())
    return subscription


def subscription_delete(*, subscription: WebhookSubscription) -> None:
    subscription.delete()


def _check_url(url: str) -> None:
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise ValidationError({"url": _("Enter an http or https URL.")}) from None
    try:
        outbound.check_url(url)
    except outbound.OutboundRefused as error:
        raise ValidationError({"url": str(error)}) from None


def _check_events(events: Sequence[str]) -> list[str]:
    if isinstance(events, str) or not isinstance(events, Sequence) or not events:
        raise ValidationError({"events": _("List the event types to receive, or ['*'] for all.")})
    unknown = sorted(set(events) - {*EVENT_TYPES, ALL_EVENTS})
    if unknown:
        message = _("Unknown event types: %(types)s.") % {"types": ", ".join(unknown)}
        raise ValidationError({"events": message})
    return sorted(set(events))


def _check_readable(events: Sequence[str], *, owner: Any, api_key: ApiKey | None) -> None:
    readable = set(readable_entities(user=owner, api_key=api_key))
    wanted = set(ENTITIES) if ALL_EVENTS in events else {name.split(".")[0] for name in events}
    unreadable = [entity for entity in ENTITIES if entity in wanted - readable]
    if unreadable:
        needed = ", ".join(
            f"{RESOURCE_OF_ENTITY[entity]}:read / customers.view_{entity}" for entity in unreadable
        )
        message = _(
            "Events are delivered with their records: subscribing to them needs the right to "
            "read those records (the API key's scope and your user's permission): %(needed)s."
        )
        raise ValidationError({"events": [message % {"needed": needed}]})


def delivery_refusal(subscription: WebhookSubscription, entity: str) -> str:
    """Why `subscription` may no longer be sent `entity`'s events ("" when it may): its
    owner, through its key, must still read the entity when each delivery goes out."""
    if entity in readable_entities(user=subscription.owner, api_key=subscription.api_key):
        return ""
    return _(
        "Not sent: the subscription's owner (or its API key) may no longer read %(entity)s records."
    ) % {"entity": RESOURCE_OF_ENTITY[entity]}


def subscription_can_view_pii(subscription: WebhookSubscription) -> bool:
    """Payloads carry personal data decrypted only when the owner may read it and the key
    that subscribed (if any) has ``pii:read``; otherwise masked, as the REST API shows it."""
    if not pii.can_view_pii(subscription.owner):
        return False
    key = subscription.api_key
    return key is None or has_scope(key.scopes, PII_READ)


# Relay: outbox → deliveries


def request_relay() -> bool:
    """Mark a relay as wanted; True when none was already waiting to start (then the caller
    queues one)."""
    RelayCursor.objects.get_or_create(name=RELAY)
    return bool(RelayCursor.objects.filter(name=RELAY, requested=False).update(requested=True))


def relay_started() -> None:
    """Clear the request before reading, so a commit landing from now on asks again."""
    RelayCursor.objects.filter(name=RELAY, requested=True).update(requested=False)


def relay_events() -> int:
    """Create a delivery per matching subscription for every event past the relay's cursor;
    returns how many. Safe to run concurrently and repeatedly: the cursor row is locked and a
    delivery is unique per (subscription, event)."""
    created = 0
    for _page in range(MAX_RELAY_PAGES):
        with transaction.atomic():
            state, _ = RelayCursor.objects.select_for_update().get_or_create(name=RELAY)
            page = read_changes(after=state.cursor or None, entities=ENTITIES, limit=RELAY_PAGE)
            subscriptions = list(WebhookSubscription.objects.filter(is_active=True))
            now = timezone.now()
            deliveries = [
                WebhookDelivery(subscription=subscription, event=event, next_attempt_at=now)
                for event in page.events
                for subscription in subscriptions
                if subscription.wants(event.type) and event.occurred_at >= subscription.created_at
            ]
            WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
            state.cursor = page.next_cursor
            state.save()
        created += len(deliveries)
        if not page.has_more:
            break
    return created


# Replays


def replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, whatever became of it (same delivery id, same event)."""
    delivery.status = Status.PENDING
    delivery.attempts = 0  # a fresh retry cycle; the attempt log keeps the history
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at"])
    return delivery
