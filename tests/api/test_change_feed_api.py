"""GET /api/v1/changes/: domain events in a stable order, paged by an opaque cursor, filtered
by type, limited to the entities the caller may read, with clear 400s for bad parameters."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from customers.actors import SYSTEM
from customers.models import ChangeEvent
from customers.services import contacts
from integrations.services.change_feed import purge_change_events
from integrations.webhooks.models import WebhookDelivery, WebhookSubscription
from tests.api.conftest import client_with_key
from tests.factories import CompanyFactory, ContactFactory, ManagerFactory

# Committed writes: on PostgreSQL the feed serves only transactions that have ended, so a test
# wrapped in one open transaction would never see its own events.
pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/changes/"


def read_all(api, **params) -> tuple[list[dict], str]:
    """Follow next_cursor until the feed has nothing more."""
    seen: list[dict] = []
    cursor = None
    while True:
        response = api.get(URL, {**params, **({"after": cursor} if cursor else {})})
        assert response.status_code == 200, response.content
        body = response.json()
        seen += body["results"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            return seen, cursor


def test_the_feed_lists_every_event_once_in_order_across_pages(api):
    people = [ContactFactory(external_id=f"E-{n}") for n in range(5)]
    contacts.contact_update(actor=SYSTEM, contact=people[0], data={"first_name": "改"})
    contacts.contact_delete(actor=SYSTEM, contact=people[1])

    events, _ = read_all(api, limit=2)

    expected = list(ChangeEvent.objects.order_by("id").values_list("id", flat=True))
    assert [event["id"] for event in events] == expected
    assert events[-2]["type"] == "contact.updated"
    assert events[-2]["changed_fields"] == ["first_name"]
    assert (events[-1]["type"], events[-1]["external_id"]) == ("contact.deleted", "E-1")


def test_a_reader_continues_from_its_cursor_and_an_empty_page_keeps_it(api):
    ContactFactory()
    _, cursor = read_all(api)

    empty = api.get(URL, {"after": cursor}).json()
    later = ContactFactory()
    fresh = api.get(URL, {"after": cursor}).json()

    assert (empty["results"], empty["next_cursor"], empty["has_more"]) == ([], cursor, False)
    assert [(e["type"], e["record_id"]) for e in fresh["results"]] == [
        ("contact.created", later.pk)
    ]


def test_types_keep_only_the_named_events(api):
    person = ContactFactory()
    contacts.contact_update(actor=SYSTEM, contact=person, data={"first_name": "改"})
    contacts.contact_delete(actor=SYSTEM, contact=person)

    events, _ = read_all(api, types="contact.deleted,contact.updated")

    assert [event["type"] for event in events] == ["contact.updated", "contact.deleted"]


def test_a_key_sees_only_the_events_of_entities_it_may_read(sales_user):
    ContactFactory()
    CompanyFactory()
    contacts_only = client_with_key(sales_user, ["contacts:read"])
    nothing_readable = client_with_key(sales_user, ["imports:read"])

    events, _ = read_all(contacts_only)

    assert {event["entity"] for event in events} == {"contact"}
    assert read_all(nothing_readable)[0] == []


def test_anonymous_readers_are_refused():
    assert APIClient().get(URL).status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"after": "yesterday"}, "after"),
        ({"after": "1-2-3"}, "after"),
        ({"limit": "0"}, "limit"),
        ({"limit": "5000"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"types": "contact.exploded"}, "types"),
    ],
)
def test_bad_parameters_are_a_400_naming_the_parameter(api, params, field):
    response = api.get(URL, params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_include_record_carries_each_record_as_it_is_now_with_pii_per_the_key(sales_user, api):
    kept = ContactFactory(first_name="伟", email="wei@example.com")
    gone = ContactFactory()
    gone_id = gone.pk
    contacts.contact_update(actor=SYSTEM, contact=kept, data={"title": "CTO"})
    contacts.contact_delete(actor=SYSTEM, contact=gone)
    without_pii = client_with_key(sales_user, ["contacts:read"])

    events, _ = read_all(api, include="record")
    masked, _ = read_all(without_pii, include="record")

    records = {(e["type"], e["record_id"]): e["record"] for e in events}
    assert records["contact.created", kept.pk]["title"] == "CTO"  # now, not then
    assert records["contact.updated", kept.pk]["email"] == "wei@example.com"
    assert records["contact.deleted", gone_id] is None
    assert records["contact.created", gone_id] is None
    assert {e["record"]["email"] for e in masked if e["record_id"] == kept.pk} == {
        "w***@example.com"
    }


def test_without_include_events_carry_no_record(api):
    ContactFactory()

    events, _ = read_all(api)

    assert "record" not in events[0]


def test_an_unknown_include_is_a_400(api):
    response = api.get(URL, {"include": "everything"})

    assert response.status_code == 400
    assert "include" in response.json()["errors"]


def test_events_past_the_retention_are_purged_unless_a_delivery_still_waits(settings):
    settings.CHANGE_EVENT_RETENTION_DAYS = 30
    old, waiting, recent = (ContactFactory() for _ in range(3))
    long_ago = timezone.now() - timedelta(days=31)
    ChangeEvent.objects.filter(record_id__in=[old.pk, waiting.pk]).update(occurred_at=long_ago)
    subscription = WebhookSubscription.objects.create(
        owner=ManagerFactory(), url="http://127.0.0.1:9/", events=["*"], secret="s"
    )
    WebhookDelivery.objects.create(
        subscription=subscription, event=ChangeEvent.objects.get(record_id=waiting.pk)
    )

    assert purge_change_events() == 1
    assert set(ChangeEvent.objects.values_list("record_id", flat=True)) == {waiting.pk, recent.pk}
