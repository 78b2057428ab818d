"""A file store that cannot be reached (S3 at a loopback port where nothing listens): each door
answers at once with a message saying so, and nothing is left half-made: no import job without
its file, no export "succeeded" without one, no traceback for the user."""

import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from customers.models import Contact
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from integrations.services import sync
from tests.factories import SalesUserFactory
from tests.integrations.s3_server import S3Server, free_loopback_port

pytestmark = pytest.mark.django_db

IMPORTS = "/api/v1/imports/"
PEOPLE = b"external_id,first_name,email\np-1,Wei,zhang.wei@example.cn\n"
UNAVAILABLE = "The file store cannot be reached just now. Try again in a few minutes."
UNAVAILABLE_ZH = "暂时无法访问文件存储。请几分钟后再试。"
BOUND_SECONDS = 5


def store_down(settings, bucket: str = "crm-files") -> None:
    """The default storage becomes S3 at a loopback port where nothing listens."""
    unreachable = S3Server(endpoint_url=f"http://127.0.0.1:{free_loopback_port()}")
    settings.STORAGES = {**settings.STORAGES, "default": unreachable.storage(bucket)}


@pytest.fixture
def unreachable_store(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    store_down(settings)


def people_csv() -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", PEOPLE, content_type="text/csv")


@pytest.mark.usefixtures("unreachable_store")
def test_an_import_upload_gets_a_503_at_once_and_no_job_is_left(api):
    started = time.monotonic()
    response = api.post(IMPORTS, {"file": people_csv(), "resource": "contacts"}, format="multipart")
    elapsed = time.monotonic() - started

    assert response.status_code == 503, response.content
    assert response.json() == {"code": "storage_unavailable", "message": UNAVAILABLE, "errors": {}}
    assert elapsed < BOUND_SECONDS
    assert ImportJob.objects.count() == 0


@pytest.mark.usefixtures("unreachable_store")
def test_the_503_speaks_the_clients_language(api):
    response = api.post(
        IMPORTS,
        {"file": people_csv(), "resource": "contacts"},
        format="multipart",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 503
    assert response.json()["message"] == UNAVAILABLE_ZH


@pytest.mark.usefixtures("unreachable_store")
def test_the_import_page_says_the_store_is_unreachable_and_keeps_nothing(client: Client):
    client.force_login(SalesUserFactory())

    response = client.post(
        reverse("web:import-new"), {"file": people_csv(), "resource": "contacts", "format": ""}
    )

    assert response.status_code == 422
    assert UNAVAILABLE in response.content.decode()
    assert client.session.get("crm_import_drafts", {}) == {}
    assert ImportJob.objects.count() == 0


def test_starting_an_import_from_the_wizard_while_the_store_is_down_keeps_the_draft(
    client: Client, settings, s3_bucket
):
    client.force_login(SalesUserFactory())
    uploaded = client.post(
        reverse("web:import-new"), {"file": people_csv(), "resource": "contacts", "format": ""}
    )
    map_page = uploaded["Location"]
    store_down(settings, s3_bucket)

    response = client.get(map_page, follow=True)

    assert UNAVAILABLE in response.content.decode()
    assert ImportJob.objects.count() == 0
    assert len(client.session["crm_import_drafts"]) == 1  # there to take up once it is back


def test_an_import_whose_file_cannot_be_read_fails_with_a_sentence(api, settings, s3_bucket):
    job = imports.import_create(
        user=None,
        file=SimpleUploadedFile("people.csv", PEOPLE),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )
    store_down(settings, s3_bucket)

    job = imports.import_run(job_id=job.pk)

    assert job.status == JobStatus.FAILED
    assert job.error_message == f"The uploaded file could not be read: {UNAVAILABLE}"
    assert Contact.objects.count() == 0


def test_an_export_that_cannot_store_its_file_fails_with_a_sentence(user, unreachable_store):
    Contact.objects.create(first_name="Wei", email="zhang.wei@example.cn", owner=user)
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )

    job = exports.export_run(job_id=job.pk)  # no exception: the job says what happened

    assert job.status == JobStatus.FAILED
    assert job.error_message == f"The export file could not be stored: {UNAVAILABLE}"
    assert not job.file


def test_downloading_an_export_while_the_store_is_down_gets_a_503(api, user, settings, s3_bucket):
    job = exports.export_create(
        user=user, resource="contacts", format="json", filters={}, include_pii=False, enqueue=False
    )
    exports.export_run(job_id=job.pk)
    store_down(settings, s3_bucket)

    response = api.get(f"/api/v1/exports/{job.pk}/download/")

    assert response.status_code == 503, response.content
    assert response.json() == {"code": "storage_unavailable", "message": UNAVAILABLE, "errors": {}}


@pytest.mark.usefixtures("unreachable_store")
def test_the_admin_add_form_says_the_store_is_unreachable_and_keeps_nothing(client: Client):
    client.force_login(SalesUserFactory())
    data = {"file": people_csv(), "resource": "contacts", "format": "", "mode": "upsert"}
    data |= {"match_key": "external_id", "mapping": ""}

    response = client.post(reverse("admin:integrations_importjob_add"), data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [UNAVAILABLE]
    assert ImportJob.objects.count() == 0


@pytest.mark.usefixtures("unreachable_store")
def test_the_import_command_fails_with_the_sentence(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(PEOPLE)

    with pytest.raises(CommandError, match=UNAVAILABLE):
        call_command("import_data", str(path), "--resource", "contacts", stdout=io.StringIO())

    assert ImportJob.objects.count() == 0


@pytest.mark.usefixtures("unreachable_store")
def test_a_connector_sync_whose_file_cannot_be_stored_fails_with_the_sentence(tmp_path, settings):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "people.csv").write_bytes(PEOPLE)
    settings.CONNECTOR_FILE_ROOTS = [str(drop)]
    connection = sync.connection_create(
        name="Drop",
        connector="file",
        config={"folder": str(drop)},
        resource="contacts",
        mode="upsert",
        match_key="external_id",
        mapping={},
    )

    run = sync.sync_run(connection.pk)

    assert (run.status, run.error_message) == ("failed", UNAVAILABLE)
    assert ImportJob.objects.count() == 0
    assert (drop / "people.csv").exists()  # not set aside: the next run reads it again


def test_a_job_row_that_cannot_be_saved_takes_its_stored_file_with_it(s3_server, s3_bucket):
    never_saved = SalesUserFactory.build()  # a job cannot point at a user with no row

    with pytest.raises(ValueError, match="unsaved related object"):
        imports.import_create(
            user=never_saved,
            file=io.BytesIO(PEOPLE),
            filename="people.csv",
            resource="contacts",
            may_look_up_pii=True,
            may_create_related=True,
            enqueue=False,
        )

    assert ImportJob.objects.count() == 0
    assert s3_server.keys(s3_bucket) == []
