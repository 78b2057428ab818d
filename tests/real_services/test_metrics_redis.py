"""Celery queue depths read from a real Redis broker at scrape time."""

import uuid

import pytest
import redis
from kombu import Exchange, Queue
from prometheus_client.parser import text_string_to_metric_families

from crm_project import queues
from crm_project.celery import app as celery_app

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"


@pytest.fixture
def routed_queue(settings):
    """The queues of this test's own, named as the settings name them (CELERY_QUEUE_PREFIX):
    the `imports` one is returned."""
    prefix = f"test-metrics-{uuid.uuid4().hex[:12]}-"
    settings.CELERY_TASK_QUEUES = [
        Queue(name, Exchange(name), routing_key=name) for name in queues.queue_names(prefix)
    ]
    name = prefix + "imports"
    yield name
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    broker.delete(*broker.keys(f"*{prefix}*"))  # the list and kombu's binding keys


def test_a_scrape_shows_the_messages_waiting_in_each_redis_queue(client, settings, routed_queue):
    settings.METRICS_TOKEN = TOKEN
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue(routed_queue)
        for number in range(3):
            queue.put({"number": number})
        queue.close()

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    depths = {
        sample.labels["queue"]: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
        if sample.name == "crm_celery_queue_depth"
    }
    prefix = routed_queue.removesuffix("imports")
    assert depths == {
        routed_queue: 3,
        **{prefix + name: 0 for name in ("crm", "exports", "syncs", "webhooks")},
    }
