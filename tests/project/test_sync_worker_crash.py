"""A sync whose worker is killed (SIGKILL) in the middle of its import: the import resumes
from its checkpoint on the next worker, the next run completes the interrupted one, and no
record is duplicated.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import os
import signal
from datetime import timedelta

import pytest
from django.db.models import Count
from django.utils import timezone

from customers.models import Contact
from integrations.connectors.tasks import sync_connection
from integrations.models import ImportJob, JobStatus, SyncRun
from integrations.services import sync
from tests.workers import celery_worker, wait_for

ROWS = 30_000
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_sync_killed_mid_import_resumes_and_completes_without_duplicates(settings, tmp_path):
    settings.IMPORT_CHUNK_SIZE = 500
    settings.IMPORT_HEARTBEAT_STALE_SECONDS = 2
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    worker_env = {"IMPORT_CHUNK_SIZE": "500", "IMPORT_HEARTBEAT_STALE_SECONDS": "2"}
    worker_env["CONNECTOR_FILE_ROOTS"] = str(tmp_path)
    drop = tmp_path / "drop"
    drop.mkdir()
    with (drop / "people.csv").open("w") as out:
        out.write("external_id,first_name,email\n")
        for n in range(ROWS):
            out.write(f"k-{n},Name{n},k{n}@example.com\n")
    connection = sync.connection_create(
        name="Drop", connector="file", config={"folder": str(drop)}, resource="contacts"
    )

    with celery_worker(tmp_path / "first.log", extra_env=worker_env) as queue:
        sync_connection.apply_async(args=[connection.pk], queue=queue)
        job = wait_for(
            lambda: (
                ImportJob.objects.filter(sync_run__connection=connection, checkpoint__gt=0)
                .order_by("id")
                .first()
            ),
            timeout=120,
        )
        os.kill(celery_worker.last_pid, signal.SIGKILL)

    interrupted = SyncRun.objects.get(connection=connection)
    assert interrupted.status == SyncRun.Status.RUNNING
    assert ImportJob.objects.get(pk=job.pk).status == JobStatus.RUNNING, "finished before kill"

    def heartbeat_is_stale() -> bool:
        age = timezone.now() - ImportJob.objects.get(pk=job.pk).heartbeat_at
        return age > timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)

    wait_for(heartbeat_is_stale, timeout=10)
    with celery_worker(tmp_path / "second.log", queue=queue, extra_env=worker_env):
        # the new worker resumes the import from its checkpoint on start
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).is_finished, timeout=180)
        # the next scheduled run settles the interrupted one, then runs itself
        sync_connection.apply_async(args=[connection.pk], queue=queue)
        wait_for(lambda: connection.runs.exclude(status="running").count() == 2, timeout=180)

    interrupted.refresh_from_db()
    assert (interrupted.status, interrupted.created) == ("succeeded", ROWS)
    rerun = connection.runs.exclude(pk=interrupted.pk).get()
    assert (rerun.status, rerun.created) == ("succeeded", 0)  # the file, again: all unchanged
    assert Contact.objects.count() == ROWS
    duplicated = Contact.objects.values("external_id").annotate(n=Count("id")).filter(n__gt=1)
    assert not duplicated.exists()
    assert [p.name for p in (drop / "done").iterdir()] == ["people.csv"]
