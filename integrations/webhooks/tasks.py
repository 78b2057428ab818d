"""Thin Celery tasks for webhooks: relay the outbox and send what is due, sweep periodically."""

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from integrations.webhooks import delivery, services

# Retries due within this many seconds are scheduled at once; later ones wait for the sweep
# (a broker holding a message for hours is less reliable than the database).
SHORT_RETRY = timedelta(minutes=10)


@shared_task(name="webhooks.relay")
def relay() -> int:
    """Relay new events, then send what is due right here: fewer messages than a task per
    delivery, and a receiver's connection is reused."""
    services.relay_started()
    created = services.relay_events()
    _send_due()
    return created


@shared_task(name="webhooks.deliver_due")
def deliver_due() -> int:
    return _send_due()


def _send_due() -> int:
    attempted, more = delivery.deliver_due_now()
    if more:  # the time budget ran out: continue in a fresh task, others may share it
        deliver_due.delay()
        return attempted
    retry_at = delivery.next_retry_at()
    if retry_at is not None and retry_at <= timezone.now() + SHORT_RETRY:
        deliver_due.apply_async(eta=retry_at)
    return attempted


@shared_task(name="webhooks.sweep")
def sweep() -> int:
    """Periodic: relay anything the after-commit trigger missed (broker down, a crash between
    commit and trigger), then send what is due."""
    services.relay_events()
    return _send_due()
