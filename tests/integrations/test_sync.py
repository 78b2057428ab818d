"""Connections and sync runs: configuration checked per connector with secrets kept encrypted,
schedules kept in celery beat's tables, and runs that import exactly what changed since the
saved cursor through the bulk import pipeline, recovering from an interrupted run without
duplicates."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection as db_connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers.models import Contact, UserPreference
from integrations.connectors import Connector
from integrations.connectors.base import DELETE_MARKER
from integrations.formats import Record
from integrations.models import Connection, ImportJob, JobStatus, SyncRun
from integrations.services import sync
from tests.factories import SalesUserFactory
from tests.integrations.test_connectors import api_config, contact
from tests.integrations.test_connectors import source as source  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allow_loopback")]
MAPPING = {"id": "external_id", "updated_at": None}


def make_connection(base_url: str, **overrides) -> Connection:
    options = {
        "name": "Legacy ERP",
        "connector": "rest_json",
        "config": api_config(base_url),
        "resource": "contacts",
        "mode": "upsert",
        "match_key": "external_id",
        "mapping": MAPPING,
    }
    return sync.connection_create(**{**options, **overrides})


# Configuration


def test_a_connection_keeps_its_secret_keys_encrypted_and_never_shows_them(source):  # noqa: F811
    _, base_url = source
    connection = make_connection(base_url)

    with db_connection.cursor() as cursor:
        cursor.execute("SELECT config, secrets FROM integrations_connection")
        config_column, secrets_column = cursor.fetchone()
    assert "secret-token" not in str(config_column) + secrets_column
    assert sync.stored_config(connection)["headers"] == {"Authorization": "Bearer secret-token"}
    assert sync.public_config(connection)["headers"] == sync.SECRET_PLACEHOLDER


def test_sending_the_placeholder_back_keeps_the_stored_secret(source):  # noqa: F811
    _, base_url = source
    connection = make_connection(base_url)
    shown = sync.public_config(connection)

    sync.connection_update(connection=connection, data={"config": {**shown, "timeout": 5}})

    connection.refresh_from_db()
    assert sync.stored_config(connection)["headers"] == {"Authorization": "Bearer secret-token"}
    assert connection.config["timeout"] == 5


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"config": {"url": "http://x.example/", "pages": 3}}, "config.pages"),
        ({"config": {}}, "config.url"),
        ({"connector": "telepathy"}, "connector"),
        ({"resource": "planets"}, "resource"),
        ({"resource": "companies", "match_key": "email"}, "match_key"),
        ({"mapping": {"id": "shoe_size"}}, "mapping"),
    ],
)
def test_a_bad_connection_is_refused_naming_what_is_wrong(overrides, field):
    with pytest.raises(ValidationError) as error:
        make_connection("http://127.0.0.1:9", **overrides)

    assert field in error.value.message_dict
    assert not Connection.objects.exists()


def test_names_are_unique():
    make_connection("http://127.0.0.1:9")

    with pytest.raises(ValidationError) as error:
        make_connection("http://127.0.0.1:9")

    assert "already exists" in " ".join(error.value.message_dict["name"])


def test_a_schedule_is_a_celery_beat_entry_that_follows_the_connection():
    connection = make_connection("http://127.0.0.1:9", schedule=sync.Schedule(every_seconds=900))
    task = PeriodicTask.objects.get(pk=connection.schedule_id)
    assert (task.task, json.loads(task.args), task.interval.every) == (
        "integrations.sync_connection",
        [connection.pk],
        900,
    )

    sync.connection_update(
        connection=connection, data={"schedule": sync.Schedule(crontab="*/15 2 * * 1-5")}
    )
    task.refresh_from_db()
    assert (task.interval, task.crontab.minute, task.crontab.day_of_week) == (None, "*/15", "1-5")

    sync.connection_update(connection=connection, data={"enabled": False})
    task.refresh_from_db()
    assert task.enabled is False

    sync.connection_delete(connection=connection)
    assert not PeriodicTask.objects.filter(pk=task.pk).exists()


# Runs


def test_a_run_imports_everything_then_only_what_changed(source):  # noqa: F811
    data_dir, base_url = source
    connection = make_connection(base_url)

    first = sync.sync_run(connection.pk)

    assert (first.status, first.fetched, first.created, first.updated) == ("succeeded", 7, 7, 0)
    assert Contact.objects.count() == 7
    assert Contact.objects.get(external_id="3").first_name == "名3"
    connection.refresh_from_db()
    assert connection.cursor == first.cursor_after == "2026-11-07T10:00:00Z"

    records = json.loads((data_dir / "contacts.json").read_text())
    records[2]["first_name"] = "改名"
    records[2]["updated_at"] = "2026-11-20T09:00:00Z"
    records.append(contact(8, "2026-11-21T09:00:00Z"))
    (data_dir / "contacts.json").write_text(json.dumps(records))
    second = sync.sync_run(connection.pk)

    assert (second.fetched, second.created, second.updated) == (2, 1, 1)
    assert second.cursor_before == "2026-11-07T10:00:00Z"
    assert Contact.objects.count() == 8
    assert Contact.objects.get(external_id="3").first_name == "改名"
    third = sync.sync_run(connection.pk)
    assert (third.status, third.fetched, third.import_job) == ("succeeded", 0, None)


def test_a_source_failure_fails_the_run_and_keeps_the_cursor(source):  # noqa: F811
    _, base_url = source
    wrong = api_config(base_url, headers={"Authorization": "Bearer wrong"})
    connection = make_connection(base_url, config=wrong)
    Connection.objects.filter(pk=connection.pk).update(cursor="2026-01-01")

    run = sync.sync_run(connection.pk)

    assert run.status == "failed" and "401" in run.error_message
    connection.refresh_from_db()
    assert connection.cursor == "2026-01-01"
    assert not Contact.objects.exists()


def test_a_source_failure_is_recorded_in_the_language_of_the_connection_s_creator(
    source,  # noqa: F811
):
    _, base_url = source
    creator = SalesUserFactory()
    UserPreference.objects.create(user=creator, language="zh-hans")
    wrong = api_config(base_url, headers={"Authorization": "Bearer wrong"})
    connection = make_connection(base_url, config=wrong, user=creator)

    run = sync.sync_run(connection.pk)

    assert run.status == "failed"
    assert "返回 401" in run.error_message and "answered" not in run.error_message


def test_invalid_records_are_reported_and_the_valid_ones_imported(source):  # noqa: F811
    data_dir, base_url = source
    records = json.loads((data_dir / "contacts.json").read_text())
    records[0]["email"] = "not-an-email"
    (data_dir / "contacts.json").write_text(json.dumps(records))
    connection = make_connection(base_url)

    run = sync.sync_run(connection.pk)

    assert (run.status, run.created, run.failed) == ("partially_succeeded", 6, 1)
    error = run.import_job.row_errors.get()
    assert error.field == "email"


def test_a_drop_folder_is_imported_and_its_files_moved_aside(tmp_path, settings):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text(
        "external_id,first_name,email\nF-1,伟,wei@example.com\n", encoding="utf-8"
    )
    connection = make_connection("", connector="file", config={"folder": str(tmp_path)}, mapping={})

    run = sync.sync_run(connection.pk)

    assert (run.status, run.created) == ("succeeded", 1)
    assert Contact.objects.get(external_id="F-1").first_name == "伟"
    assert [p.name for p in (tmp_path / "done").iterdir()] == ["people.csv"]


def test_a_drop_folder_no_longer_inside_the_roots_fails_the_run_and_reads_nothing(
    tmp_path, settings
):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text("external_id,first_name\nF-1,伟\n", encoding="utf-8")
    connection = make_connection("", connector="file", config={"folder": str(tmp_path)}, mapping={})
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path / "elsewhere")]

    run = sync.sync_run(connection.pk)

    assert run.status == "failed" and "CONNECTOR_FILE_ROOTS" in run.error_message
    assert not Contact.objects.exists()
    assert (tmp_path / "people.csv").exists()


def test_a_run_interrupted_after_its_import_finished_is_completed_by_the_next_one(source):  # noqa: F811
    _, base_url = source
    connection = make_connection(base_url)
    first = sync.sync_run(connection.pk)
    # As if the worker died between the import's end and the run's: reopen it.
    SyncRun.objects.filter(pk=first.pk).update(status="running", finished_at=None)
    Connection.objects.filter(pk=connection.pk).update(cursor="")

    second = sync.sync_run(connection.pk)

    first.refresh_from_db()
    assert first.status == "succeeded"
    assert second.cursor_before == "2026-11-07T10:00:00Z"  # the settled run moved the cursor
    assert (second.fetched, Contact.objects.count()) == (0, 7)


def test_no_second_run_starts_while_an_import_is_still_going(source):  # noqa: F811
    _, base_url = source
    connection = make_connection(base_url)
    first = sync.sync_run(connection.pk)
    SyncRun.objects.filter(pk=first.pk).update(status="running")
    ImportJob.objects.filter(pk=first.import_job_id).update(status=JobStatus.RUNNING)

    assert sync.sync_run(connection.pk) is None
    assert connection.runs.count() == 1


def test_a_fetch_left_hanging_is_failed_after_the_stale_time_and_a_new_run_starts(
    source,  # noqa: F811
    settings,
):
    _, base_url = source
    connection = make_connection(base_url)
    hanging = SyncRun.objects.create(
        connection=connection, started_at=timezone.now() - timedelta(hours=2)
    )
    settings.SYNC_STALE_SECONDS = 3600

    run = sync.sync_run(connection.pk)

    hanging.refresh_from_db()
    assert hanging.status == "failed" and "Interrupted" in hanging.error_message
    assert (run.status, run.created) == ("succeeded", 7)


def test_a_disabled_connection_does_not_run(source):  # noqa: F811
    _, base_url = source
    connection = make_connection(base_url, enabled=False)

    assert sync.sync_run(connection.pk) is None
    assert not Contact.objects.exists()


class AwkwardConnector(Connector):
    """Yields one usable record, a deletion that names nothing, and a value JSON cannot hold."""

    name = "awkward"

    def records(self, cursor):
        yield Record(1, {"external_id": "A-1", "first_name": "好"})
        yield Record(2, {DELETE_MARKER: True})
        yield Record(3, {"external_id": "A-3", "first_name": {"a", "set"}})
        return "done"


def test_records_a_connector_gets_wrong_are_reported_and_the_rest_imported(settings):
    settings.CRM_CONNECTORS = {"awkward": f"{__name__}.AwkwardConnector"}
    connection = make_connection("", connector="awkward", config={}, mapping={})

    run = sync.sync_run(connection.pk)

    assert (run.status, run.created, run.failed) == ("partially_succeeded", 1, 2)
    assert [error["record"] for error in run.source_errors] == [2, 3]
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["A-1"]


def test_a_scheduled_message_delivered_again_starts_no_second_run_and_the_next_one_does(
    tmp_path, settings
):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text("external_id,first_name\nF-1,Ann\n", encoding="utf-8")
    connection = make_connection("", connector="file", config={"folder": str(tmp_path)}, mapping={})

    first = sync.sync_run(connection.pk, message_id="beat-tick-1")
    again = sync.sync_run(connection.pk, message_id="beat-tick-1")
    next_tick = sync.sync_run(connection.pk, message_id="beat-tick-2")

    assert (first.status, first.created) == ("succeeded", 1)
    assert again is None
    assert next_tick is not None and next_tick.pk != first.pk
    assert connection.runs.count() == 2


def test_a_scheduled_message_that_took_a_queued_run_starts_nothing_when_delivered_again(
    tmp_path, settings
):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text("external_id,first_name\nF-1,Ann\n", encoding="utf-8")
    connection = make_connection("", connector="file", config={"folder": str(tmp_path)}, mapping={})
    queued = SyncRun.objects.create(connection=connection, status=SyncRun.Status.QUEUED)

    taken = sync.sync_run(connection.pk, message_id="beat-tick-1")
    again = sync.sync_run(connection.pk, message_id="beat-tick-1")

    assert taken.pk == queued.pk and again is None
    assert connection.runs.count() == 1
