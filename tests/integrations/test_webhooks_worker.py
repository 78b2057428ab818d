"""Webhooks through real processes: writes made by another process reach a receiver through a
real Celery worker right after their commit, and writes made while the broker is unreachable
still succeed and are all delivered once a worker is back.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings

from crm_project import queues
from customers.models import ChangeEvent
from tests import workers
from tests.integrations.test_webhooks import Receiver
from tests.workers import BASE_DIR, celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

WORKER_ENV = {"OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8", "WEBHOOK_RETRY_SCHEDULE": "1,1,1"}
DEAD_BROKER = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def write_contacts_in_another_process(count: int, *, broker: str, queue: str) -> str:
    """What a web process does: write through the services, commit, trigger the relay."""
    script = textwrap.dedent(
        f"""
        import django
        django.setup()
        from customers.services import contacts
        from customers.actors import SYSTEM
        for n in range({count}):
            contacts.contact_create(actor=SYSTEM, first_name=f"Writer{{n}}", external_id=f"W-{{n}}")
        print("written")
        """
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm_project.settings",
        "DATABASE_URL": workers.test_database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_QUEUE_PREFIX": queue.removesuffix(queues.DEFAULT_QUEUE),
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
        "SECRET_KEY": settings.SECRET_KEY,
        "CRM_VAR_DIR": str(settings.VAR_DIR),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "written" in done.stdout
    return done.stderr


@pytest.fixture
def receiver(tmp_path, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    running = Receiver(tmp_path, failures=1)  # the first attempt of each delivery gets a 500
    yield running
    running.stop()


def test_a_write_in_another_process_reaches_the_receiver_through_a_worker(receiver, tmp_path):
    receiver.subscribe(events=["contact.created"])

    with celery_worker(tmp_path / "worker.log", extra_env=WORKER_ENV) as queue:
        write_contacts_in_another_process(3, broker=settings.CELERY_BROKER_URL, queue=queue)
        wait_for(lambda: len([r for r in receiver.received() if r["status"] == 204]) == 3)

    got = receiver.received()
    assert all(request["signature_ok"] for request in got)
    delivered = {r["delivery"]: r["body"]["external_id"] for r in got if r["status"] == 204}
    retried = {r["delivery"] for r in got if r["status"] == 500}
    assert sorted(delivered.values()) == ["W-0", "W-1", "W-2"]
    assert retried == set(delivered)  # each was refused once, then sent again with its id


def test_writes_while_the_broker_is_down_succeed_and_are_delivered_when_it_is_back(
    receiver, tmp_path
):
    receiver.subscribe(events=["contact.created"])

    warnings = write_contacts_in_another_process(4, broker=DEAD_BROKER, queue="unused")

    assert "Broker unavailable" in warnings
    assert ChangeEvent.objects.filter(type="contact.created").count() == 4
    assert receiver.received() == []
    with celery_worker(tmp_path / "worker.log", extra_env=WORKER_ENV):  # sweeps on start
        wait_for(lambda: len({r["delivery"] for r in receiver.received()}) == 4, timeout=60)
        wait_for(lambda: len([r for r in receiver.received() if r["status"] == 204]) == 4)

    ids = sorted(r["body"]["external_id"] for r in receiver.received() if r["status"] == 204)
    assert ids == ["W-0", "W-1", "W-2", "W-3"]
