"""Thin Celery tasks for webhooks: relay the outbox, deliver one, sweep what is due."""

from celery import shared_task
from django.utils import timezone

from integrations.webhooks import services
from integrations.webhooks.models import WebhookDelivery

# Retries due within this many seconds are scheduled at once; later ones wait for the sweep
# (a broker holding a message for hours is less reliable than the database).
SHORT_RETRY_SECONDS = 600


@shared_task(name="webhooks.relay")
def relay() -> int:
    created = services.relay_events()
    if created:
        deliver_due.delay()
    return created


@shared_task(name="webhooks.deliver")
def deliver(delivery_id: int) -> None:
    delivery = services.deliver(delivery_id)
    if delivery is None or delivery.status != WebhookDelivery.Status.PENDING:
        return
    if delivery.next_attempt_at is None:
        return
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    if wait <= SHORT_RETRY_SECONDS:
        deliver.apply_async((delivery_id,), countdown=max(wait, 0) + 0.5)


@shared_task(name="webhooks.deliver_due")
def deliver_due() -> int:
    ids = services.due_delivery_ids()
    for delivery_id in ids:
        deliver.delay(delivery_id)
    return len(ids)


@shared_task(name="webhooks.sweep")
def sweep() -> int:
    """Periodic: relay anything the after-commit trigger missed (broker down, a crash between
    commit and trigger), then send what is due."""
    services.relay_events()
    return deliver_due()
