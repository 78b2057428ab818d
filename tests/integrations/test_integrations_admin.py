"""The admin door of connections and webhooks: connections written through the sync service
(a bad configuration key named, secrets never on a page, the placeholder keeping them), runs
read-only; subscriptions paused and resumed, deliveries read with their attempts and replayed,
through the webhooks services; no page ever shows a secret."""

import json

import pytest
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from customers.models import ChangeEvent
from integrations.models import Connection, SyncRun
from integrations.services import sync
from integrations.webhooks import services
from integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from tests.factories import ContactFactory, ManagerFactory, SalesUserFactory
from tests.integrations.test_connectors import api_config

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]

CONNECTIONS = reverse("admin:integrations_connection_changelist")
CONNECTION_ADD = reverse("admin:integrations_connection_add")
SUBSCRIPTIONS = reverse("admin:integrations_webhooksubscription_changelist")
DELIVERIES = reverse("admin:integrations_webhookdelivery_changelist")
SECRET = "secret-token"  # in api_config's Authorization header


def make_connection(**overrides) -> Connection:
    options = {
        "name": "Legacy ERP",
        "connector": "rest_json",
        "config": api_config("https://erp.example.com"),
        "resource": "contacts",
        "mode": "upsert",
        "match_key": "external_id",
    }
    return sync.connection_create(**{**options, **overrides})


def connection_form(**overrides) -> dict:
    data = {
        "name": "Legacy ERP",
        "connector": "rest_json",
        "config": json.dumps(api_config("https://erp.example.com")),
        "resource": "contacts",
        "mode": "upsert",
        "match_key": "external_id",
        "mapping": "",
        "every_seconds": "600",
        "crontab": "",
        "enabled": "on",
    }
    return {**data, **overrides}


# Connections


def test_a_connection_added_in_the_admin_is_stored_by_the_service(admin_client, admin_user):
    response = admin_client.post(CONNECTION_ADD, connection_form())

    assert response.status_code == 302, response.context["adminform"].form.errors
    connection = Connection.objects.get()
    assert connection.created_by == admin_user
    assert sync.stored_config(connection)["headers"] == {"Authorization": f"Bearer {SECRET}"}
    assert connection.schedule.interval.every == 600


def test_a_bad_configuration_key_is_named_and_nothing_is_stored(admin_client):
    config = {**api_config("https://erp.example.com"), "passwrod": "x"}
    response = admin_client.post(CONNECTION_ADD, connection_form(config=json.dumps(config)))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["config"]
    assert [error.split(":")[0] for error in errors] == ["passwrod"]
    assert Connection.objects.count() == 0 and PeriodicTask.objects.count() == 0


def test_the_change_page_never_shows_a_secret_and_saving_it_as_shown_keeps_it(admin_client):
    connection = make_connection()
    change = reverse("admin:integrations_connection_change", args=[connection.pk])

    page = admin_client.get(change)
    body = page.content.decode()
    assert SECRET not in body and sync.SECRET_PLACEHOLDER in body
    assert SECRET not in admin_client.get(CONNECTIONS).content.decode()

    shown = page.context["adminform"].form.initial["config"]
    data = connection_form(
        config=json.dumps(shown), name="ERP", every_seconds="", crontab="0 3 * * *"
    )
    assert admin_client.post(change, data).status_code == 302

    connection.refresh_from_db()
    assert connection.name == "ERP"
    assert sync.stored_config(connection)["headers"] == {"Authorization": f"Bearer {SECRET}"}
    assert connection.schedule.crontab.hour == "3"


def test_deleting_a_connection_in_the_admin_removes_its_schedule(admin_client):
    connection = make_connection(schedule=sync.Schedule(every_seconds=60))
    delete = reverse("admin:integrations_connection_delete", args=[connection.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert Connection.objects.count() == 0 and PeriodicTask.objects.count() == 0


def test_runs_are_read_only_and_linked_from_their_connection(admin_client):
    connection = make_connection()
    run = SyncRun.objects.create(connection=connection, status=SyncRun.Status.FAILED, fetched=4)
    change = reverse("admin:integrations_syncrun_change", args=[run.pk])

    assert admin_client.get(change).status_code == 200
    assert admin_client.post(change, {"status": "succeeded"}).status_code == 403
    assert admin_client.get(reverse("admin:integrations_syncrun_add")).status_code == 403
    run.refresh_from_db()
    assert run.status == SyncRun.Status.FAILED
    connection_page = admin_client.get(
        reverse("admin:integrations_connection_change", args=[connection.pk])
    ).content.decode()
    assert f"connection__id__exact={connection.pk}" in connection_page


# Webhooks


def subscribe(owner) -> tuple[WebhookSubscription, str]:
    return services.subscription_create(owner=owner, url="http://127.0.0.1:9/hooks", events=["*"])


def test_subscription_pages_never_show_the_secret(admin_client):
    subscription, secret = subscribe(ManagerFactory())
    change = reverse("admin:integrations_webhooksubscription_change", args=[subscription.pk])
    for url in (SUBSCRIPTIONS, change):
        response = admin_client.get(url)
        assert response.status_code == 200 and secret not in response.content.decode()
    assert (
        admin_client.get(reverse("admin:integrations_webhooksubscription_add")).status_code == 403
    )


def test_pause_and_resume_actions_go_through_the_services(client):
    manager = ManagerFactory()
    client.force_login(manager)
    subscription, _ = subscribe(manager)
    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        disabled_at=timezone.now(), disabled_reason="failed"
    )

    client.post(SUBSCRIPTIONS, {"action": "pause_selected", "_selected_action": [subscription.pk]})
    subscription.refresh_from_db()
    assert not subscription.is_active

    client.post(SUBSCRIPTIONS, {"action": "resume_selected", "_selected_action": [subscription.pk]})
    subscription.refresh_from_db()
    assert subscription.is_delivering and subscription.disabled_reason == ""


def _failed_delivery(owner) -> WebhookDelivery:
    subscription, _ = subscribe(owner)
    ContactFactory()
    event = ChangeEvent.objects.latest("id")
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=event,
        status=WebhookDelivery.Status.FAILED,
        attempts=1,
        last_status_code=500,
        last_error="receiver exploded",
    )
    WebhookAttempt.objects.create(
        delivery=delivery, status_code=500, latency_ms=37, error="receiver exploded"
    )
    return delivery


def test_a_manager_reads_a_delivery_with_its_attempts_and_replays_it(client):
    manager = ManagerFactory()
    client.force_login(manager)
    delivery = _failed_delivery(manager)

    page = client.get(reverse("admin:integrations_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "receiver exploded" in body and "37" in body
    assert delivery.subscription.secret not in body

    client.post(DELIVERIES, {"action": "replay_selected", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    assert delivery.next_attempt_at <= timezone.now()


def test_sales_staff_can_neither_read_nor_replay_deliveries(client):
    delivery = _failed_delivery(ManagerFactory())
    client.force_login(SalesUserFactory())

    assert client.get(DELIVERIES).status_code == 403
    client.post(DELIVERIES, {"action": "replay_selected", "_selected_action": [delivery.pk]})
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.FAILED
