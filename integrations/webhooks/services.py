"""Subscribing, relaying outbox events to deliveries, and delivering them."""

import json
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from customers import pii
from customers.events import ENTITIES, EVENT_TYPES
from integrations import outbound
from integrations.models import ApiKey
from integrations.scopes import PII_READ, has_scope
from integrations.services.change_feed import read_changes
from integrations.webhooks import payloads, signing
from integrations.webhooks.models import (
    ALL_EVENTS,
    RelayCursor,
    WebhookAttempt,
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
    """A new subscription and its signing secret, which is shown this once."""
    _check_url(url)
    events = _check_events(events)
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
        raise ValidationError({"url": "Enter an http or https URL."}) from None
    try:
        outbound.check_url(url)
    except outbound.OutboundRefused as error:
        raise ValidationError({"url": str(error)}) from None


def _check_events(events: Sequence[str]) -> list[str]:
    if isinstance(events, str) or not isinstance(events, Sequence) or not events:
        raise ValidationError({"events": "List the event types to receive, or ['*'] for all."})
    unknown = sorted(set(events) - {*EVENT_TYPES, ALL_EVENTS})
    if unknown:
        raise ValidationError({"events": f"Unknown event types: {', '.join(unknown)}."})
    return sorted(set(events))


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


# Delivery


def due_delivery_ids(limit: int = 1000) -> list[int]:
    """Pending deliveries whose time has come, of subscriptions that are delivering."""
    return list(
        WebhookDelivery.objects.filter(
            status=Status.PENDING,
            next_attempt_at__lte=timezone.now(),
            subscription__is_active=True,
            subscription__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def next_retry_at() -> datetime | None:
    """When the earliest waiting retry is due (None when nothing waits)."""
    return (
        WebhookDelivery.objects.filter(
            status=Status.PENDING,
            next_attempt_at__gt=timezone.now(),
            subscription__is_active=True,
            subscription__disabled_at__isnull=True,
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def claim(delivery_id: int) -> bool:
    """Take a due delivery for one attempt; False when another worker has it or it is not
    due. The claim is a lease: a worker that dies mid-attempt leaves it due again later."""
    lease = timezone.now() + timedelta(seconds=settings.WEBHOOK_CLAIM_SECONDS)
    return bool(
        WebhookDelivery.objects.filter(
            pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=timezone.now()
        ).update(next_attempt_at=lease)
    )


def deliver_due_now(*, budget_seconds: float = 20.0) -> tuple[int, bool]:
    """Attempt due deliveries in this process until none is left or the time budget is spent;
    returns (attempted, whether some are still due). Sessions are kept per receiver so its
    connection is reused; concurrent callers share the work through the claims."""
    deadline = time.monotonic() + budget_seconds
    attempted = 0
    sessions: dict[str, requests.Session] = {}
    try:
        while time.monotonic() < deadline:
            due = due_delivery_ids(limit=200)
            if not due:
                return attempted, False
            for delivery_id in due:
                if time.monotonic() >= deadline:
                    return attempted, True
                if deliver(delivery_id, sessions=sessions) is not None:
                    attempted += 1
        return attempted, bool(due_delivery_ids(limit=1))
    finally:
        for session in sessions.values():
            session.close()


def deliver(
    delivery_id: int, *, sessions: dict[str, requests.Session] | None = None
) -> WebhookDelivery | None:
    """Claim and attempt one delivery; None when it was not ours to attempt."""
    if not claim(delivery_id):
        return None
    delivery = WebhookDelivery.objects.select_related("subscription__api_key", "event").get(
        pk=delivery_id
    )
    subscription = delivery.subscription
    if not subscription.is_delivering:
        WebhookDelivery.objects.filter(pk=delivery_id).update(next_attempt_at=None)
        return delivery
    body = json.dumps(
        payloads.event_payload(delivery.event, can_view_pii=_can_view_pii(subscription)),
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    session = None
    if sessions is not None:
        session = sessions.setdefault(subscription.url, requests.Session())
    status_code, error, latency_ms = _post(subscription, delivery, body, session=session)
    _record(delivery, status_code=status_code, error=error, latency_ms=latency_ms)
    return delivery


def replay(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send a delivery again, whatever became of it (same delivery id, same event)."""
    delivery.status = Status.PENDING
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "next_attempt_at"])
    return delivery


def _can_view_pii(subscription: WebhookSubscription) -> bool:
    if not pii.can_view_pii(subscription.owner):
        return False
    key = subscription.api_key
    return key is None or has_scope(key.scopes, PII_READ)


def _post(
    subscription: WebhookSubscription,
    delivery: WebhookDelivery,
    body: bytes,
    *,
    session: requests.Session | None = None,
) -> tuple[int | None, str, int]:
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-CRM-Event": delivery.event.type,
        "X-CRM-Delivery": str(delivery.pk),
        "X-CRM-Timestamp": str(timestamp),
        "X-CRM-Signature": signing.signature(subscription.secret, timestamp, body),
    }
    started = time.monotonic()
    try:
        response = outbound.request(
            "POST",
            subscription.url,
            session=session,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except (outbound.OutboundRefused, requests.RequestException) as error:
        return None, str(error)[:2000], _elapsed_ms(started)
    latency = _elapsed_ms(started)
    if 200 <= response.status_code < 300:
        return response.status_code, "", latency
    return response.status_code, response.text[:500], latency


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _record(
    delivery: WebhookDelivery, *, status_code: int | None, error: str, latency_ms: int
) -> None:
    WebhookAttempt.objects.create(
        delivery=delivery, status_code=status_code, latency_ms=latency_ms, error=error
    )
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error
    now = timezone.now()
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    else:
        schedule = settings.WEBHOOK_RETRY_SCHEDULE
        failures = delivery.attempt_log.exclude(status_code__gte=200, status_code__lt=300).count()
        if failures > len(schedule):
            delivery.status = Status.FAILED
            delivery.next_attempt_at = None
            _disable(delivery.subscription, reason=_failure_reason(delivery, failures))
        else:
            delay = schedule[failures - 1]
            delivery.next_attempt_at = now + timedelta(seconds=delay)
    delivery.save()


def _failure_reason(delivery: WebhookDelivery, failures: int) -> str:
    last = f"HTTP {delivery.last_status_code}" if delivery.last_status_code else delivery.last_error
    return f"Delivery {delivery.pk} failed {failures} times (last: {last[:200]})."


def _disable(subscription: WebhookSubscription, *, reason: str) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk, disabled_at__isnull=True).update(
        disabled_at=timezone.now(), disabled_reason=reason
    )
