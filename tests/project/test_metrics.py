"""/metrics: who may read it, what the request middleware counts, and what a scrape reads
from the database and the broker at that moment."""

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from kombu.transport import filesystem
from prometheus_client.parser import text_string_to_metric_families

from crm_project.celery import app as celery_app
from crm_project.operations import metrics
from customers.models import ChangeEvent
from integrations.models import ImportJob, JobStatus
from integrations.services.change_feed import cursor_of
from integrations.webhooks.models import RelayCursor, WebhookDelivery, WebhookSubscription
from integrations.webhooks.services import RELAY
from tests.factories import ContactFactory, ManagerFactory
from tests.project.web_server import web_server

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"
Status = WebhookDelivery.Status


@pytest.fixture
def token(settings):
    settings.METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of a scrape: (name, sorted labels) -> value."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def requests_counted(samples, **labels) -> float:
    return samples.get(("crm_http_requests_total", tuple(sorted(labels.items()))), 0.0)


def door_total(samples, door: str) -> float:
    return sum(
        value
        for (name, labels), value in samples.items()
        if name == "crm_http_requests_total" and dict(labels)["door"] == door
    )


def test_without_a_configured_token_metrics_do_not_exist(client, settings):
    settings.METRICS_TOKEN = ""

    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything")

    assert response.status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", "Bearer"])
def test_a_missing_or_wrong_token_gets_401_and_no_metrics(client, token, header):
    extra = {"HTTP_AUTHORIZATION": header} if header else {}

    response = client.get("/metrics", **extra)

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert b"crm_" not in response.content


def test_metrics_answer_plain_http_under_the_ssl_redirect(client, token, settings):
    settings.SECURE_SSL_REDIRECT = True

    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200


def test_requests_are_counted_by_door_method_and_status(client, token):
    login = reverse("web:login")
    before = scrape(client)

    client.get("/api/v1/contacts/")  # no credentials: 401
    client.get("/soap/")
    client.get(login)
    client.post(login, {})  # an empty form: shown again
    client.get("/admin/")
    after = scrape(client)

    def counted(**labels):
        return requests_counted(after, **labels) - requests_counted(before, **labels)

    def counted_at(door):
        return door_total(after, door) - door_total(before, door)

    assert counted(door="rest", method="GET", status="401") == 1
    assert counted_at("soap") == 1
    assert counted(door="web", method="GET", status="200") == 1
    assert counted(door="web", method="POST", status="200") == 1
    assert counted(door="admin", method="GET", status="302") == 1
    assert counted(door="ops", method="GET", status="200") == 1  # the first scrape
    assert after[("crm_http_request_duration_seconds_count", (("door", "rest"),))] >= 1


def test_doors_are_told_apart_by_path():
    assert metrics.door_of("/api/v1/contacts/") == "rest"
    assert metrics.door_of("/soap/") == "soap"
    assert metrics.door_of("/admin/customers/") == "admin"
    assert metrics.door_of("/healthz") == "ops"
    assert metrics.door_of("/metrics") == "ops"
    assert metrics.door_of("/contacts/3/") == "web"
    assert metrics.door_of("/apiary/") == "web"


def test_an_unusual_method_is_counted_as_other_not_as_a_new_label_value():
    metrics.observe_request(path="/", method="BREW", status=405, seconds=0.01)

    methods = {
        sample.labels["method"]
        for family in metrics.REQUESTS.collect()
        for sample in family.samples
    }
    assert "other" in methods
    assert "BREW" not in methods


@pytest.fixture
def filesystem_broker(point_broker_at, tmp_path):
    """A filesystem broker of this test's own."""
    folder = tmp_path / "broker"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    options["control_folder"] = str(tmp_path / "control")  # kombu's default: ./control
    point_broker_at("filesystem://", options)
    # kombu remembers the exchanges and bindings it declared, process-wide, and does not write
    # a binding it remembers into the new control folder: a message to a queue an earlier test
    # bound (the settings' `imports`) would then be routed nowhere.
    filesystem.Transport.global_state.clear()
    yield folder
    filesystem.Transport.global_state.clear()


def test_queue_depths_of_the_filesystem_broker_count_its_waiting_messages(
    client, token, filesystem_broker
):
    with celery_app.connection_for_write() as connection:
        queue = connection.SimpleQueue("imports")
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.close()

    samples = scrape(client)

    assert samples[("crm_celery_queue_depth", (("queue", "imports"),))] == 2
    for name in ("crm", "exports", "syncs", "webhooks"):
        assert samples[("crm_celery_queue_depth", (("queue", name),))] == 0


def test_queue_depths_are_left_out_for_a_broker_that_does_not_answer(
    client, token, point_broker_at
):
    point_broker_at("redis://127.0.0.1:1/9")

    samples = scrape(client)

    assert not [key for key in samples if key[0] == "crm_celery_queue_depth"]
    assert ("crm_change_feed_newest_event_id", ()) in samples


def test_a_scrape_reads_import_webhook_and_change_feed_state(client, token):
    now = timezone.now()
    ImportJob.objects.create(resource="contacts", file="imports/a.csv", rows_processed=5)
    ImportJob.objects.create(
        resource="contacts",
        file="imports/b.csv",
        status=JobStatus.RUNNING,
        rows_processed=600,
        started_at=now - timedelta(seconds=60),
    )
    contacts = [ContactFactory() for _ in range(3)]
    events = list(ChangeEvent.objects.filter(record_id__in=[c.pk for c in contacts]).order_by("id"))
    ChangeEvent.objects.filter(pk=events[0].pk).update(occurred_at=now - timedelta(seconds=300))
    subscription = WebhookSubscription.objects.create(
        owner=ManagerFactory(), url="http://127.0.0.1:9/", events=["*"], secret="s"
    )
    WebhookDelivery.objects.create(
        subscription=subscription, event=events[0], next_attempt_at=now - timedelta(seconds=120)
    )
    WebhookDelivery.objects.create(subscription=subscription, event=events[1], status=Status.FAILED)
    WebhookDelivery.objects.create(
        subscription=subscription,
        event=events[2],
        attempts=2,
        next_attempt_at=now + timedelta(minutes=5),
    )

    samples = scrape(client)

    assert 9.5 <= samples[("crm_import_rows_per_second", ())] <= 10
    assert samples[("crm_import_rows_processed_total", ())] == 605
    assert samples[("crm_webhook_delivery_lag_seconds", ())] >= 120
    assert samples[("crm_webhook_deliveries_failed", ())] == 1
    assert samples[("crm_webhook_deliveries_retrying", ())] == 1
    assert samples[("crm_change_feed_relay_lag_seconds", ())] >= 300
    assert samples[("crm_change_feed_newest_event_id", ())] == ChangeEvent.objects.latest("id").id


def test_the_relay_lag_is_zero_once_the_relay_read_every_event(client, token):
    ContactFactory()
    RelayCursor.objects.create(name=RELAY, cursor=cursor_of(ChangeEvent.objects.latest("id")))

    samples = scrape(client)

    assert samples[("crm_change_feed_relay_lag_seconds", ())] == 0
    assert samples[("crm_webhook_delivery_lag_seconds", ())] == 0


def test_a_scrape_costs_a_fixed_handful_of_queries_whatever_the_data(
    client, token, django_assert_num_queries
):
    for _ in range(5):
        ImportJob.objects.create(
            resource="contacts",
            file="imports/c.csv",
            status=JobStatus.RUNNING,
            started_at=timezone.now(),
        )
        ContactFactory()

    with django_assert_num_queries(8):
        client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_a_scrape_adds_up_the_requests_of_every_worker(tmp_path):
    """Two workers, PROMETHEUS_MULTIPROC_DIR set: whichever worker serves the scrape, it counts
    the requests both served. The folder is emptied at start: a previous run's file (here one
    that is not even a metrics file) would otherwise be added in, or break the scrape."""
    folder = tmp_path / "prometheus"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"left over from the previous run")
    environment = {"PROMETHEUS_MULTIPROC_DIR": str(folder), "METRICS_TOKEN": TOKEN}
    # Sync workers (one request at a time each) and readiness probes that take a while: while
    # one worker answers, the next request goes to the other.
    with web_server(tmp_path / "web.log", environment, workers=2, threads=1) as url:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(lambda path: probe(url, path), ["readyz", "healthz"] * 20))
        response = requests.get(
            f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30
        )

    assert statuses == [200] * 40
    assert response.status_code == 200, (tmp_path / "web.log").read_text()
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    assert requests_counted(samples, door="ops", method="GET", status="200") == 40
    assert len(list(folder.glob("counter_*.db"))) == 2  # both workers counted some


def probe(url: str, path: str) -> int:
    return requests.get(f"{url}/{path}", timeout=30).status_code


def test_with_the_database_down_a_scrape_still_serves_the_request_metrics(client, token):
    with connection.cursor() as cursor:  # as if every query failed from here on
        cursor.execute("ALTER TABLE integrations_importjob RENAME TO integrations_importjob_gone")

    samples = scrape(client)

    assert ("crm_import_rows_per_second", ()) not in samples
    assert any(name == "crm_http_requests_total" for name, _ in samples)
