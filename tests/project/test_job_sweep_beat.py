"""The job sweep under celery beat, through real processes: a job whose publish was lost
while a worker was already running is published by beat's sweep and run once.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import io

import pytest

from customers.models import Contact
from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from tests.workers import celery_beat, celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ENV = {"JOB_SWEEP_INTERVAL_SECONDS": "1"}


def test_beat_publishes_a_job_whose_message_was_lost_after_the_worker_started(tmp_path):
    with celery_worker(tmp_path / "worker.log", extra_env=ENV) as queue:
        lost = imports.import_create(  # as if the broker had refused its message
            user=None,
            file=io.BytesIO(b"external_id,first_name\nb-1,Ann\nb-2,Bo\n"),
            filename="people.csv",
            resource="contacts",
            enqueue=False,
        )
        with celery_beat(tmp_path / "beat.log", queue=queue, extra_env=ENV):
            wait_for(lambda: ImportJob.objects.get(pk=lost.pk).is_finished, timeout=90)

    lost.refresh_from_db()
    assert (lost.status, lost.rows_created) == (JobStatus.SUCCEEDED, 2)
    assert Contact.objects.count() == 2
