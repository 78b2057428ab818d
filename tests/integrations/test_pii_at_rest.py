"""Personal data the system keeps for itself is encrypted at rest and shown to each reader as
the records are: idempotency records (the first response of a keyed POST) and rejected import
rows (the error report), both covered by key rotation; idempotency records purged after the
key's lifetime; import uploads and export files readable by their owner only."""

import csv
import io
import os
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from customers.actors import SYSTEM
from customers.services.custom_fields import custom_field_create
from customers.services.encryption import rotate_encryption_keys
from integrations import tasks
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ExportJob, IdempotencyRecord, ImportJob, ImportRowError
from integrations.scopes import ALL_SCOPES
from integrations.services import idempotency
from tests.factories import UserFactory
from tests.integrations.support import Queued, client_for

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
IMPORTS = "/api/v1/imports/"
EMAIL, PHONE, ADDRESS = "marker.rest@example.org", "+86 139 1234 5678", "88 Marker Road, 西安"
PERSON = {"first_name": "Mei", "email": EMAIL, "phone": PHONE, "address": ADDRESS}
# The second row is rejected for its lifecycle stage, so its PII is kept for the report.
REJECTED_FILE = (
    "First Name,E-mail,Mobile,Address,Lifecycle,Notes,Private Remark\n"
    "Good,good@example.org,+86 138 0000 0001,1 Good Road,lead,fine,\n"
    f'Bad,{EMAIL},{PHONE},"{ADDRESS}",zombie,kept note,secret remark\n'
)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def api_without_pii(user):
    return client_for(user, [scope for scope in ALL_SCOPES if scope != "pii:read"])


def raw_column(model, column: str) -> list[str]:
    """What the database file holds in a column, as text, past every field class."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT CAST({column} AS TEXT) FROM {model._meta.db_table}")
        return [row[0] or "" for row in cursor.fetchall()]


def assert_no_marker_in(texts: list[str]) -> None:
    for text in texts:
        assert EMAIL not in text and "marker.rest" not in text
        assert "1234 5678" not in text and "Marker Road" not in text


def run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch) -> int:
    monkeypatch.setattr(tasks.run_import, "delay", Queued())
    upload = SimpleUploadedFile("people.csv", REJECTED_FILE.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(IMPORTS, {"file": upload, "resource": "contacts"}, format="multipart")
    assert response.status_code == 202, response.content
    job = imports.import_run(job_id=response.json()["id"])
    assert (job.rows_created, job.rows_failed) == (1, 1)
    return job.pk


# --- idempotency records ------------------------------------------------------------------


def test_an_idempotent_post_stores_its_response_encrypted_and_still_replays_it(api):
    first = api.post(CONTACTS, PERSON, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    retry = api.post(CONTACTS, PERSON, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == retry.status_code == 201
    assert retry["Idempotent-Replayed"] == "true" and retry.json() == first.json()
    assert retry.json()["email"] == EMAIL
    assert_no_marker_in(raw_column(IdempotencyRecord, "response_data"))
    assert all(text.startswith("gAAAAA") for text in raw_column(IdempotencyRecord, "response_data"))


def test_an_idempotent_batch_stores_no_plaintext_even_where_a_record_is_rejected(api):
    body = {"records": [PERSON, {**PERSON, "email": f"not an email {EMAIL}"}], "atomic": False}

    first = api.post(f"{CONTACTS}batch/", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    retry = api.post(f"{CONTACTS}batch/", body, format="json", HTTP_IDEMPOTENCY_KEY="b-1")

    assert first.status_code == retry.status_code
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert_no_marker_in(raw_column(IdempotencyRecord, "response_data"))


def test_a_replay_answers_the_first_response_even_after_the_record_was_deleted(api):
    """Documented choice: the stored body is replayed as it was, not re-rendered."""
    first = api.post(CONTACTS, PERSON, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    api.delete(f"{CONTACTS}{first.json()['id']}/")

    retry = api.post(CONTACTS, PERSON, format="json", HTTP_IDEMPOTENCY_KEY="k-2")

    assert retry.status_code == 201 and retry.json() == first.json()


def test_records_older_than_the_key_lifetime_are_purged_and_younger_ones_kept(api, settings):
    settings.IDEMPOTENCY_KEY_TTL_HOURS = 24
    api.post(CONTACTS, {"first_name": "Old"}, format="json", HTTP_IDEMPOTENCY_KEY="old")
    api.post(CONTACTS, {"first_name": "New"}, format="json", HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - timedelta(hours=25)
    )

    purged = tasks.purge_idempotency_records()

    assert purged == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_the_purge_runs_every_night_under_beat():
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }

    purge = schedule["integrations.purge_idempotency_records"]

    assert purge.hour == {3} and len(purge.minute) == 1  # a crontab: once a day


def test_the_purge_service_leaves_live_keys(api):
    api.post(CONTACTS, {"first_name": "Live"}, format="json", HTTP_IDEMPOTENCY_KEY="live")

    assert idempotency.idempotency_records_purge() == 0
    assert IdempotencyRecord.objects.count() == 1


# --- rejected import rows -----------------------------------------------------------------


def test_rejected_import_rows_are_stored_encrypted(
    api, django_capture_on_commit_callbacks, monkeypatch
):
    run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)

    stored = raw_column(ImportRowError, '"values"')
    assert len(stored) == 1 and stored[0].startswith("gAAAAA")
    assert_no_marker_in(stored)
    assert "secret remark" not in stored[0]


def test_the_error_report_shows_pii_to_readers_who_may_see_it(
    api, django_capture_on_commit_callbacks, monkeypatch
):
    job_id = run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)

    values = api.get(f"{IMPORTS}{job_id}/errors/").json()["results"][0]["values"]
    report = api.get(f"{IMPORTS}{job_id}/errors/", {"format": "csv"})

    assert values["E-mail"] == EMAIL and values["Mobile"] == PHONE
    assert values["Address"] == ADDRESS and values["Private Remark"] == "secret remark"
    text = b"".join(report.streaming_content).decode()
    assert EMAIL in text and PHONE in text and ADDRESS in text


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_the_error_report_masks_pii_for_a_key_without_pii_read_in_every_format(
    fmt, api, api_without_pii, django_capture_on_commit_callbacks, monkeypatch
):
    job_id = run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)

    response = api_without_pii.get(f"{IMPORTS}{job_id}/errors/", {"format": fmt})

    assert response.status_code == 200, response.content
    content = (
        b"".join(response.streaming_content) if response.streaming else response.content
    ).decode()
    assert EMAIL not in content and "139 1234" not in content
    assert "Marker Road" not in content and "secret remark" not in content
    assert "m***@example.org" in content and "+86 *** **** 5678" in content
    assert "kept note" in content and "zombie" in content  # what is not PII stays readable


def test_the_web_error_report_masks_pii_for_a_user_without_view_pii(
    api, django_capture_on_commit_callbacks, monkeypatch
):
    job_id = run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)
    reader = UserFactory(username="no-pii")
    reader.user_permissions.add(*_permissions("integrations.view_importjob"))
    ImportJob.objects.filter(pk=job_id).update(created_by=reader)
    browser = Client()
    browser.force_login(reader)

    response = browser.get(reverse("web:import-errors", args=[job_id]))

    assert response.status_code == 200, response.content
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0]["E-mail"] == "m***@example.org"
    assert rows[0]["Mobile"] == "'+86 *** **** 5678"  # a formula-safe cell
    assert rows[0]["Address"] == "***" and rows[0]["Private Remark"] == "***"
    assert rows[0]["Notes"] == "kept note"


def test_a_pii_custom_field_column_is_masked_and_a_plain_one_shown(
    api, api_without_pii, django_capture_on_commit_callbacks, monkeypatch
):
    custom_field_create(
        actor=SYSTEM, entity="contact", name="id_card", type="text", pii=True, label="ID card"
    )
    custom_field_create(actor=SYSTEM, entity="contact", name="tier", type="text", label="Tier")
    monkeypatch.setattr(tasks.run_import, "delay", Queued())
    content = "first_name,lifecycle_stage,ID card,tier\nBad,zombie,610100199001011234,gold\n"
    upload = SimpleUploadedFile("cf.csv", content.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(IMPORTS, {"file": upload, "resource": "contacts"}, format="multipart")
    imports.import_run(job_id=created.json()["id"])

    values = api_without_pii.get(f"{IMPORTS}{created.json()['id']}/errors/").json()["results"]

    assert values[0]["values"]["ID card"] == "***" and values[0]["values"]["tier"] == "gold"


# --- key rotation ---------------------------------------------------------------------------


def test_key_rotation_reencrypts_idempotency_records_and_rejected_rows(
    api, settings, django_capture_on_commit_callbacks, monkeypatch
):
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    first = api.post(CONTACTS, PERSON, format="json", HTTP_IDEMPOTENCY_KEY="rot")
    job_id = run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), old_key]

    report = rotate_encryption_keys()
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS[:1]  # the old key dropped

    assert report.by_model["integrations.IdempotencyRecord"] == 1
    assert report.by_model["integrations.ImportRowError"] == 1
    retry = api.post(CONTACTS, PERSON, format="json", HTTP_IDEMPOTENCY_KEY="rot")
    assert retry.json() == first.json()
    values = api.get(f"{IMPORTS}{job_id}/errors/").json()["results"][0]["values"]
    assert values["E-mail"] == EMAIL


# --- files ------------------------------------------------------------------------------------


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_an_import_upload_and_an_export_file_are_readable_by_their_owner_only(
    api, user, django_capture_on_commit_callbacks, monkeypatch
):
    job_id = run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)
    export = ExportJob.objects.create(created_by=user, resource="contacts", format="csv")
    exports.export_run(job_id=export.pk)

    upload = settings.MEDIA_ROOT / ImportJob.objects.get(pk=job_id).file.name
    written = settings.MEDIA_ROOT / ExportJob.objects.get(pk=export.pk).file.name

    assert upload.is_file() and written.is_file()
    assert mode(upload) == mode(written) == 0o600
    for folder in (upload.parent, written.parent, upload.parent.parent, settings.MEDIA_ROOT):
        assert mode(folder) == 0o700, folder


def _permissions(*names: str):
    for name in names:
        app_label, codename = name.split(".")
        yield Permission.objects.get(content_type__app_label=app_label, codename=codename)


# --- the migration of rows written before ------------------------------------------------------


def migrate_to_the_latest() -> None:
    """Back to every app's newest migration: the tests after this one expect the whole schema
    (migrations added after the one under test included)."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_migration_encrypts_the_plaintext_rows_written_before_it(request):
    from django.db.migrations.executor import MigrationExecutor

    before = [("integrations", "0009_connection_name_error")]
    after = [("integrations", "0012_vacuum_plaintext_remains")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    old.get_model("integrations", "IdempotencyRecord").objects.create(
        owner="user:1", key="k", fingerprint="f", status_code=201, response_data={"email": EMAIL}
    )
    job = old.get_model("integrations", "ImportJob").objects.create(resource="contacts")
    old.get_model("integrations", "ImportRowError").objects.create(
        job_id=job.pk,
        row_number=2,
        field="email",
        message=f"Not an address: {EMAIL}.",
        values={"E-mail": EMAIL},
    )

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    request.addfinalizer(migrate_to_the_latest)

    assert_no_marker_in(raw_column(IdempotencyRecord, "response_data"))
    assert_no_marker_in(raw_column(ImportRowError, '"values"'))
    assert raw_column(ImportRowError, "message") == ["Not an address: ***."]
    if connection.vendor == "sqlite":  # nor anywhere in the file: no free page, no log frame
        database = Path(connection.settings_dict["NAME"])
        for path in (database, Path(f"{database}-wal")):
            assert not path.exists() or EMAIL.encode() not in path.read_bytes(), path
    assert IdempotencyRecord.objects.get().response_data == {"email": EMAIL}
    assert ImportRowError.objects.get().values == {"E-mail": EMAIL}


def test_a_message_quoting_a_bad_pii_value_is_stored_without_it(
    api, api_without_pii, django_capture_on_commit_callbacks, monkeypatch
):
    custom_field_create(
        actor=SYSTEM, entity="contact", name="birthday", type="date", pii=True, label="Birthday"
    )
    monkeypatch.setattr(tasks.run_import, "delay", Queued())
    content = "first_name,Birthday\nBad,1990/13/45\n"
    upload = SimpleUploadedFile("cf.csv", content.encode(), content_type="text/csv")
    with django_capture_on_commit_callbacks(execute=True):
        created = api.post(IMPORTS, {"file": upload, "resource": "contacts"}, format="multipart")
    imports.import_run(job_id=created.json()["id"])

    (problem,) = api.get(f"{IMPORTS}{created.json()['id']}/errors/").json()["results"]

    assert problem["field"] == "custom_fields.birthday"
    assert "1990/13/45" not in problem["message"] and "***" in problem["message"]
    assert problem["values"]["Birthday"] == "1990/13/45"  # the reader with PII rights sees it
    assert not any("1990/13/45" in text for text in raw_column(ImportRowError, "message"))


def test_the_admin_shows_a_rejected_rows_values_only_to_staff_who_may_read_pii(
    api, user, client, django_capture_on_commit_callbacks, monkeypatch
):
    job_id = run_rejecting_import(api, django_capture_on_commit_callbacks, monkeypatch)
    page = reverse("admin:integrations_importjob_change", args=[job_id])
    no_pii = UserFactory(username="staff-no-pii")
    no_pii.user_permissions.add(*_permissions("integrations.view_importjob"))
    with_pii = UserFactory(username="staff-pii")
    with_pii.user_permissions.add(
        *_permissions("integrations.view_importjob", "customers.view_pii")
    )
    ImportJob.objects.filter(pk=job_id).update(created_by=no_pii)

    client.force_login(no_pii)
    hidden = client.get(page)
    client.force_login(with_pii)
    ImportJob.objects.filter(pk=job_id).update(created_by=with_pii)
    shown = client.get(page)

    assert hidden.status_code == shown.status_code == 200
    assert "zombie" in hidden.content.decode() and EMAIL not in hidden.content.decode()
    assert EMAIL in shown.content.decode() and ADDRESS in shown.content.decode()


def test_wizard_uploads_abandoned_for_a_day_are_purged_nightly_and_fresh_ones_kept(settings):
    old = default_storage.save("import-drafts/old-people.csv", ContentFile(b"email\nx@y.org\n"))
    new = default_storage.save("import-drafts/new-people.csv", ContentFile(b"email\nz@y.org\n"))
    day_and_a_bit = (timezone.now() - timedelta(hours=25)).timestamp()
    os.utime(settings.MEDIA_ROOT / old, (day_and_a_bit, day_and_a_bit))

    result = tasks.purge_exchange_files()

    assert result["drafts"] == 1
    assert not default_storage.exists(old) and default_storage.exists(new)
    assert mode(settings.MEDIA_ROOT / new) == 0o600
