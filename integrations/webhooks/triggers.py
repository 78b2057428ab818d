"""Waking the webhook tasks. A broker that is down must never fail the caller (a user's write
has committed already): the trigger is logged and skipped, and the periodic sweep, or the next
worker to start, sends what waited in the outbox."""

import logging

from integrations.webhooks import services
from integrations.webhooks.models import WebhookSubscription

logger = logging.getLogger(__name__)


def relay_after_commit(sender, count, **kwargs) -> None:
    """``customers.events.events_committed`` receiver."""
    if not WebhookSubscription.objects.filter(is_active=True).exists():
        return  # nobody listens (the sweep keeps the relay cursor current)
    if not services.request_relay():
        return  # a relay is queued and has not started: it will see these events too
    from integrations.webhooks.tasks import relay

    if not _enqueue(relay, f"{count} events"):
        services.relay_started()  # nothing is queued after all: let the next commit ask


def deliver_soon() -> None:
    from integrations.webhooks.tasks import deliver_due

    _enqueue(deliver_due, "due deliveries")


def sweep_on_worker_start(sender, **kwargs) -> None:
    """celery ``worker_ready`` receiver: a worker coming up (after an outage too) sends what
    waited in the outbox."""
    from integrations.webhooks.tasks import sweep

    sweep.delay()


def _enqueue(task, what: str) -> bool:
    try:
        task.apply_async(retry=False)  # fail fast rather than hold up the caller
    except Exception:  # kombu raises transport-specific errors when the broker is down
        logger.warning("Broker unavailable; %s wait for the sweep.", what)
        return False
    return True
