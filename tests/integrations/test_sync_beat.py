"""A scheduled sync through real processes: celery beat fires the connection's schedule, a real
worker runs it against the source server, and the next tick fetches only what changed.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import json

import pytest

from customers.models import Contact
from integrations.models import SyncRun
from integrations.services import sync
from tests.integrations.test_connectors import contact
from tests.integrations.test_connectors import source as source  # noqa: F401 (fixture)
from tests.integrations.test_sync import make_connection
from tests.workers import celery_beat, celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENV = {"OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8"}


def finished_runs(connection) -> list[SyncRun]:
    return list(connection.runs.exclude(status="running").order_by("id"))


def test_celery_beat_runs_the_schedule_and_each_run_takes_only_the_changes(
    source,  # noqa: F811
    tmp_path,
    settings,
):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    data_dir, base_url = source
    connection = make_connection(base_url, schedule=sync.Schedule(every_seconds=10))

    with (
        celery_worker(tmp_path / "worker.log", extra_env=ENV) as queue,
        celery_beat(tmp_path / "beat.log", queue=queue, extra_env=ENV),
    ):
        first = wait_for(lambda: finished_runs(connection), timeout=90)[0]
        assert (first.status, first.created) == ("succeeded", 7), first.error_message

        records = json.loads((data_dir / "contacts.json").read_text())
        records.append(contact(8, "2026-11-30T09:00:00Z"))
        (data_dir / "contacts.json").write_text(json.dumps(records))
        runs = wait_for(
            lambda: [run for run in finished_runs(connection) if run.fetched == 1],
            timeout=90,
        )

    assert (runs[0].status, runs[0].created, runs[0].updated) == ("succeeded", 1, 0)
    assert Contact.objects.count() == 8
    assert all(run.fetched in (0, 1, 7) for run in finished_runs(connection))
