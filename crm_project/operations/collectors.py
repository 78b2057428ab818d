"""Metrics read at scrape time from the database and the broker: Celery queue depths, import
throughput, webhook delivery lag and failures, and how far the webhook relay trails the change
feed. A handful of indexed queries whatever the data's size (none reads contacts)."""

import logging
from collections.abc import Iterator

from amqp.exceptions import ChannelError
from django.conf import settings
from django.db import DatabaseError
from django.db.models import Max, Q, Sum
from django.utils import timezone
from kombu.exceptions import OperationalError
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from customers.models import ChangeEvent
from integrations.models import ImportJob, JobStatus
from integrations.services.change_feed import parse_cursor
from integrations.webhooks import delivery as webhook_delivery
from integrations.webhooks.models import RelayCursor, WebhookDelivery
from integrations.webhooks.services import RELAY

logger = logging.getLogger(__name__)

# Brokers whose queue depth is a cheap read (a list length, a folder listing).
_COUNTABLE_BROKERS = ("redis://", "rediss://", "filesystem://")


class CrmStateCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        depths = queue_depths()
        if depths is not None:
            gauge = GaugeMetricFamily(
                "crm_celery_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
            )
            for queue, depth in depths.items():
                gauge.add_metric([queue], depth)
            yield gauge
        try:
            # listed first: a database error mid-way must not leave half a scrape behind
            state = [*_imports(), *_webhooks(), *_change_feed()]
        except DatabaseError as error:
            # the request metrics are still served; the gap in these series shows the outage
            logger.warning("Database metrics not collected (%s).", type(error).__name__)
            return
        yield from state


def queue_names() -> list[str]:
    """The queues the workers consume: settings' CELERY_TASK_QUEUES (crm_project/queues.py),
    under CELERY_QUEUE_PREFIX."""
    return [queue.name for queue in settings.CELERY_TASK_QUEUES]


def queue_depths() -> dict[str, int] | None:
    """Each queue's waiting messages as kombu counts them (Redis: the lengths of the queue's
    lists, one per priority; filesystem: its message files); None for another broker, or one
    that does not answer within its connect timeout."""
    if not settings.CELERY_BROKER_URL.startswith(_COUNTABLE_BROKERS):
        return None
    from crm_project.celery import app

    depths = {}
    try:
        with app.connection_for_read() as connection:
            connection.ensure_connection(max_retries=0)
            channel = connection.default_channel
            for queue in queue_names():
                try:
                    depths[queue] = channel.queue_declare(queue, passive=True).message_count
                except ChannelError:  # Redis: no list yet is an empty queue
                    depths[queue] = 0
    except (OperationalError, OSError) as error:
        logger.warning("Queue depths not collected: broker unavailable (%s).", type(error).__name__)
        return None
    return depths


def _imports() -> Iterator[Metric]:
    now = timezone.now()
    running = ImportJob.objects.filter(status=JobStatus.RUNNING, started_at__isnull=False)
    rate = sum(
        processed / max((now - started).total_seconds(), 1.0)
        for processed, started in running.values_list("rows_processed", "started_at")
    )
    yield GaugeMetricFamily(
        "crm_import_rows_per_second",
        "Rows per second of the running imports, together (each: rows so far / time running).",
        value=rate,
    )
    total = ImportJob.objects.aggregate(rows=Sum("rows_processed"))["rows"] or 0
    yield CounterMetricFamily(
        "crm_import_rows_processed",
        "Rows processed by the import jobs on record (deleting a job lowers it).",
        value=total,
    )


def _webhooks() -> Iterator[Metric]:
    oldest_due = webhook_delivery.oldest_due_at()
    lag = (timezone.now() - oldest_due).total_seconds() if oldest_due else 0.0
    yield GaugeMetricFamily(
        "crm_webhook_delivery_lag_seconds",
        "How long the longest-waiting due delivery has waited (0: none is due).",
        value=max(lag, 0.0),
    )
    Status = WebhookDelivery.Status
    yield GaugeMetricFamily(
        "crm_webhook_deliveries_failed",
        "Deliveries given up (retries exhausted, or their owner may no longer read the record).",
        value=WebhookDelivery.objects.filter(status=Status.FAILED).count(),
    )
    yield GaugeMetricFamily(
        "crm_webhook_deliveries_retrying",
        "Deliveries waiting for a retry after a failed attempt.",
        value=WebhookDelivery.objects.filter(status=Status.PENDING, attempts__gt=0).count(),
    )


def _change_feed() -> Iterator[Metric]:
    cursor = RelayCursor.objects.filter(name=RELAY).values_list("cursor", flat=True).first()
    unrelayed = ChangeEvent.objects.all()
    if cursor:
        txid, event_id = parse_cursor(cursor)
        unrelayed = unrelayed.filter(Q(txid__gt=txid) | Q(txid=txid, id__gt=event_id))
    oldest = unrelayed.order_by("txid", "id").values_list("occurred_at", flat=True).first()
    lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    yield GaugeMetricFamily(
        "crm_change_feed_relay_lag_seconds",
        "Age of the oldest change event not yet relayed to webhooks (0: all relayed).",
        value=max(lag, 0.0),
    )
    newest = ChangeEvent.objects.aggregate(newest=Max("id"))["newest"] or 0
    yield GaugeMetricFamily(
        "crm_change_feed_newest_event_id", "Id of the newest change event.", value=newest
    )
