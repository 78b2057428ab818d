"""Sending due deliveries: claimed a batch at a time (a lease, so concurrent workers share the
work and a dead one's batch comes due again), rendered with one lookup per entity, POSTed
signed over a kept-alive session per receiver, and recorded in one transaction per batch."""

import json
import random
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from customers.actors import Actor, Door
from integrations import outbound
from integrations.representations import representations
from integrations.webhooks import payloads, services, signing
from integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

BATCH = 50
USER_AGENT = "CRM-Webhooks/1"
Status = WebhookDelivery.Status
Sessions = dict[str, requests.Session]


@dataclass
class _Outcome:
    delivery: WebhookDelivery
    status_code: int | None
    error: str
    latency_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def due_delivery_ids(limit: int = 1000) -> list[int]:
    """Pending deliveries whose time has come, of subscriptions that are delivering."""
    return list(
        _delivering(WebhookDelivery.objects.filter(next_attempt_at__lte=timezone.now()))
        .order_by("next_attempt_at", "id")
        .values_list("id", flat=True)[:limit]
    )


def next_retry_at() -> datetime | None:
    """When the earliest waiting retry is due (None when nothing waits)."""
    return (
        _delivering(WebhookDelivery.objects.filter(next_attempt_at__gt=timezone.now()))
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def oldest_due_at() -> datetime | None:
    """When the longest-waiting due delivery came due (None when nothing is due): how far
    sending lags behind (the operations metrics)."""
    return (
        _delivering(WebhookDelivery.objects.filter(next_attempt_at__lte=timezone.now()))
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def deliver_due_now(*, budget_seconds: float = 20.0) -> tuple[int, bool]:
    """Send due deliveries until none is left or the time budget is spent; returns (attempted,
    whether some are still due)."""
    deadline = time.monotonic() + budget_seconds
    attempted = 0
    sessions: Sessions = {}
    try:
        while time.monotonic() < deadline:
            due = due_delivery_ids(limit=BATCH)
            if not due:
                return attempted, False
            attempted += len(_send(claim(due), sessions))
        return attempted, bool(due_delivery_ids(limit=1))
    finally:
        for session in sessions.values():
            session.close()


def deliver(delivery_id: int) -> WebhookDelivery | None:
    """Claim and attempt one delivery now; None when it was not due or another worker has it."""
    claimed = claim([delivery_id])
    if not claimed:
        return None
    _send(claimed, {})
    return claimed[0]


def claim(delivery_ids: Iterable[int]) -> list[WebhookDelivery]:
    """Lease the still-due ones among `delivery_ids` to this caller. The lease time is this
    claim's own mark (to the microsecond, randomised), so the rows it took are found again."""
    now = timezone.now()
    lease = now + timedelta(
        seconds=settings.WEBHOOK_CLAIM_SECONDS, microseconds=random.randrange(1_000_000)
    )
    ids = list(delivery_ids)
    WebhookDelivery.objects.filter(
        pk__in=ids, status=Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=lease)
    return list(
        WebhookDelivery.objects.filter(pk__in=ids, next_attempt_at=lease)
        .select_related("subscription__api_key", "subscription__owner", "event")
        .order_by("id")
    )


def _send(deliveries: list[WebhookDelivery], sessions: Sessions) -> list[_Outcome]:
    stopped = [d for d in deliveries if not d.subscription.is_delivering]
    if stopped:  # paused or flagged since it came due: it waits for a resume
        WebhookDelivery.objects.filter(pk__in=[d.pk for d in stopped]).update(next_attempt_at=None)
    rights = _Rights()
    sending = _refuse_unreadable([d for d in deliveries if d.subscription.is_delivering], rights)
    records = _records(sending, rights)
    outcomes = []
    for delivery in sending:
        subscription = delivery.subscription
        event = delivery.event
        record = records[event.entity, rights.can_view_pii(subscription)].get(event.record_id)
        body = json.dumps(
            payloads.event_payload(event, record=record), ensure_ascii=False, separators=(",", ":")
        ).encode()
        session = sessions.get(subscription.url) or sessions.setdefault(
            subscription.url, outbound.session()
        )
        outcomes.append(_post(delivery, body, session))
    _record(outcomes)
    return outcomes


class _Rights:
    """What each subscription's owner may read now, asked once per subscription per batch
    (each delivery carries its own copy of the owner, whose permission cache starts empty)."""

    def __init__(self) -> None:
        self._refusals: dict[tuple[int, str], str] = {}
        self._pii: dict[int, bool] = {}

    def refusal(self, subscription: WebhookSubscription, entity: str) -> str:
        key = (subscription.pk, entity)
        if key not in self._refusals:
            self._refusals[key] = services.delivery_refusal(subscription, entity)
        return self._refusals[key]

    def can_view_pii(self, subscription: WebhookSubscription) -> bool:
        if subscription.pk not in self._pii:
            self._pii[subscription.pk] = services.subscription_can_view_pii(subscription)
        return self._pii[subscription.pk]


def _refuse_unreadable(deliveries: list[WebhookDelivery], rights: _Rights) -> list[WebhookDelivery]:
    """The deliveries whose owner may still read their entity; the others are closed as
    failed, with the reason, and nothing is sent for them (a retry would not change it)."""
    sending = []
    for delivery in deliveries:
        reason = rights.refusal(delivery.subscription, delivery.event.entity)
        if not reason:
            sending.append(delivery)
            continue
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=Status.FAILED, next_attempt_at=None, last_error=reason
        )
        delivery.status, delivery.next_attempt_at, delivery.last_error = (
            Status.FAILED,
            None,
            reason,
        )
    return sending


def _records(
    deliveries: list[WebhookDelivery], rights: _Rights
) -> dict[tuple[str, bool], dict[int, dict]]:
    """Each (entity, PII allowed) group's records as they are now, one lookup per group."""
    wanted: dict[tuple[str, bool], set[int]] = defaultdict(set)
    for delivery in deliveries:
        key = (delivery.event.entity, rights.can_view_pii(delivery.subscription))
        wanted[key].add(delivery.event.record_id)
    return {
        (entity, can_view): representations(
            entity,
            ids,
            can_view_pii=can_view,
            actor=Actor.system(door=Door.WEBHOOK, may_read_pii=can_view),
        )
        for (entity, can_view), ids in wanted.items()
    }


def _post(delivery: WebhookDelivery, body: bytes, session: requests.Session) -> _Outcome:
    subscription = delivery.subscription
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
        # streamed: only the start of a refusal is read, whatever size the receiver sends
        response = outbound.request(
            "POST",
            subscription.url,
            session=session,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
            stream=True,
        )
        with response:
            ok = 200 <= response.status_code < 300
            error = "" if ok else outbound.start_of_body(response, ERROR_CHARS)
    except (outbound.OutboundRefused, requests.RequestException) as error:
        return _Outcome(delivery, None, str(error)[:2000], _elapsed_ms(started))
    return _Outcome(delivery, response.status_code, error, _elapsed_ms(started))


ERROR_CHARS = 500


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


@transaction.atomic
def _record(outcomes: list[_Outcome]) -> None:
    """Log every attempt and move each delivery on: done, retried later (the schedule's next
    wait), or failed for good, which disables and flags its subscription."""
    if not outcomes:
        return
    now = timezone.now()
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    WebhookAttempt.objects.bulk_create(
        WebhookAttempt(
            delivery=o.delivery,
            attempted_at=now,
            status_code=o.status_code,
            latency_ms=o.latency_ms,
            error=o.error,
        )
        for o in outcomes
    )
    for outcome in outcomes:
        delivery = outcome.delivery
        delivery.attempts += 1
        delivery.last_status_code = outcome.status_code
        delivery.last_error = outcome.error
        if outcome.succeeded:
            delivery.status, delivery.delivered_at, delivery.next_attempt_at = (
                Status.SUCCEEDED,
                now,
                None,
            )
        elif delivery.attempts > len(schedule):
            delivery.status, delivery.next_attempt_at = Status.FAILED, None
            _disable(delivery.subscription, reason=_failure_reason(delivery))
        else:
            delivery.next_attempt_at = now + timedelta(seconds=schedule[delivery.attempts - 1])
    WebhookDelivery.objects.bulk_update(
        [o.delivery for o in outcomes],
        [
            "attempts",
            "last_status_code",
            "last_error",
            "status",
            "delivered_at",
            "next_attempt_at",
        ],
    )


def _failure_reason(delivery: WebhookDelivery) -> str:
    last = f"HTTP {delivery.last_status_code}" if delivery.last_status_code else delivery.last_error
    return f"Delivery {delivery.pk} failed {delivery.attempts} times (last: {last[:200]})."


def _disable(subscription: WebhookSubscription, *, reason: str) -> None:
    WebhookSubscription.objects.filter(pk=subscription.pk, disabled_at__isnull=True).update(
        disabled_at=timezone.now(), disabled_reason=reason
    )


def _delivering(queryset):
    return queryset.filter(
        status=Status.PENDING,
        subscription__is_active=True,
        subscription__disabled_at__isnull=True,
    )
