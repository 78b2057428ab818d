"""Waking the webhook tasks. A broker that is down must never fail the caller (a user's write
has committed already): the trigger is logged and skipped, and the periodic sweep, or the next
worker to start, sends what waited in the outbox."""

from integrations.queueing import enqueue
from integrations.webhooks import services
from integrations.webhooks.models import WebhookSubscription


def relay_after_commit(sender, count, **kwargs) -> None:
    """``customers.events.events_committed`` receiver."""
    if not WebhookSubscription.objects.filter(is_active=True).exists():
        return  # nobody listens (the sweep keeps the relay cursor current)
    if not services.request_relay():
        return  # a relay is queued and has not started: it will see these events too
    from integrations.webhooks.tasks import relay

    if not enqueue(relay, what=f"{count} events"):
        services.relay_started()  # nothing is queued after all: let the next commit ask


def deliver_soon() -> None:
    from integrations.webhooks.tasks import deliver_due

    enqueue(deliver_due, what="due deliveries")


def sweep_on_worker_start(sender, **kwargs) -> None:
    """celery ``worker_ready`` receiver: a worker coming up (after an outage too) sends what
    waited in the outbox."""
    from integrations.webhooks.tasks import sweep

    enqueue(sweep, what="the webhook sweep")
