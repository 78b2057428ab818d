"""Webhook subscriptions on the integrations area: managers only, each sees their own; created
through the webhooks service with the signing secret shown once (in the creation's response,
uncached, never again), paused, resumed, deleted; deliveries listed newest first with every
attempt, and replayed."""

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from integrations.models import Connection
from integrations.webhooks import delivery as sending
from integrations.webhooks import services
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.factories import ContactFactory, ManagerFactory
from tests.integrations.test_webhooks import Receiver, deliver_all
from tests.web.browser import chromium, log_in, screenshot

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]
Status = WebhookDelivery.Status


@pytest.fixture
def manager():
    return ManagerFactory(username="boss")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def receiver(tmp_path):
    running = Receiver(tmp_path, failures=1000)  # answers 500: every attempt is logged failed
    yield running
    running.stop()


def subscribe(owner, url="http://127.0.0.1:9/hooks", events=("*",)) -> WebhookSubscription:
    subscription, _secret = services.subscription_create(owner=owner, url=url, events=events)
    return subscription


def test_sales_users_get_403_on_every_webhook_door(sales_client, manager):
    subscription = subscribe(manager)
    doors = [
        ("get", reverse("web:webhook-list")),
        ("post", reverse("web:webhook-create")),
        ("post", reverse("web:webhook-pause", args=[subscription.pk])),
        ("post", reverse("web:webhook-resume", args=[subscription.pk])),
        ("post", reverse("web:webhook-delete", args=[subscription.pk])),
        ("get", reverse("web:webhook-deliveries", args=[subscription.pk])),
        ("post", reverse("web:webhook-replay", args=[subscription.pk, 1])),
    ]
    for method, url in doors:
        assert getattr(sales_client, method)(url).status_code == 403, url
    subscription.refresh_from_db()
    assert subscription.is_active


def test_the_signing_secret_is_shown_once_and_never_again(manager_client, manager):
    response = manager_client.post(
        reverse("web:webhook-create"),
        {
            "url": "http://127.0.0.1:9/hooks",
            "events": ["contact.created", "deal.stage_changed"],
            "description": "ERP",
        },
    )

    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    subscription = WebhookSubscription.objects.get()
    assert (subscription.owner, subscription.events, subscription.description) == (
        manager,
        ["contact.created", "deal.stage_changed"],
        "ERP",
    )
    assert subscription.secret in response.content.decode()
    for url in (
        reverse("web:webhook-list"),
        reverse("web:webhook-deliveries", args=[subscription.pk]),
        reverse("web:integration-list"),
    ):
        assert subscription.secret not in manager_client.get(url).content.decode(), url


@pytest.mark.parametrize(
    "data, field",
    [
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "http://10.1.2.3/hooks", "events": ["*"]}, "url"),  # private: refused
        ({"url": "http://127.0.0.1:9/hooks"}, "events"),
        ({"url": "http://127.0.0.1:9/hooks", "events": ["contact.exploded"]}, "events"),
    ],
)
def test_a_refused_subscription_shows_the_error_next_to_the_field(
    manager_client, settings, data, field
):
    response = manager_client.post(reverse("web:webhook-create"), data)

    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert f'id="id_{field}_error"' in response.content.decode()
    assert WebhookSubscription.objects.count() == 0


def test_pause_resume_and_delete(manager_client, manager):
    subscription = subscribe(manager)

    manager_client.post(reverse("web:webhook-pause", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert not subscription.is_active
    assert "Paused" in manager_client.get(reverse("web:webhook-list")).content.decode()

    WebhookSubscription.objects.filter(pk=subscription.pk).update(
        disabled_at=timezone.now(), disabled_reason="Delivery 7 failed 9 times (last: HTTP 500)."
    )
    page = manager_client.get(reverse("web:webhook-list")).content.decode()
    assert "Flagged" in page and "Delivery 7 failed 9 times" in page

    manager_client.post(reverse("web:webhook-resume", args=[subscription.pk]))
    subscription.refresh_from_db()
    assert subscription.is_delivering and subscription.disabled_reason == ""

    manager_client.post(reverse("web:webhook-delete", args=[subscription.pk]))
    assert WebhookSubscription.objects.count() == 0


def test_another_managers_subscription_is_invisible_and_untouchable(manager_client):
    theirs = subscribe(ManagerFactory(username="other"), url="http://127.0.0.1:9/theirs")

    assert "/theirs" not in manager_client.get(reverse("web:webhook-list")).content.decode()
    for name in ("web:webhook-pause", "web:webhook-delete"):
        assert manager_client.post(reverse(name, args=[theirs.pk])).status_code == 404
    deliveries = reverse("web:webhook-deliveries", args=[theirs.pk])
    assert manager_client.get(deliveries).status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_active


@pytest.mark.django_db(transaction=True)
def test_deliveries_show_each_attempt_and_a_replay_sends_again(manager_client, manager, receiver):
    subscription = subscribe(manager, url=receiver.url)
    ContactFactory()
    (delivery,) = deliver_all()
    delivery.refresh_from_db()
    attempt = delivery.attempt_log.get()

    page = manager_client.get(reverse("web:webhook-deliveries", args=[subscription.pk]))

    body = page.content.decode()
    assert f'data-delivery="{delivery.pk}"' in body and "contact.created" in body
    assert f"HTTP {attempt.status_code}" in body and f"{attempt.latency_ms} ms" in body
    assert subscription.secret not in body

    replay = reverse("web:webhook-replay", args=[subscription.pk, delivery.pk])
    assert manager_client.post(replay).status_code == 302
    delivery.refresh_from_db()
    assert delivery.status == Status.PENDING and delivery.next_attempt_at <= timezone.now()
    sending.deliver(delivery.pk)
    assert [got["delivery"] for got in receiver.received()] == [str(delivery.pk)] * 2


def _queries(client, url) -> int:
    with CaptureQueriesContext(db_connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def _add_subscriptions(owner, count: int) -> None:
    for number in range(count):
        subscribe(owner, url=f"http://127.0.0.1:9/hooks/{number}")


@pytest.mark.django_db(transaction=True)
def test_the_lists_cost_the_same_queries_whatever_their_length(manager_client, manager, receiver):
    _add_subscriptions(manager, 2)
    few_subscriptions = _queries(manager_client, reverse("web:webhook-list"))
    _add_subscriptions(manager, 10)
    many_subscriptions = _queries(manager_client, reverse("web:webhook-list"))
    assert many_subscriptions == few_subscriptions

    subscription = subscribe(manager, url=receiver.url, events=["contact.created"])
    deliveries = reverse("web:webhook-deliveries", args=[subscription.pk])
    ContactFactory()
    deliver_all()
    few_deliveries = _queries(manager_client, deliveries)
    for _ in range(5):
        ContactFactory()
    deliver_all()
    assert WebhookDelivery.objects.filter(subscription=subscription).count() == 6
    assert _queries(manager_client, deliveries) == few_deliveries


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_in_a_browser_the_secret_shows_once_and_a_bad_config_key_is_named(live_server):
    ManagerFactory(username="boss")
    with chromium() as driver:
        log_in(driver, live_server.url, "boss")
        driver.get(live_server.url + reverse("web:webhook-list"))
        driver.find_element(By.ID, "id_url").send_keys("http://127.0.0.1:9/hooks")
        events = Select(driver.find_element(By.ID, "id_events"))
        events.select_by_value("contact.created")
        events.select_by_value("deal.stage_changed")
        driver.find_element(By.CSS_SELECTOR, "form[data-webhook-form] button.primary").click()
        shown = (
            WebDriverWait(driver, 10)
            .until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-new-webhook-secret]"))
            .get_attribute("value")
        )
        screenshot(driver, "webhook-secret-once")
        subscription = WebhookSubscription.objects.get()
        assert shown == subscription.secret
        assert subscription.events == ["contact.created", "deal.stage_changed"]
        driver.get(live_server.url + reverse("web:webhook-list"))
        assert driver.find_elements(By.CSS_SELECTOR, f'[data-subscription="{subscription.pk}"]')
        assert shown not in driver.page_source

        driver.get(live_server.url + reverse("web:connection-new"))
        driver.find_element(By.ID, "id_name").send_keys("Legacy ERP")
        Select(driver.find_element(By.ID, "id_connector")).select_by_value("rest_json")
        config = driver.find_element(By.ID, "id_config")
        config.send_keys('{"url": "https://erp.example.com/api/", "passwrod": "x"}')
        driver.find_element(By.CSS_SELECTOR, "form[data-connection-form] button.primary").click()
        error = WebDriverWait(driver, 10).until(lambda d: d.find_element(By.ID, "id_config_error"))
        screenshot(driver, "connection-bad-config-key")
        assert error.text.startswith("passwrod:")
        assert config_is_marked_invalid(driver)
    assert Connection.objects.count() == 0


def config_is_marked_invalid(driver) -> bool:
    field = driver.find_element(By.ID, "id_config")
    return field.get_attribute("aria-invalid") == "true"
