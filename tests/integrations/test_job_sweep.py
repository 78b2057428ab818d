"""The job sweep and the jobs' claims: a job whose message was lost is published again, and a
job published twice runs once. Tasks run in this process (Celery's eager mode: the real task
code, no broker); `tests/project/test_services_down.py` does the same through real processes."""

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from crm_project.celery import app as celery_app
from customers.models import Contact
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ExportJob, ImportJob, JobStatus
from integrations.services import job_sweep
from integrations.services.job_heartbeat import Heartbeat
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)

STALE_SECONDS = 2


@pytest.fixture(autouse=True)
def quick_heartbeats(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_HEARTBEAT_STALE_SECONDS = STALE_SECONDS


@pytest.fixture
def tasks_run_inline():
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def queued_import(*, age: timedelta) -> ImportJob:
    job = imports.import_create(
        user=None,
        file=io.BytesIO(b"external_id,first_name\ns-1,Ann\ns-2,Bo\n"),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def queued_export(*, age: timedelta) -> ExportJob:
    job = exports.export_create(
        user=None, resource="contacts", format="csv", filters={}, include_pii=False, enqueue=False
    )
    ExportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - age)
    return job


def running_export(*, started: timedelta) -> ExportJob:
    job = queued_export(age=started)
    ExportJob.objects.filter(pk=job.pk).update(
        status=JobStatus.RUNNING, started_at=timezone.now() - started
    )
    return job


def test_a_worker_start_publishes_every_job_left_queued_and_each_runs_once(tasks_run_inline):
    lost_import = queued_import(age=timedelta(minutes=5))
    lost_export = queued_export(age=timedelta(seconds=30))
    # created a moment before the worker started: its own message may be lost too, and a
    # second one is a no-op
    just_created = queued_export(age=timedelta(0))

    swept = job_sweep.sweep_queued_jobs()
    again = job_sweep.sweep_queued_jobs()

    assert swept == job_sweep.Swept(
        imports=[lost_import.pk], exports=[lost_export.pk, just_created.pk]
    )
    assert not again
    assert ImportJob.objects.get(pk=lost_import.pk).status == JobStatus.SUCCEEDED
    assert ExportJob.objects.get(pk=lost_export.pk).status == JobStatus.SUCCEEDED
    assert ExportJob.objects.get(pk=just_created.pk).status == JobStatus.SUCCEEDED
    assert Contact.objects.count() == 2


def test_under_beat_a_job_younger_than_the_grace_is_left_to_its_own_request(tasks_run_inline):
    just_created = queued_export(age=timedelta(0))

    assert not job_sweep.sweep_queued_jobs(interval_seconds=1)
    assert ExportJob.objects.get(pk=just_created.pk).status == JobStatus.QUEUED


@pytest.mark.parametrize(
    ("age_seconds", "published"),
    [(30, False), (90, True), (150, True), (200, False), (250, True), (400, False), (500, True)],
)
def test_under_beat_a_queued_job_is_published_at_1_2_4_8_intervals_of_its_age(
    tasks_run_inline, age_seconds, published
):
    job = queued_export(age=timedelta(seconds=age_seconds))

    swept = job_sweep.sweep_queued_jobs(interval_seconds=60)

    assert (swept.exports == [job.pk]) is published


def test_under_beat_a_job_queued_during_a_long_outage_goes_out_soon_after_the_broker_returns(
    tasks_run_inline,
):
    """No sweep runs while the broker is down (beat cannot send it): the first ones after an
    outage of two hours meet a job 130 intervals old, and it must not wait for 256."""
    job = queued_export(age=timedelta(minutes=130))
    published_at = None

    for tick in range(130, 130 + job_sweep.MAX_BACKOFF_INTERVALS):
        ExportJob.objects.filter(pk=job.pk).update(
            created_at=timezone.now() - timedelta(minutes=tick, seconds=1)
        )
        if job_sweep.sweep_queued_jobs(interval_seconds=60).exports == [job.pk]:
            published_at = tick
            break

    assert published_at is not None
    assert ExportJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED


def test_a_second_delivery_of_a_running_export_leaves_it_to_its_worker():
    ContactFactory()
    job = running_export(started=timedelta(0))  # another worker claimed it a moment ago

    exports.export_run(job_id=job.pk)

    job.refresh_from_db()
    assert (job.status, job.file.name, job.rows_written) == (JobStatus.RUNNING, "", 0)


def test_a_running_export_with_a_live_heartbeat_is_not_taken_for_stalled():
    job = running_export(started=timedelta(seconds=STALE_SECONDS * 5))

    with Heartbeat(job.pk, ExportJob):
        assert exports.stalled_export_ids() == []
        exports.export_run(job_id=job.pk)
        assert ExportJob.objects.get(pk=job.pk).status == JobStatus.RUNNING


def test_an_export_whose_worker_died_is_recovered_and_starts_over(tasks_run_inline):
    ContactFactory()
    job = running_export(started=timedelta(seconds=STALE_SECONDS * 5))  # no heartbeat since

    swept = job_sweep.recover_stalled_jobs()

    job.refresh_from_db()
    assert swept.exports == [job.pk]
    assert (job.status, job.rows_written) == (JobStatus.SUCCEEDED, 1)
