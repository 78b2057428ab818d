"""``/api/v1/connections/`` and ``/api/v1/sync-runs/``: partners script their own integration.
Scopes and permissions, secrets write-only, configuration and schedule errors named by field,
run now (202 with the queued run, which the task then takes), and a test that reads the source
and writes nothing."""

import json

import pytest
from django.db import connection as db_connection
from django.urls import reverse
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from customers.actors import SYSTEM
from customers.models import Contact
from customers.services.custom_fields import custom_field_create
from integrations.connectors.tasks import sync_connection
from integrations.models import Connection, ImportJob, SyncRun
from integrations.services import sync
from tests.api.support import V1, assert_uniform_error
from tests.factories import ManagerFactory, SalesUserFactory
from tests.integrations.test_connectors import api_config
from tests.integrations.test_connectors import source as source  # noqa: F401 (fixture)
from tests.web.test_connections_ui import broker_down as broker_down  # noqa: F401 (fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]

SECRET = "secret-token"  # in api_config's Authorization header
SOURCE_URL = "https://erp.example.com"
READ_WRITE = ["integrations:read", "integrations:write"]


@pytest.fixture
def manager(db):
    return ManagerFactory(username="partner-admin")


@pytest.fixture
def partner(manager, make_api_client):
    """A key with both integrations scopes (and pii:read), for a manager."""
    return make_api_client(manager, [*READ_WRITE, "pii:read"])


def body(**overrides) -> dict:
    return {
        "name": "Legacy ERP",
        "connector": "rest_json",
        "resource": "contacts",
        "mode": "upsert",
        "match": "external_id",
        "config": api_config(SOURCE_URL),
        "mapping": {"id": "external_id", "updated_at": None},
        "schedule": {"every_minutes": 15},
        **overrides,
    }


def create(client, **overrides):
    return client.post(f"{V1}/connections/", body(**overrides), format="json")


def detail(pk: int) -> str:
    return f"{V1}/connections/{pk}/"


# Scopes and permissions


def test_a_read_key_lists_and_reads_but_every_write_is_403(manager, partner, make_api_client):
    created = create(partner).json()
    reader = make_api_client(manager, ["integrations:read"])

    assert reader.get(f"{V1}/connections/").json()["results"][0]["id"] == created["id"]
    assert reader.get(detail(created["id"])).status_code == 200
    assert reader.get(f"{V1}/sync-runs/").status_code == 200
    writes = [
        reader.post(f"{V1}/connections/", body(name="Other"), format="json"),
        reader.patch(detail(created["id"]), {"enabled": False}, format="json"),
        reader.post(f"{detail(created['id'])}run/"),
        reader.post(f"{detail(created['id'])}test/"),
        reader.delete(detail(created["id"])),
    ]
    for response in writes:
        body_ = assert_uniform_error(response, 403)
        assert "integrations:write" in body_["message"]
    assert Connection.objects.get().enabled and not SyncRun.objects.exists()


def test_a_key_without_integrations_scopes_gets_403_on_every_door(manager, make_api_client):
    client = make_api_client(manager, ["contacts:read", "contacts:write", "imports:write"])
    for response in (
        client.get(f"{V1}/connections/"),
        client.post(f"{V1}/connections/", body(), format="json"),
        client.get(f"{V1}/sync-runs/"),
    ):
        assert_uniform_error(response, 403)
    assert not Connection.objects.exists()


def test_a_sales_user_may_not_manage_connections_whatever_the_key_says(make_api_client):
    client = make_api_client(SalesUserFactory(), READ_WRITE)

    assert_uniform_error(client.get(f"{V1}/connections/"), 403)
    assert_uniform_error(create(client), 403)
    assert not Connection.objects.exists()


def test_without_credentials_the_answer_is_401(client):
    assert_uniform_error(client.get(f"{V1}/connections/"), 401)


# Secrets and configuration


def test_a_secret_is_write_only_whatever_reads_the_connection(partner):
    created = create(partner)
    assert created.status_code == 201, created.content
    pk = created.json()["id"]

    responses = [
        created,
        partner.get(f"{V1}/connections/"),
        partner.get(detail(pk)),
        partner.patch(detail(pk), {"name": "ERP"}, format="json"),
    ]

    for response in responses:
        assert SECRET not in response.content.decode()
    shown = partner.get(detail(pk)).json()
    assert shown["secret_keys"] == ["headers"] and "headers" not in shown["config"]
    assert created["Location"].endswith(detail(pk))
    assert sync.stored_config(Connection.objects.get())["headers"]["Authorization"].endswith(SECRET)


def test_a_patch_without_the_secret_keeps_it_and_null_removes_it(partner):
    pk = create(partner).json()["id"]
    config = {**api_config(SOURCE_URL), "timeout": 5}
    del config["headers"]

    changed = partner.patch(detail(pk), {"config": config}, format="json")

    assert changed.status_code == 200, changed.content
    connection = Connection.objects.get()
    assert sync.stored_config(connection)["headers"] == {"Authorization": f"Bearer {SECRET}"}
    assert connection.config["timeout"] == 5
    removed = partner.patch(detail(pk), {"config": {**config, "headers": None}}, format="json")
    assert removed.json()["secret_keys"] == []
    assert "headers" not in sync.stored_config(Connection.objects.get())


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"config": {**api_config(SOURCE_URL), "pages": 3}}, "config.pages"),
        ({"config": {"records_path": "data"}}, "config.url"),
        ({"config": api_config("ftp://erp.example.com")}, "config.url"),
        ({"config": api_config("http://169.254.169.254")}, "config.url"),
        ({"config": api_config("http://[::ffff:10.0.0.1]")}, "config.url"),
        ({"config": {**api_config(SOURCE_URL), "headers": "Bearer x"}}, "config.headers"),
        ({"connector": "telepathy"}, "connector"),
        ({"mapping": {"id": "shoe_size"}}, "mapping"),
        ({"resource": "companies", "match": "email"}, "match_key"),
    ],
)
def test_an_invalid_connection_is_a_400_naming_the_field_and_stores_nothing(
    partner, overrides, field
):
    response = create(partner, **overrides)

    errors = assert_uniform_error(response, 400)["errors"]
    assert field in errors, errors
    assert not Connection.objects.exists() and not PeriodicTask.objects.exists()


def test_a_drop_folder_outside_the_roots_is_a_400_naming_config_folder(partner, settings, tmp_path):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path / "drop")]

    response = create(partner, connector="file", config={"folder": "/etc"}, mapping={})

    assert "CONNECTOR_FILE_ROOTS" in " ".join(
        assert_uniform_error(response, 400)["errors"]["config.folder"]
    )
    assert not Connection.objects.exists()


def test_every_refusal_is_reported_at_once(partner):
    response = create(
        partner,
        config={"records_path": "data", "pages": 2},
        schedule={"crontab": "61 * * * *"},
    )

    errors = assert_uniform_error(response, 400)["errors"]
    assert {"config.url", "config.pages", "schedule"} <= set(errors), errors


def test_matching_by_email_needs_a_key_that_may_read_personal_data(manager, make_api_client):
    client = make_api_client(manager, READ_WRITE)  # no pii:read

    response = create(client, match="email")

    assert "match_key" in assert_uniform_error(response, 400)["errors"]
    assert not Connection.objects.exists()


def test_naming_deals_contacts_by_email_needs_a_key_that_may_read_personal_data(
    manager, make_api_client
):
    client = make_api_client(manager, READ_WRITE)  # no pii:read
    mapping = {"id": "external_id", "buyer": "primary_contact_email"}

    response = create(client, resource="deals", mapping=mapping)
    partner = make_api_client(manager, [*READ_WRITE, "pii:read"])
    allowed = create(partner, name="Deals", resource="deals")
    patched = client.patch(detail(allowed.json()["id"]), {"mapping": mapping}, format="json")

    assert "mapping" in assert_uniform_error(response, 400)["errors"]
    assert "mapping" in assert_uniform_error(patched, 400)["errors"]
    assert list(Connection.objects.values_list("mapping", flat=True)) == [
        {"id": "external_id", "updated_at": None}
    ]


def test_the_connector_of_a_connection_cannot_change(partner):
    pk = create(partner).json()["id"]

    response = partner.patch(detail(pk), {"connector": "soap"}, format="json")

    assert "connector" in assert_uniform_error(response, 400)["errors"]
    assert Connection.objects.get().connector == "rest_json"


def test_delete_removes_the_connection_and_its_schedule(partner):
    pk = create(partner).json()["id"]

    assert partner.delete(detail(pk)).status_code == 204

    assert not Connection.objects.exists() and not PeriodicTask.objects.exists()
    assert_uniform_error(partner.get(detail(pk)), 404)


# Schedules


def test_every_minutes_becomes_a_beat_interval_and_reads_back_the_same(partner):
    created = create(partner, schedule={"every_minutes": 15}).json()

    task = PeriodicTask.objects.get()
    assert (task.interval.every, task.interval.period) == (900, IntervalSchedule.SECONDS)
    assert json.loads(task.args) == [created["id"]]
    assert created["schedule"] == {"every_minutes": 15}


def test_a_crontab_replaces_the_interval_and_null_removes_the_schedule(partner):
    pk = create(partner).json()["id"]

    crontab = partner.patch(detail(pk), {"schedule": {"crontab": "*/10 2 * * 1-5"}}, format="json")

    assert crontab.json()["schedule"] == {"crontab": "*/10 2 * * 1-5"}
    cron = PeriodicTask.objects.get().crontab
    assert (cron.minute, cron.hour, cron.day_of_week, cron.timezone.key) == (
        "*/10",
        "2",
        "1-5",
        "UTC",
    )
    cleared = partner.patch(detail(pk), {"schedule": None}, format="json")
    assert cleared.json()["schedule"] is None and not PeriodicTask.objects.exists()


def test_a_patch_without_a_schedule_leaves_it_alone(partner):
    pk = create(partner, schedule={"crontab": "0 3 * * *"}).json()["id"]

    response = partner.patch(detail(pk), {"name": "ERP"}, format="json")

    assert response.json()["schedule"] == {"crontab": "0 3 * * *"}


@pytest.mark.parametrize(
    "schedule",
    [
        {"crontab": "61 * * * *"},
        {"crontab": "* * * *"},
        {"crontab": "* 24 * * *"},
        {"crontab": "* * 0 * *"},
        {"crontab": "* * * 13 *"},
        {"crontab": "* * * * funday"},
        {"every_minutes": 0},
        {"every_minutes": "15"},
        {"every_minutes": 15, "crontab": "* * * * *"},
        {"every_hours": 1},
        "every 15 minutes",
    ],
)
def test_an_invalid_schedule_is_a_400_naming_schedule_and_stores_nothing(partner, schedule):
    response = create(partner, schedule=schedule)

    assert "schedule" in assert_uniform_error(response, 400)["errors"]
    assert not Connection.objects.exists()
    assert not PeriodicTask.objects.exists() and not CrontabSchedule.objects.exists()


# Runs


def test_run_answers_202_with_the_queued_run_which_the_sync_runs_list_shows(partner):
    pk = create(partner).json()["id"]

    response = partner.post(f"{detail(pk)}run/")

    assert response.status_code == 202, response.content
    run = response.json()
    assert run["status"] == "queued" and run["connection"]["id"] == pk
    assert response["Location"].endswith(f"{V1}/sync-runs/{run['id']}/")
    listed = partner.get(f"{V1}/sync-runs/", {"connection": pk}).json()["results"]
    assert [item["id"] for item in listed] == [run["id"]]
    assert partner.get(f"{V1}/sync-runs/{run['id']}/").json()["status"] == "queued"


def test_asking_again_while_queued_answers_the_same_run(partner):
    pk = create(partner).json()["id"]

    first = partner.post(f"{detail(pk)}run/").json()
    second = partner.post(f"{detail(pk)}run/").json()

    assert first["id"] == second["id"] and SyncRun.objects.count() == 1


def test_run_while_another_is_running_is_a_409(partner):
    pk = create(partner).json()["id"]
    running = SyncRun.objects.create(connection_id=pk)  # a worker has it

    response = partner.post(f"{detail(pk)}run/")

    assert str(running.pk) in assert_uniform_error(response, 409)["message"]
    assert SyncRun.objects.count() == 1


def test_a_disabled_connection_is_not_run(partner):
    pk = create(partner, enabled=False).json()["id"]

    assert_uniform_error(partner.post(f"{detail(pk)}run/"), 409)
    assert not SyncRun.objects.exists()


def test_with_the_broker_down_run_is_a_503_and_leaves_no_run_behind(partner, broker_down):  # noqa: F811
    pk = create(partner).json()["id"]

    response = partner.post(f"{detail(pk)}run/")

    assert response.status_code == 503, response.content
    assert response.json() == {
        "code": "queue_unavailable",
        "message": "The task queue is unavailable, so nothing was queued; try again.",
        "errors": {},
    }
    assert not SyncRun.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_task_takes_the_queued_run_and_a_redelivery_does_nothing(partner, source):  # noqa: F811
    _, base_url = source
    pk = create(partner, config=api_config(base_url)).json()["id"]
    queued = partner.post(f"{detail(pk)}run/").json()

    assert sync_connection(pk, queued["id"]) == "succeeded"
    assert sync_connection(pk, queued["id"]) is None  # the same message delivered again

    run = partner.get(f"{V1}/sync-runs/{queued['id']}/").json()
    assert (run["status"], run["fetched"], run["created"]) == ("succeeded", 7, 7)
    assert run["links"]["import_job"].endswith(f"/imports/{run['import_job']}/")
    assert SyncRun.objects.count() == 1 and Contact.objects.count() == 7


@pytest.mark.django_db(transaction=True)
def test_a_queued_run_whose_message_was_lost_is_taken_by_the_next_scheduled_run(partner):
    pk = create(partner).json()["id"]
    queued = SyncRun.objects.create(connection_id=pk, status=SyncRun.Status.QUEUED)

    sync.sync_run(pk)  # beat names the connection only

    queued.refresh_from_db()
    assert queued.status == SyncRun.Status.FAILED  # erp.example.com cannot be reached here
    assert SyncRun.objects.count() == 1


# Test


@pytest.mark.django_db(transaction=True)
def test_test_reads_the_first_records_shows_their_mapping_and_writes_nothing(partner, source):  # noqa: F811
    data_dir, base_url = source
    records = json.loads((data_dir / "contacts.json").read_text())
    records[1]["email"] = "not-an-email"
    (data_dir / "contacts.json").write_text(json.dumps(records))
    pk = create(partner, config=api_config(base_url)).json()["id"]
    Connection.objects.filter(pk=pk).update(cursor="2026-11-05T00:00:00Z")
    before = _row_counts()

    response = partner.post(f"{detail(pk)}test/", {"limit": 4}, format="json")

    assert response.status_code == 200, response.content
    result = response.json()
    assert result["error"] == "" and result["more"] is True
    assert [record["number"] for record in result["records"]] == [1, 2, 3, 4]  # no cursor
    assert result["mapping"]["id"] == "external_id" and "updated_at" in result["ignored"]
    first, second = result["records"][:2]
    assert first["mapped"]["external_id"] == records[0]["id"] and first["errors"] == {}
    assert list(second["errors"]) == ["email"]
    assert _row_counts() == before
    assert Connection.objects.get().cursor == "2026-11-05T00:00:00Z"


def test_test_masks_personal_data_for_a_key_without_pii_read(manager, make_api_client, source):  # noqa: F811
    _, base_url = source
    client = make_api_client(manager, READ_WRITE)
    pk = create(client, config=api_config(base_url)).json()["id"]

    result = client.post(f"{detail(pk)}test/", {"limit": 1}, format="json").json()

    record = result["records"][0]
    assert "@" in record["values"]["email"] and "***" in record["values"]["email"]
    assert record["values"]["email"] == record["mapped"]["email"]


@pytest.mark.usefixtures("quick_connector_retries")
def test_a_source_that_cannot_be_read_is_the_tests_answer_not_an_error(partner):
    pk = create(partner, config=api_config("http://127.0.0.1:9")).json()["id"]

    response = partner.post(f"{detail(pk)}test/")

    assert response.status_code == 200
    assert response.json()["error"] and response.json()["records"] == []
    assert not SyncRun.objects.exists()


def test_a_drop_folder_test_leaves_its_files_in_place(partner, settings, tmp_path):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text(
        "external_id,first_name,email,company\nF-1,伟,wei@example.com,No Such Co\n",
        encoding="utf-8",
    )
    pk = create(partner, connector="file", config={"folder": str(tmp_path)}, mapping={}).json()[
        "id"
    ]

    result = partner.post(f"{detail(pk)}test/").json()

    assert result["records"][0]["mapped"]["first_name"] == "伟"
    assert "company" in result["records"][0]["errors"]  # a reference the run would refuse
    assert [path.name for path in tmp_path.iterdir()] == ["people.csv"]
    assert not Contact.objects.exists() and not ImportJob.objects.exists()


def _row_counts() -> dict[str, int]:
    with db_connection.cursor() as cursor:
        counts = {}
        for table in ("customers_contact", "integrations_syncrun", "integrations_importjob"):
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (fixed names)
            counts[table] = cursor.fetchone()[0]
    return counts


# The schema


def test_the_schema_describes_every_connection_and_sync_run_endpoint(client):
    paths = client.get(reverse("api-schema"), {"format": "json"}).json()["paths"]

    assert {
        "/api/v1/connections/": {"get", "post"},
        "/api/v1/connections/{id}/": {"get", "patch", "delete"},
        "/api/v1/connections/{id}/run/": {"post"},
        "/api/v1/connections/{id}/test/": {"post"},
        "/api/v1/sync-runs/": {"get"},
        "/api/v1/sync-runs/{id}/": {"get"},
    } == {
        path: set(paths[path]) - {"parameters"}
        for path in paths
        if path.startswith(("/api/v1/connections/", "/api/v1/sync-runs/"))
    }
    run = paths["/api/v1/connections/{id}/run/"]["post"]
    assert {"202", "409", "503"} <= set(run["responses"])
    assert run["x-required-scopes"] == ["integrations:write"]


def test_create_related_is_stored_shown_and_changed_like_the_other_options(partner):
    created = create(partner, create_related=True).json()

    assert created["create_related"] is True and Connection.objects.get().create_related
    changed = partner.patch(detail(created["id"]), {"create_related": False}, format="json")
    assert changed.json()["create_related"] is False
    assert not Connection.objects.get().create_related


def test_test_quotes_no_personal_value_in_an_error_for_a_key_without_pii_read(
    manager, make_api_client, settings, tmp_path
):
    custom_field_create(
        actor=SYSTEM, entity="contact", name="birthday", label="Birthday", type="date", pii=True
    )
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "people.csv").write_text("external_id,email,birthday\nF-1,nobody,1990/13/45\n")
    client = make_api_client(manager, READ_WRITE)
    config = {"folder": str(tmp_path)}
    pk = create(client, connector="file", config=config, mapping={}).json()["id"]

    record = client.post(f"{detail(pk)}test/").json()["records"][0]

    assert record["values"]["birthday"] != "1990/13/45"
    (message,) = record["errors"]["custom_fields.birthday"]
    assert message.startswith("Expected a date") and "1990/13/45" not in message


def test_test_does_not_look_contacts_up_by_email_for_a_key_without_pii_read(
    manager, make_api_client, settings, tmp_path
):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    (tmp_path / "deals.csv").write_text(
        "external_id,name,contact email\nD-1,Expansion,someone@example.com\n"
    )
    client = make_api_client(manager, READ_WRITE)
    config = {"folder": str(tmp_path)}
    pk = create(client, connector="file", resource="deals", config=config, mapping={}).json()["id"]

    result = client.post(f"{detail(pk)}test/").json()

    assert result["records"] == []
    assert "pii:read" in result["error"]
