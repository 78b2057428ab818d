"""The admin door of bulk jobs: an import started from the add form goes through the service;
jobs are watched read-only, cancelled by an action, and listed per user like the API."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integrations import tasks
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ExportJob, ImportJob, JobStatus
from tests.factories import ContactFactory, ManagerFactory, SalesUserFactory
from tests.integrations.support import Queued

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

IMPORT_LIST = reverse("admin:integrations_importjob_changelist")
IMPORT_ADD = reverse("admin:integrations_importjob_add")
EXPORT_LIST = reverse("admin:integrations_exportjob_changelist")


@pytest.fixture
def queued(monkeypatch) -> Queued:
    calls = Queued()
    monkeypatch.setattr(tasks.run_import, "apply_async", calls)
    return calls


@pytest.fixture
def sales(client):
    user = SalesUserFactory()
    client.force_login(user)
    return user


def new_job(user, content=b"first_name,email\nA,a@example.com\nB,bad\n") -> ImportJob:
    return imports.import_create(
        user=user, file=io.BytesIO(content), filename="p.csv", resource="contacts", enqueue=False
    )


def form(**overrides) -> dict:
    data = {
        "file": SimpleUploadedFile("p.csv", b"first_name,E-mail\nA,a@example.com\n"),
        "resource": "contacts",
        "format": "",
        "mode": "upsert",
        "match_key": "email",
        "mapping": "",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_add_form_asks_for_the_file_and_the_options(client, sales):
    response = client.get(IMPORT_ADD)

    assert response.status_code == 200
    fields = set(response.context["adminform"].form.fields)
    assert fields == {"file", "resource", "format", "mode", "match_key", "mapping"} | {
        "dry_run",
        "all_or_nothing",
    }


def test_the_add_form_starts_an_import_through_the_service(
    client, sales, queued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(IMPORT_ADD, form(mapping='{"E-mail": "email"}', dry_run="on"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    job = ImportJob.objects.get()
    assert (job.created_by, job.match_key, job.mapping, job.dry_run, job.format) == (
        sales,
        "email",
        {"E-mail": "email"},
        True,
        "csv",
    )
    assert queued == [job.pk]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"file": SimpleUploadedFile("x.csv", b"\x00\x01\x02binary" * 50)}, "file"),
        ({"mapping": '{"E-mail": "favourite_colour"}'}, "mapping"),
        ({"mapping": '["a"]'}, "mapping"),
        ({"resource": "companies"}, "match_key"),
        ({"file": None}, "file"),
    ],
)
def test_the_add_form_shows_the_services_errors_by_field(client, sales, queued, overrides, field):
    response = client.post(IMPORT_ADD, form(**overrides))

    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert ImportJob.objects.count() == 0 and queued == []


def test_a_jobs_page_shows_progress_and_its_row_errors_read_only(client, sales):
    job = imports.import_run(job_id=new_job(sales).pk)

    response = client.get(reverse("admin:integrations_importjob_change", args=[job.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "100.0%" in page and "Enter a valid email address." in page
    assert f"/api/v1/imports/{job.pk}/errors/?format=csv" in page
    assert 'name="_save"' not in page  # nothing to edit


def test_the_cancel_action_cancels_unfinished_jobs(client, sales):
    queued_job, finished = new_job(sales), imports.import_run(job_id=new_job(sales).pk)

    response = client.post(
        IMPORT_LIST,
        {"action": "cancel_selected", "_selected_action": [queued_job.pk, finished.pk]},
    )

    assert response.status_code == 302
    assert ImportJob.objects.get(pk=queued_job.pk).status == JobStatus.CANCELLED
    assert ImportJob.objects.get(pk=finished.pk).status == JobStatus.PARTIALLY_SUCCEEDED


def test_sales_see_their_own_imports_and_managers_everyones(client, sales):
    mine, theirs = new_job(sales), new_job(SalesUserFactory())

    listed = list(client.get(IMPORT_LIST).context["cl"].result_list)
    client.force_login(ManagerFactory())
    everyone = list(client.get(IMPORT_LIST).context["cl"].result_list)

    assert listed == [mine]
    assert everyone == [theirs, mine]


def test_running_jobs_cannot_be_deleted(client):
    client.force_login(ManagerFactory())
    running = new_job(None)
    ImportJob.objects.filter(pk=running.pk).update(status=JobStatus.RUNNING)

    response = client.get(reverse("admin:integrations_importjob_delete", args=[running.pk]))

    assert response.status_code == 403


def test_exports_are_listed_read_only_with_a_download_link(client, sales):
    ContactFactory()
    job = exports.export_create(
        user=sales, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )
    exports.export_run(job_id=job.pk)

    response = client.get(EXPORT_LIST)

    assert list(response.context["cl"].result_list) == [ExportJob.objects.get()]
    assert f"/api/v1/exports/{job.pk}/download/" in response.content.decode()
    assert client.get(reverse("admin:integrations_exportjob_add")).status_code == 403
