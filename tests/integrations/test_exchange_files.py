"""Retention: files of finished import and export jobs are deleted after the retention period;
the jobs, their counts and their row errors stay."""

import io
import stat
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.utils import timezone

from integrations.exports import services as exports
from integrations.models import ExportJob, ImportJob, ImportRowError, JobStatus
from integrations.services.exchange_files import exchange_files_purge, private_folder
from integrations.tasks import purge_exchange_files
from tests.factories import SalesUserFactory
from tests.integrations.support import client_for, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EXCHANGE_FILE_RETENTION_DAYS = 7


def finished_import(days_ago: float) -> ImportJob:
    job = run_import("first_name,email\nA,a@example.com\nB,bad\n", filename="people.csv")
    finished = timezone.now() - timedelta(days=days_ago)
    ImportJob.objects.filter(pk=job.pk).update(finished_at=finished)
    return ImportJob.objects.get(pk=job.pk)


def finished_export(days_ago: float, status: str = JobStatus.SUCCEEDED) -> ExportJob:
    job = ExportJob(resource="contacts", format="csv", status=status)
    job.file.save("contacts.csv", ContentFile(b"id,email\n1,a@example.com\n"), save=False)
    job.finished_at = timezone.now() - timedelta(days=days_ago)
    job.save()
    return job


def stored(job) -> bool:
    return job.file.storage.exists(job.file.name)


def test_expired_files_are_deleted_and_the_jobs_keep_their_counts():
    old_import, new_import = finished_import(8), finished_import(6)
    old_export, new_export = finished_export(8), finished_export(1)

    result = exchange_files_purge()

    assert (result.imports, result.exports) == (1, 1)
    assert not stored(old_import) and not stored(old_export)
    assert stored(new_import) and stored(new_export)
    old_import.refresh_from_db()
    assert old_import.file_deleted_at is not None
    assert (old_import.rows_created, old_import.rows_failed) == (1, 1)
    assert ImportRowError.objects.filter(job=old_import).count() == 1
    assert ExportJob.objects.get(pk=old_export.pk).file_deleted_at is not None


def test_files_of_jobs_still_running_are_kept_however_old():
    running = finished_import(30)
    ImportJob.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)
    queued_export = finished_export(30, status=JobStatus.QUEUED)

    assert exchange_files_purge() == exchange_files_purge(retention_days=7)
    assert stored(running) and stored(queued_export)


def test_a_second_purge_finds_nothing_left_to_delete():
    finished_import(8)
    exchange_files_purge()

    again = exchange_files_purge()

    assert (again.imports, again.exports) == (0, 0)


def test_the_command_and_the_task_purge_with_the_setting_or_the_given_days(settings):
    job = finished_import(3)
    out = io.StringIO()

    call_command("purge_exchange_files", stdout=out)
    assert stored(job) and "Deleted 0 import file(s)" in out.getvalue()

    call_command("purge_exchange_files", "--days", "2", stdout=out)
    assert not stored(job) and "Deleted 1 import file(s), 0 export file(s)" in out.getvalue()

    settings.EXCHANGE_FILE_RETENTION_DAYS = 0
    export = finished_export(0.01)
    assert purge_exchange_files() == {"imports": 0, "exports": 1, "drafts": 0}
    assert not stored(export)


def test_downloading_a_purged_export_says_the_file_is_gone():
    user = SalesUserFactory()
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=False, enqueue=False
    )
    exports.export_run(job_id=job.pk)
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(days=8))
    api = client_for(user)
    assert api.get(f"/api/v1/exports/{job.pk}/download/").status_code == 200

    exchange_files_purge()
    response = api.get(f"/api/v1/exports/{job.pk}/download/")

    assert response.status_code == 404
    assert "no longer stored" in response.json()["message"]


def test_a_private_folder_and_every_parent_it_creates_are_owner_only(tmp_path):
    made = private_folder(tmp_path / "media" / "exports" / "heartbeats")

    assert made.is_dir()
    for folder in (made, made.parent, made.parent.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
