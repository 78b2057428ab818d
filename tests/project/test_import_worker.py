"""Imports on a real Celery worker process, including one killed (SIGKILL) mid-job.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import io
import os
import signal
from datetime import timedelta

import pytest
from django.utils import timezone

from customers.models import Contact
from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from integrations.services.job_heartbeat import is_alive
from integrations.tasks import run_import
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.slow

ROWS = 30_000


def csv_file(rows: int) -> bytes:
    lines = ["external_id,first_name,email,phone"]
    lines += [f"x-{n},Name{n},p{n}@example.com,+86 138 {n:08d}" for n in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def create_job(rows: int) -> ImportJob:
    return imports.import_create(
        user=None,
        file=io.BytesIO(csv_file(rows)),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_runs_an_import(tmp_path):
    job = create_job(1_000)

    with celery_worker(tmp_path / "worker.log") as queue:
        run_import.apply_async(args=[job.pk], queue=queue)
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).is_finished, timeout=90)

    job.refresh_from_db()
    assert (job.status, job.rows_created) == (JobStatus.SUCCEEDED, 1_000)
    assert Contact.objects.count() == 1_000


@pytest.mark.django_db(transaction=True)
def test_a_killed_worker_is_recovered_without_duplicates(settings, tmp_path):
    settings.IMPORT_CHUNK_SIZE = 500
    settings.IMPORT_HEARTBEAT_STALE_SECONDS = 2
    worker_env = {"IMPORT_CHUNK_SIZE": "500", "IMPORT_HEARTBEAT_STALE_SECONDS": "2"}
    job = create_job(ROWS)

    with celery_worker(tmp_path / "first.log", extra_env=worker_env) as queue:
        run_import.apply_async(args=[job.pk], queue=queue)
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).checkpoint > 0, timeout=90)
        os.kill(celery_worker.last_pid, signal.SIGKILL)

    killed = ImportJob.objects.get(pk=job.pk)
    assert killed.status == JobStatus.RUNNING, "the import finished before the kill: add rows"
    assert 0 < killed.checkpoint < ROWS + 1

    # A new worker finds the job's heartbeat stale and resumes it from its checkpoint.
    def heartbeat_is_stale() -> bool:
        age = timezone.now() - ImportJob.objects.get(pk=job.pk).heartbeat_at
        return age > timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)

    wait_for(heartbeat_is_stale, timeout=10)
    with celery_worker(tmp_path / "second.log", queue=queue, extra_env=worker_env):
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).is_finished, timeout=180)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert Contact.objects.count() == ROWS
    assert job.rows_created == ROWS


@pytest.mark.django_db(transaction=True)
def test_a_killed_workers_import_is_resumed_by_a_worker_started_at_once(settings, tmp_path):
    """No beat runs here: the worker that starts right after the kill, while the job's
    heartbeat still looks alive, is the one that resumes it once the heartbeat is stale."""
    settings.IMPORT_CHUNK_SIZE = 500
    settings.IMPORT_HEARTBEAT_STALE_SECONDS = 8
    worker_env = {"IMPORT_CHUNK_SIZE": "500", "IMPORT_HEARTBEAT_STALE_SECONDS": "8"}
    job = create_job(ROWS)

    with celery_worker(tmp_path / "first.log", extra_env=worker_env) as queue:
        run_import.apply_async(args=[job.pk], queue=queue)
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).checkpoint > 0, timeout=90)
        os.kill(celery_worker.last_pid, signal.SIGKILL)

    with celery_worker(tmp_path / "second.log", queue=queue, extra_env=worker_env):
        assert is_alive(ImportJob.objects.get(pk=job.pk)), "stale already: raise the limit"
        wait_for(lambda: ImportJob.objects.get(pk=job.pk).is_finished, timeout=180)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert Contact.objects.count() == ROWS
    assert job.rows_created == ROWS
