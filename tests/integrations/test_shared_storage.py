"""With STORAGE_URL=s3://…, every file a job keeps lives in the bucket, not on the machine that
took it: uploads, export files, wizard drafts, and their purge. Against a real S3-speaking
server (moto's, on loopback); the worker on "another machine" is a real process with a
MEDIA_ROOT of its own."""

import csv
import io
import json
from datetime import timedelta
from xml.etree import ElementTree

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from customers.models import Contact
from integrations import tasks
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ExportJob, ImportJob, JobStatus
from integrations.scopes import ALL_SCOPES, PII_READ
from integrations.services.exchange_files import exchange_files_purge
from tests.integrations.support import Queued, client_for
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/imports/"
EXPORTS = "/api/v1/exports/"
PEOPLE = (
    "external_id,first_name,email\n"
    "p-1,Wei,zhang.wei@example.cn\n"
    "p-2,Ann,not-an-email\n"
    "p-3,Bo,bo@example.com\n"
)


@pytest.fixture
def queued_imports(monkeypatch) -> Queued:
    calls = Queued()
    monkeypatch.setattr(tasks.run_import, "apply_async", calls)
    return calls


def upload_through_rest(api, content: str = PEOPLE, name: str = "people.csv"):
    file = SimpleUploadedFile(name, content.encode(), content_type="text/csv")
    return api.post(IMPORTS, {"file": file, "resource": "contacts"}, format="multipart")


def local_files(settings) -> list:
    root = settings.MEDIA_ROOT
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_an_upload_through_rest_lands_in_the_bucket_and_not_on_local_disk(
    api, s3_server, s3_bucket, settings, queued_imports
):
    response = upload_through_rest(api)

    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert s3_server.keys(s3_bucket) == [job.file.name]
    assert job.file.name.startswith("imports/")
    assert s3_server.read(s3_bucket, job.file.name) == PEOPLE.encode()
    assert local_files(settings) == []


def test_an_import_runs_from_the_bucket_with_exact_counts(api, s3_bucket, queued_imports):
    job_id = upload_through_rest(api).json()["id"]

    job = imports.import_run(job_id=job_id)

    assert (job.status, job.rows_created, job.rows_failed) == (JobStatus.PARTIALLY_SUCCEEDED, 2, 1)
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == ["p-1", "p-3"]


def test_two_uploads_of_the_same_name_never_overwrite_each_other(api, s3_server, s3_bucket):
    first = upload_through_rest(api, PEOPLE).json()["id"]
    second = upload_through_rest(api, "external_id,first_name\nq-1,Qi\n").json()["id"]

    names = [ImportJob.objects.get(pk=pk).file.name for pk in (first, second)]
    assert names[0] != names[1]
    assert s3_server.keys(s3_bucket) == sorted(names)
    assert s3_server.read(s3_bucket, names[0]) == PEOPLE.encode()


def test_an_export_file_is_written_to_the_bucket_and_downloads_through_the_api(
    api, user, s3_server, s3_bucket, settings
):
    Contact.objects.create(first_name="Wei", email="zhang.wei@example.cn", owner=user)
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )

    job = exports.export_run(job_id=job.pk)

    assert job.status == JobStatus.SUCCEEDED
    assert s3_server.keys(s3_bucket, "exports/") == [job.file.name]
    assert local_files(settings) == []
    download = api.get(f"{EXPORTS}{job.pk}/download/?bom=false")
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert int(download["Content-Length"]) == len(body)
    rows = list(csv.DictReader(io.StringIO(body.decode())))
    assert [(row["first_name"], row["email"]) for row in rows] == [("Wei", "zhang.wei@example.cn")]


@pytest.mark.parametrize("format", ["json", "xml", "csv"])
def test_the_error_report_of_an_upload_in_the_bucket_masks_pii_for_a_reader_without_rights(
    user, s3_bucket, queued_imports, format
):
    job_id = upload_through_rest(
        client_for(user), "external_id,first_name,email,phone\np-1,Wei,wei@example.cn,call me\n"
    ).json()["id"]
    imports.import_run(job_id=job_id)
    reader = client_for(user, scopes=[scope for scope in ALL_SCOPES if scope != PII_READ])

    response = reader.get(f"{IMPORTS}{job_id}/errors/?format={format}")

    assert response.status_code == 200, response.content
    body = b"".join(response.streaming_content) if response.streaming else response.content
    text = body.decode("utf-8-sig")
    assert "wei@example.cn" not in text
    assert "w***@example.cn" in text
    if format == "json":
        (problem,) = json.loads(text)["results"]
        assert problem["field"] == "phone"
    elif format == "xml":
        assert ElementTree.fromstring(text).find(".//field").text == "phone"
    else:
        header = next(csv.reader(io.StringIO(text)))
        assert header[:4] == ["external_id", "first_name", "email", "phone"]


def test_the_retention_purge_deletes_expired_files_from_the_bucket(
    api, user, s3_server, s3_bucket, queued_imports
):
    old_import = imports.import_run(job_id=upload_through_rest(api).json()["id"])
    fresh_import = imports.import_run(job_id=upload_through_rest(api).json()["id"])
    old_export = exports.export_run(
        job_id=exports.export_create(
            user=user,
            resource="contacts",
            format="json",
            filters={},
            include_pii=False,
            enqueue=False,
        ).pk
    )
    long_ago = timezone.now() - timedelta(days=30)
    ImportJob.objects.filter(pk=old_import.pk).update(finished_at=long_ago)
    ExportJob.objects.filter(pk=old_export.pk).update(finished_at=long_ago)

    result = exchange_files_purge(retention_days=7)

    assert (result.imports, result.exports) == (1, 1)
    assert s3_server.keys(s3_bucket) == [fresh_import.file.name]
    old_import.refresh_from_db()
    assert old_import.file_deleted_at is not None


def test_an_abandoned_wizard_upload_is_purged_from_the_bucket(s3_server, s3_bucket):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from integrations.services.exchange_files import IMPORT_DRAFTS_FOLDER, import_drafts_purge

    default_storage.save(f"{IMPORT_DRAFTS_FOLDER}/token-people.csv", ContentFile(b"a\n1\n"))

    assert import_drafts_purge(now=timezone.now() + timedelta(days=2)) == 1
    assert s3_server.keys(s3_bucket) == []


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_worker_on_another_machine_runs_an_upload_it_never_saw_on_disk(
    api, s3_server, s3_bucket, settings, tmp_path
):
    """The worker's MEDIA_ROOT is a folder of its own (and so is its CRM_VAR_DIR when the
    broker is not the filesystem one, which lives in CRM_VAR_DIR): it can only read the
    upload from the bucket."""
    other_machine = tmp_path / "other-machine"
    worker_env = {**s3_server.environment(s3_bucket), "MEDIA_ROOT": str(other_machine / "media")}
    if not settings.CELERY_BROKER_URL.startswith("filesystem://"):
        worker_env["CRM_VAR_DIR"] = str(other_machine)
    rows = 500
    content = "external_id,first_name,email\n" + "".join(
        f"w-{n},Name{n},{'bad' if n % 100 == 0 else f'p{n}@example.com'}\n" for n in range(rows)
    )
    with celery_worker(tmp_path / "worker.log", extra_env=worker_env) as queue:
        settings.CELERY_TASK_DEFAULT_QUEUE = queue
        response = upload_through_rest(api, content)
        assert response.status_code == 202, response.content
        job_id = response.json()["id"]
        wait_for(lambda: ImportJob.objects.get(pk=job_id).is_finished, timeout=90)

    job = ImportJob.objects.get(pk=job_id)
    assert (job.status, job.error_message) == (JobStatus.PARTIALLY_SUCCEEDED, "")
    assert (job.rows_created, job.rows_failed) == (rows - rows // 100, rows // 100)
    assert Contact.objects.count() == rows - rows // 100
    assert local_files(settings) == []
    assert [path for path in other_machine.rglob("*") if path.is_file()] == []
