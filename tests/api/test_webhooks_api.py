"""/api/v1/webhooks/: managers' keys subscribe (the secret is returned once and stored
encrypted), list, pause, resume, unsubscribe and replay; everyone else is refused."""

import pytest
from django.db import connection

from customers.models import ChangeEvent
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.api.conftest import client_with_key
from tests.factories import ContactFactory, ManagerFactory, SalesUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]

URL = "/api/v1/webhooks/"
HOOK = "http://127.0.0.1:9/hooks"


@pytest.fixture
def manager_api():
    return client_with_key(
        ManagerFactory(), ["integrations:read", "integrations:write", "contacts:read"]
    )


def subscribe(api, **body):
    return api.post(URL, {"url": HOOK, "events": ["contact.created"], **body}, format="json")


def test_subscribing_returns_the_secret_once_and_stores_it_encrypted(manager_api):
    response = subscribe(manager_api, description="ERP")

    assert response.status_code == 201, response.json()
    secret = response.json()["secret"]
    assert secret.startswith("whsec_")
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret == secret
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_webhooksubscription")
        assert secret not in cursor.fetchone()[0]
    listed = manager_api.get(URL).json()
    assert [item["url"] for item in listed] == [HOOK]
    assert "secret" not in listed[0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": ["contact.exploded"]}, "events"),
        ({"events": []}, "events"),
        ({"url": "http://10.1.1.1/hook"}, "url"),
        ({"url": "not a url"}, "url"),
    ],
)
def test_bad_subscriptions_are_a_400_naming_the_field(manager_api, body, field):
    response = subscribe(manager_api, **body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not WebhookSubscription.objects.exists()


def test_sales_users_and_keys_without_the_integrations_scope_are_refused():
    sales = client_with_key(SalesUserFactory(), ["integrations:read", "integrations:write"])
    narrow = client_with_key(ManagerFactory(), ["contacts:read"])

    assert subscribe(sales).status_code == 403
    assert subscribe(narrow).status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_a_subscription_is_paused_resumed_and_deleted(manager_api):
    subscription_id = subscribe(manager_api).json()["id"]

    paused = manager_api.post(f"{URL}{subscription_id}/pause/").json()
    resumed = manager_api.post(f"{URL}{subscription_id}/resume/").json()
    deleted = manager_api.delete(f"{URL}{subscription_id}/")

    assert (paused["is_active"], resumed["is_active"]) == (False, True)
    assert deleted.status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_others_subscriptions_are_invisible(manager_api):
    other = client_with_key(
        ManagerFactory(), ["integrations:read", "integrations:write", "contacts:read"]
    )
    subscription_id = subscribe(other).json()["id"]

    assert manager_api.get(f"{URL}{subscription_id}/").status_code == 404
    assert manager_api.get(URL).json() == []


def test_a_delivery_is_listed_with_its_attempts_and_can_be_replayed(manager_api):
    subscription = WebhookSubscription.objects.get(pk=subscribe(manager_api).json()["id"])
    ContactFactory()
    delivery = WebhookDelivery.objects.create(
        subscription=subscription,
        event=ChangeEvent.objects.get(),
        status=WebhookDelivery.Status.FAILED,
        attempts=12,
    )

    listed = manager_api.get(f"{URL}{subscription.pk}/deliveries/").json()
    replayed = manager_api.post(f"{URL}{subscription.pk}/deliveries/{delivery.pk}/replay/")

    assert [(d["id"], d["event_type"], d["status"]) for d in listed] == [
        (delivery.pk, "contact.created", "failed")
    ]
    assert replayed.status_code == 202
    delivery.refresh_from_db()
    assert delivery.status == WebhookDelivery.Status.PENDING
    missing = manager_api.post(f"{URL}{subscription.pk}/deliveries/999999/replay/")
    assert missing.status_code == 404
