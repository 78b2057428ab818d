"""Webhooks carry records, so they follow the change feed's rule: subscribing to an entity's
events needs its read scope (for a key) and its view permission (for the owner), `*` needs
every entity, and each delivery checks again, since rights change after subscribing."""

import pytest
from django.core.exceptions import ValidationError

from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create, api_key_revoke
from integrations.webhooks import services
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.api.conftest import client_with_key
from tests.api.support import assert_uniform_error
from tests.factories import ContactFactory, ManagerFactory
from tests.integrations.test_webhooks import Receiver, deliver_all

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("allow_loopback")]

URL = "/api/v1/webhooks/"
INTEGRATIONS_ONLY = ["integrations:read", "integrations:write"]
Status = WebhookDelivery.Status


@pytest.fixture
def receiver(tmp_path):
    running = Receiver(tmp_path, failures=0)
    yield running
    running.stop()


def key_of(owner, scopes):
    api_key_create(user=owner, name="hooks", scopes=list(scopes))
    return owner.api_keys.latest("id")


@pytest.mark.parametrize("events", [["*"], ["contact.created"], ["deal.stage_changed"]])
def test_a_key_with_only_integrations_scopes_cannot_subscribe_to_records(events):
    api = client_with_key(ManagerFactory(), INTEGRATIONS_ONLY)

    response = api.post(URL, {"url": "http://127.0.0.1:9/h", "events": events}, format="json")

    errors = assert_uniform_error(response, 400)["errors"]
    assert list(errors) == ["events"]
    assert WebhookSubscription.objects.count() == 0


def test_all_events_need_every_entitys_read_scope():
    api = client_with_key(ManagerFactory(), [*INTEGRATIONS_ONLY, "contacts:read"])

    response = api.post(URL, {"url": "http://127.0.0.1:9/h", "events": ["*"]}, format="json")

    message = assert_uniform_error(response, 400)["errors"]["events"][0]
    assert "companies:read" in message and "contacts:read" not in message


def test_a_key_reading_what_it_subscribes_to_is_accepted():
    contacts_only = client_with_key(ManagerFactory(), [*INTEGRATIONS_ONLY, "contacts:read"])
    everything = client_with_key(ManagerFactory(), ALL_SCOPES)
    body = {"url": "http://127.0.0.1:9/h"}

    one = contacts_only.post(URL, {**body, "events": ["contact.created"]}, format="json")
    every = everything.post(URL, {**body, "events": ["*"]}, format="json")

    assert (one.status_code, every.status_code) == (201, 201)


def test_a_user_without_the_view_permission_cannot_subscribe_even_through_the_service():
    owner = ManagerFactory()
    owner.groups.clear()

    with pytest.raises(ValidationError) as refused:
        services.subscription_create(owner=owner, url="http://127.0.0.1:9/h", events=["*"])

    assert list(refused.value.message_dict) == ["events"]


def test_an_owner_who_lost_the_right_receives_no_contact_payloads(receiver):
    owner = ManagerFactory()
    receiver.subscribe(owner=owner, events=["contact.created"])
    owner.groups.clear()  # no longer may view contacts
    ContactFactory(first_name="伟", last_name="张", email="zhang.wei@example.com")

    (delivery,) = deliver_all()

    assert receiver.received() == []
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED and delivery.next_attempt_at is None
    assert "may no longer read contacts" in delivery.last_error
    assert delivery.attempt_log.count() == 0


def test_a_revoked_key_stops_the_deliveries_of_its_subscription(receiver):
    owner = ManagerFactory()
    key = key_of(owner, ALL_SCOPES)
    receiver.subscribe(owner=owner, api_key=key, events=["*"])
    api_key_revoke(api_key=key, revoked_by=owner)
    ContactFactory()

    (delivery,) = deliver_all()

    assert receiver.received() == []
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED


def test_an_owner_who_keeps_the_right_still_receives_the_record(receiver):
    owner = ManagerFactory()
    receiver.subscribe(
        owner=owner, api_key=key_of(owner, ["contacts:read"]), events=["contact.created"]
    )
    ContactFactory(first_name="伟", last_name="张", email="zhang.wei@example.com")

    deliver_all()

    (got,) = receiver.received()
    assert got["body"]["record"]["full_name"] == "张伟"
    assert got["body"]["record"]["email"] == "z***@example.com"  # the key lacks pii:read
