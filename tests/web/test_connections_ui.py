"""Connections on the integrations area: managers only; created and edited through the sync
service (a bad configuration key named next to the field, secrets never shown, the placeholder
keeping them), scheduled in celery beat's tables, deleted, run now, and each run reported."""

import json

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from crm_project.celery import app as celery_app
from customers.models import Contact
from integrations.models import Connection, SyncRun
from integrations.services import sync
from tests.factories import ManagerFactory
from tests.integrations.test_connectors import api_config
from tests.integrations.test_connectors import source as source  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

SECRET = "Bearer secret-token"  # api_config's Authorization header
SOURCE_URL = "https://erp.example.com"


@pytest.fixture
def manager_client(client):
    client.force_login(ManagerFactory(username="boss"))
    return client


def make_connection(name: str = "Legacy ERP", base_url: str = SOURCE_URL, **overrides):
    options = {
        "name": name,
        "connector": "rest_json",
        "config": api_config(base_url),
        "resource": "contacts",
        "mode": "upsert",
        "match_key": "external_id",
        "mapping": {"id": "external_id", "updated_at": None},
    }
    return sync.connection_create(**{**options, **overrides})


def form_data(**overrides) -> dict:
    data = {
        "name": "Legacy ERP",
        "connector": "rest_json",
        "config": json.dumps(api_config(SOURCE_URL)),
        "mapping": json.dumps({"id": "external_id", "updated_at": None}),
        "resource": "contacts",
        "mode": "upsert",
        "match_key": "external_id",
        "schedule_kind": "every",
        "every_minutes": "15",
        "crontab": "",
        "enabled": "on",
    }
    return {**data, **overrides}


def errors_of(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


# Permissions


def test_sales_users_get_403_on_every_connection_door(sales_client):
    connection = make_connection()
    doors = [
        ("get", reverse("web:connection-list")),
        ("get", reverse("web:connection-new")),
        ("post", reverse("web:connection-new")),
        ("get", reverse("web:connection-detail", args=[connection.pk])),
        ("get", reverse("web:connection-edit", args=[connection.pk])),
        ("post", reverse("web:connection-edit", args=[connection.pk])),
        ("post", reverse("web:connection-delete", args=[connection.pk])),
        ("post", reverse("web:connection-run", args=[connection.pk])),
        ("post", reverse("web:connection-test", args=[connection.pk])),
    ]
    for method, url in doors:
        assert getattr(sales_client, method)(url).status_code == 403, url
    assert Connection.objects.get() == connection


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(reverse("web:connection-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_only_users_who_may_open_them_see_integrations_and_custom_fields_in_the_nav(
    client, sales_user
):
    client.force_login(sales_user)
    labels = {entry["label"] for entry in client.get("/").context["navigation"]}
    assert "Integrations" not in labels and "Custom fields" not in labels
    assert "Contacts" in labels
    client.force_login(ManagerFactory())
    labels = {entry["label"] for entry in client.get("/").context["navigation"]}
    assert {"Integrations", "Custom fields"} <= labels


# Create and edit


def test_a_manager_creates_a_scheduled_connection_whose_secret_never_reaches_a_page(
    manager_client,
):
    response = manager_client.post(reverse("web:connection-new"), form_data())

    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:connection-detail", args=[connection.pk])
    assert sync.stored_config(connection)["headers"] == {"Authorization": SECRET}
    assert connection.schedule.interval.every == 15 * 60
    assert connection.schedule.enabled is True
    for url in (
        reverse("web:connection-list"),
        reverse("web:connection-detail", args=[connection.pk]),
        reverse("web:connection-edit", args=[connection.pk]),
    ):
        page = manager_client.get(url).content.decode()
        assert "secret-token" not in page, url
    edit = manager_client.get(reverse("web:connection-edit", args=[connection.pk]))
    assert sync.SECRET_PLACEHOLDER in edit.content.decode()
    listing = manager_client.get(reverse("web:connection-list")).content.decode()
    assert "Every 15 minutes" in listing


def test_an_unknown_configuration_key_is_named_next_to_the_configuration(manager_client):
    config = {**api_config(SOURCE_URL), "passwrod": "x"}
    response = manager_client.post(
        reverse("web:connection-new"), form_data(config=json.dumps(config))
    )

    assert response.status_code == 422
    (error,) = errors_of(response, "config")
    assert error.startswith("passwrod: ")
    assert 'id="id_config_error"' in response.content.decode()
    assert Connection.objects.count() == 0 and PeriodicTask.objects.count() == 0


def test_a_drop_folder_outside_the_roots_is_refused_next_to_the_configuration(
    manager_client, settings, tmp_path
):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path / "drops")]
    (tmp_path / "drops").mkdir()
    config = {"folder": str(tmp_path), "pattern": "*.csv"}

    response = manager_client.post(
        reverse("web:connection-new"), form_data(connector="file", config=json.dumps(config))
    )

    assert response.status_code == 422
    (error,) = errors_of(response, "config")
    assert error.startswith("folder: ") and "CONNECTOR_FILE_ROOTS" in error
    assert Connection.objects.count() == 0


def test_a_drop_folder_refusal_reaches_a_chinese_manager_in_chinese(manager_client, settings):
    settings.CONNECTOR_FILE_ROOTS = ["/srv/crm-drop"]
    config = {"folder": "/etc"}

    response = manager_client.post(
        reverse("web:connection-new"),
        form_data(connector="file", config=json.dumps(config)),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert response.status_code == 422
    (error,) = errors_of(response, "config")
    assert error == "folder: /etc 不在投放文件夹的根目录内（CONNECTOR_FILE_ROOTS：/srv/crm-drop）。"
    assert Connection.objects.count() == 0


def test_a_missing_required_key_and_a_bad_crontab_are_both_reported(manager_client):
    config = {key: value for key, value in api_config(SOURCE_URL).items() if key != "url"}
    response = manager_client.post(
        reverse("web:connection-new"),
        form_data(config=json.dumps(config), schedule_kind="crontab", crontab="*/15 * * *"),
    )

    assert response.status_code == 422
    assert [e.split(":")[0] for e in errors_of(response, "config")] == ["url"]
    assert errors_of(response, "crontab")
    assert Connection.objects.count() == 0 and PeriodicTask.objects.count() == 0


@pytest.mark.parametrize(
    "field, value",
    [("config", "{not json"), ("config", "[1, 2]"), ("mapping", '{"id": "no_such_field"}')],
)
def test_malformed_json_or_an_unknown_mapping_target_is_refused_next_to_its_field(
    manager_client, field, value
):
    response = manager_client.post(reverse("web:connection-new"), form_data(**{field: value}))

    assert response.status_code == 422
    assert errors_of(response, field)
    assert Connection.objects.count() == 0


def test_a_duplicate_name_is_refused_next_to_the_name(manager_client):
    make_connection()
    response = manager_client.post(reverse("web:connection-new"), form_data())
    assert response.status_code == 422
    (error,) = response.context["form"].errors["name"]
    assert "already exists" in error
    assert Connection.objects.count() == 1


def test_saving_the_edit_form_as_shown_keeps_the_secret_and_changes_the_rest(manager_client):
    connection = make_connection()
    edit_url = reverse("web:connection-edit", args=[connection.pk])
    shown = manager_client.get(edit_url).context["form"].initial
    data = {**form_data(), **{k: v for k, v in shown.items() if v is not None}}
    data.update(name="ERP (nightly)", schedule_kind="crontab", crontab="0 2 * * *")
    data.pop("enabled")  # unticked

    response = manager_client.post(edit_url, data)

    assert response.status_code == 302
    connection.refresh_from_db()
    assert connection.name == "ERP (nightly)" and connection.enabled is False
    assert sync.stored_config(connection)["headers"] == {"Authorization": SECRET}
    cron = connection.schedule.crontab
    assert (cron.minute, cron.hour) == ("0", "2")
    assert connection.schedule.enabled is False
    detail = manager_client.get(reverse("web:connection-detail", args=[connection.pk]))
    assert "0 2 * * *" in detail.content.decode()


def test_a_schedule_left_untouched_is_not_rewritten(manager_client):
    connection = make_connection(schedule=sync.Schedule(every_seconds=90))
    edit_url = reverse("web:connection-edit", args=[connection.pk])
    shown = manager_client.get(edit_url).context["form"].initial
    data = {**form_data(), **{k: v for k, v in shown.items() if v is not None}}

    assert manager_client.post(edit_url, {**data, "name": "Renamed"}).status_code == 302

    connection.refresh_from_db()
    assert connection.name == "Renamed"
    assert connection.schedule.interval.every == 90  # not rounded to whole minutes


def test_deleting_a_connection_removes_its_schedule(manager_client):
    connection = make_connection(schedule=sync.Schedule(every_seconds=600))
    response = manager_client.post(reverse("web:connection-delete", args=[connection.pk]))
    assert response.status_code == 302
    assert Connection.objects.count() == 0 and PeriodicTask.objects.count() == 0


# Runs


@pytest.fixture
def tasks_run_inline():
    """The Celery tasks run in this process (the real task code, without a broker)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.mark.django_db(transaction=True)
def test_run_now_syncs_the_source_and_the_run_appears_on_the_detail_page(
    client,
    source,  # noqa: F811
    tasks_run_inline,
    settings,
):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    client.force_login(ManagerFactory(username="boss"))
    _, base_url = source
    connection = make_connection(base_url=base_url)

    response = client.post(reverse("web:connection-run", args=[connection.pk]), follow=True)

    run = SyncRun.objects.get(connection=connection)
    assert run.status == SyncRun.Status.SUCCEEDED and run.fetched == Contact.objects.count() > 0
    page = response.content.decode()
    assert f'data-run="{run.pk}"' in page and 'data-status="succeeded"' in page
    assert reverse("web:import-detail", args=[run.import_job_id]) in page
    assert run.cursor_after in page
    assert 'hx-trigger="every 2s"' not in page  # the run is over: nothing to follow
    listing = client.get(reverse("web:connection-list")).content.decode()
    assert f"{run.fetched} fetched, {run.created} created" in listing


@pytest.fixture
def broker_down(monkeypatch):
    """The app's broker is a port nothing listens on (its producer pool rebuilt for it).
    Celery reads CELERY_BROKER_URL from the environment before its own settings, so both."""
    dead = "redis://127.0.0.1:1/0"
    saved = celery_app.conf.broker_url
    monkeypatch.setenv("CELERY_BROKER_URL", dead)
    celery_app.conf.broker_url = dead
    celery_app._pool = celery_app.amqp._producer_pool = None
    yield
    celery_app.conf.broker_url = saved
    monkeypatch.undo()
    celery_app._pool = celery_app.amqp._producer_pool = None


@pytest.mark.django_db(transaction=True)
def test_run_now_with_the_broker_down_says_so_instead_of_failing(manager_client, broker_down):
    connection = make_connection()
    response = manager_client.post(reverse("web:connection-run", args=[connection.pk]), follow=True)
    assert response.status_code == 200
    assert "The task queue is unavailable" in response.content.decode()
    assert SyncRun.objects.count() == 0


def test_a_disabled_connection_is_not_run(manager_client):
    connection = make_connection(enabled=False)
    response = manager_client.post(reverse("web:connection-run", args=[connection.pk]), follow=True)
    assert "is disabled" in response.content.decode()
    assert SyncRun.objects.count() == 0


def test_a_failed_run_shows_its_error_and_the_records_the_source_gave_unusable(manager_client):
    connection = make_connection()
    SyncRun.objects.create(
        connection=connection,
        status=SyncRun.Status.FAILED,
        fetched=3,
        failed=1,
        source_errors=[{"record": 2, "message": "The record is not a JSON object."}],
        error_message="HTTP 503 from the source",
    )
    page = manager_client.get(reverse("web:connection-detail", args=[connection.pk]))
    body = page.content.decode()
    assert "HTTP 503 from the source" in body
    assert "Record 2" in body and "The record is not a JSON object." in body


def test_the_runs_table_follows_a_queued_run_until_it_has_finished(manager_client):
    connection = make_connection()
    detail = reverse("web:connection-detail", args=[connection.pk])
    polling = 'hx-trigger="every 2s"'

    queued = manager_client.post(reverse("web:connection-run", args=[connection.pk]))
    waiting = manager_client.get(queued["Location"]).content.decode()
    assert queued["Location"].startswith(f"{detail}?queued=") and polling in waiting

    run = SyncRun.objects.create(connection=connection)  # the worker started it
    assert polling in manager_client.get(queued["Location"]).content.decode()
    SyncRun.objects.filter(pk=run.pk).update(status=SyncRun.Status.SUCCEEDED)
    assert polling not in manager_client.get(queued["Location"]).content.decode()
    assert polling not in manager_client.get(detail).content.decode()


# Query counts


def _list_queries(client) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        assert client.get(reverse("web:connection-list")).status_code == 200
    return len(queries)


def _add_connections(first: int, count: int) -> None:
    for number in range(first, first + count):
        schedule = (
            sync.Schedule(every_seconds=60 * number)
            if number % 2
            else sync.Schedule(crontab=f"{number % 60} * * * *")
        )
        connection = make_connection(name=f"Source {number}", schedule=schedule)
        for _ in range(2):
            SyncRun.objects.create(connection=connection, status=SyncRun.Status.SUCCEEDED)


def test_the_connection_list_costs_the_same_queries_for_2_or_12_connections(manager_client):
    _add_connections(1, 2)
    few = _list_queries(manager_client)
    _add_connections(3, 10)
    many = _list_queries(manager_client)
    assert many == few


def test_the_integrations_screens_in_chinese_show_no_english_headings(manager_client):
    connection = make_connection()
    SyncRun.objects.create(connection=connection, status=SyncRun.Status.SUCCEEDED)
    pages = {
        reverse("web:connection-list"): ("Connections", "Run now", "Last run"),
        reverse("web:connection-new"): ("New connection", "Configuration", "Save connection"),
        reverse("web:connection-detail", args=[connection.pk]): ("Recent runs", "Fetched"),
        reverse("web:webhook-list"): ("Your subscriptions", "Subscribe", "New subscription"),
    }
    for url, english in pages.items():
        body = manager_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
        with translation.override("zh-hans"):
            chinese = [translation.gettext(text) for text in english]
        for text, translated in zip(english, chinese, strict=True):
            assert translated != text and translated in body, (url, text)
            assert f">{text}<" not in body, (url, text)


def test_a_crontab_field_out_of_range_is_refused_next_to_the_crontab(manager_client):
    response = manager_client.post(
        reverse("web:connection-new"), form_data(schedule_kind="crontab", crontab="61 * * * *")
    )

    assert response.status_code == 422
    assert "minute" in " ".join(errors_of(response, "crontab"))
    assert Connection.objects.count() == 0 and PeriodicTask.objects.count() == 0


def test_deleting_a_secret_from_the_configuration_text_removes_it(manager_client):
    connection = make_connection()
    edit_url = reverse("web:connection-edit", args=[connection.pk])
    shown = manager_client.get(edit_url).context["form"].initial
    config = {k: v for k, v in json.loads(shown["config"]).items() if k != "headers"}
    data = {**form_data(), **{k: v for k, v in shown.items() if v is not None}}
    data["config"] = json.dumps(config)

    assert manager_client.post(edit_url, data).status_code == 302

    connection.refresh_from_db()
    assert "headers" not in sync.stored_config(connection)


# Test


def test_the_detail_page_offers_a_test_that_posts_to_the_test_page(manager_client):
    connection = make_connection()

    page = manager_client.get(reverse("web:connection-detail", args=[connection.pk]))

    test_url = reverse("web:connection-test", args=[connection.pk])
    assert f'action="{test_url}"' in page.content.decode()
    assert manager_client.get(test_url).status_code == 405  # it calls the source: POST only


@pytest.mark.django_db(transaction=True)
def test_the_test_page_shows_the_first_records_and_their_problems_and_writes_nothing(
    client,
    source,  # noqa: F811
    settings,
):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    client.force_login(ManagerFactory(username="boss"))
    data_dir, base_url = source
    records = json.loads((data_dir / "contacts.json").read_text())
    records[0]["email"] = "not-an-email"
    (data_dir / "contacts.json").write_text(json.dumps(records))
    connection = make_connection(base_url=base_url)

    response = client.post(reverse("web:connection-test", args=[connection.pk]))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'data-record="1" data-invalid' in page and 'data-record="2">' in page
    assert "Enter a valid email address." in page and records[1]["first_name"] in page
    assert "<script" not in page.split("</header>", 1)[-1]  # the CSP allows no inline script
    assert not SyncRun.objects.exists() and not Contact.objects.exists()
    connection.refresh_from_db()
    assert connection.cursor == ""


@pytest.mark.usefixtures("quick_connector_retries")
def test_a_source_that_cannot_be_read_is_shown_on_the_test_page(manager_client, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    connection = make_connection(base_url="http://127.0.0.1:9")

    response = manager_client.post(reverse("web:connection-test", args=[connection.pk]))

    assert response.status_code == 200
    assert "data-test-error" in response.content.decode()
    assert not SyncRun.objects.exists()


def test_a_crontab_refusal_reaches_a_chinese_manager_in_chinese(manager_client):
    response = manager_client.post(
        reverse("web:connection-new"),
        form_data(schedule_kind="crontab", crontab="0 25 * * *"),
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert errors_of(response, "crontab") == ["crontab 的小时字段“25”无效。"]
    assert Connection.objects.count() == 0


def test_run_now_while_a_run_is_going_says_so_and_queues_nothing(manager_client):
    connection = make_connection()
    running = SyncRun.objects.create(connection=connection)  # a worker has it

    response = manager_client.post(reverse("web:connection-run", args=[connection.pk]), follow=True)

    assert f"is still going (run {running.pk})" in response.content.decode()
    assert SyncRun.objects.count() == 1


def test_the_form_sets_create_related_for_the_runs(manager_client):
    response = manager_client.post(reverse("web:connection-new"), form_data(create_related="on"))

    assert response.status_code == 302
    connection = Connection.objects.get()
    assert connection.create_related is True
    edit = manager_client.get(reverse("web:connection-edit", args=[connection.pk]))
    assert edit.context["form"].initial["create_related"] is True
