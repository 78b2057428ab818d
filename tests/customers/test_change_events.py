"""Every write through the services records its domain event in the outbox, in the same
transaction: a rolled-back write leaves no event, a committed one always has its event, and an
event names what changed without holding any personal data."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from customers import events
from customers.actors import SYSTEM
from customers.models import ChangeEvent, Contact, Stage
from customers.services import activities, companies, contacts, deals
from customers.services.custom_fields import custom_field_create
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def recorded(**filters) -> list[tuple]:
    return [
        (event.type, event.record_id, event.changed_fields)
        for event in ChangeEvent.objects.filter(**filters).order_by("id")
    ]


def test_creating_a_contact_records_contact_created_with_its_external_id():
    person = contacts.contact_create(
        actor=SYSTEM, first_name="伟", email="wei@example.com", external_id="E-1"
    )

    event = ChangeEvent.objects.get()
    assert (event.type, event.entity, event.record_id, event.external_id) == (
        "contact.created",
        "contact",
        person.pk,
        "E-1",
    )


def test_an_update_names_the_fields_it_changed_personal_ones_included():
    person = ContactFactory(first_name="Wei", email="wei@example.com", tags=["vip"])
    ChangeEvent.objects.all().delete()

    contacts.contact_update(
        actor=SYSTEM,
        contact=person,
        data={"first_name": "Wei", "email": "wei.zhang@example.com", "tags": ["vip", "2026"]},
    )

    assert recorded() == [("contact.updated", person.pk, ["email", "tags"])]


def test_an_update_that_changes_nothing_records_nothing():
    person = ContactFactory(first_name="Wei", email="wei@example.com", tags=["vip"])
    ChangeEvent.objects.all().delete()

    contacts.contact_update(
        actor=SYSTEM,
        contact=person,
        data={"first_name": "Wei", "email": "wei@example.com", "tags": ["vip"]},
    )

    assert recorded() == []


def test_custom_fields_are_named_like_built_in_ones_and_personal_values_compare_by_value():
    custom_field_create(actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text")
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    person = ContactFactory(custom_fields={"tier": "gold", "wechat": "wx1"})
    ChangeEvent.objects.all().delete()

    contacts.contact_update(actor=SYSTEM, contact=person, data={"custom_fields": {"wechat": "wx1"}})
    assert recorded() == []  # same value, new ciphertext: not a change

    contacts.contact_update(
        actor=SYSTEM, contact=person, data={"custom_fields": {"tier": "silver"}}
    )
    contacts.contact_update(actor=SYSTEM, contact=person, data={"custom_fields": {"wechat": "wx2"}})
    assert recorded() == [
        ("contact.updated", person.pk, ["tier"]),
        ("contact.updated", person.pk, ["wechat"]),
    ]


_ALL_BUT_TIME = [
    field.name for field in ChangeEvent._meta.concrete_fields if field.name != "occurred_at"
]


def test_events_hold_field_names_never_personal_values():
    person = contacts.contact_create(
        actor=SYSTEM, email="secret.person@example.com", phone="+86 138 0013 8000"
    )
    contacts.contact_update(
        actor=SYSTEM, contact=person, data={"email": "other.secret@example.com"}
    )

    # every column but the timestamp, whose microseconds may hold any digits
    stored = json.dumps(list(ChangeEvent.objects.values(*_ALL_BUT_TIME)), default=str)
    assert "secret" not in stored and "138" not in stored


def test_a_refused_write_records_no_event():
    with pytest.raises(ValidationError):
        contacts.contact_create(actor=SYSTEM, email="not an email")

    assert not ChangeEvent.objects.exists()


def test_a_rolled_back_transaction_takes_its_events_with_it():
    with pytest.raises(RuntimeError), transaction.atomic():
        contacts.contact_create(actor=SYSTEM, first_name="Gone")
        raise RuntimeError("the caller fails after the write")

    assert not Contact.objects.exists() and not ChangeEvent.objects.exists()


def test_listeners_hear_of_events_only_after_the_commit(django_capture_on_commit_callbacks):
    heard: list[int] = []

    def listener(sender, count, **kwargs):
        heard.append(count)

    events.events_committed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            person = contacts.contact_create(actor=SYSTEM, first_name="Li")
        assert heard == []
        for callback in callbacks:
            callback()
    finally:
        events.events_committed.disconnect(listener)

    assert heard == [1]
    assert ChangeEvent.objects.filter(record_id=person.pk).exists()


def test_deleting_records_the_deletion_with_the_external_id():
    person = ContactFactory(external_id="E-9")
    person_id = person.pk

    contacts.contact_delete(actor=SYSTEM, contact=person)

    event = ChangeEvent.objects.latest("id")
    assert (event.type, event.record_id, event.external_id) == ("contact.deleted", person_id, "E-9")


def test_a_merge_records_each_duplicate_deleted_into_the_survivor_and_the_merge():
    primary = ContactFactory(first_name="Wei", email=None)
    duplicate = ContactFactory(first_name="Wei", email="wei@example.com")
    ChangeEvent.objects.all().delete()

    contacts.contact_merge(actor=SYSTEM, primary=primary, duplicates=[duplicate])

    events_ = list(ChangeEvent.objects.order_by("id"))
    assert [(e.type, e.record_id) for e in events_] == [
        ("contact.deleted", duplicate.pk),
        ("contact.updated", primary.pk),
        ("contact.merged", primary.pk),
    ]
    assert events_[0].data == {"merged_into": primary.pk}
    assert events_[2].data == {"merged_ids": [duplicate.pk]}


def test_moving_a_deal_records_its_update_and_the_stage_change():
    deal = DealFactory()
    won = Stage.objects.get(pipeline=deal.stage.pipeline, outcome=Stage.Outcome.WON)
    before = deal.stage_id
    ChangeEvent.objects.all().delete()

    deals.deal_move_to_stage(actor=SYSTEM, deal=deal, stage=won)

    updated, stage_changed = ChangeEvent.objects.order_by("id")
    assert (updated.type, updated.changed_fields) == ("deal.updated", ["stage", "status"])
    assert stage_changed.type == "deal.stage_changed"
    assert stage_changed.data == {"from_stage": before, "to_stage": won.pk, "status": "won"}


def test_companies_and_activities_record_their_events_too():
    company = CompanyFactory()
    companies.company_update(actor=SYSTEM, company=company, data={"industry": "Retail"})
    activity = ActivityFactory(company=company)
    activities.activity_delete(actor=SYSTEM, activity=activity)
    companies.company_delete(actor=SYSTEM, company=company)

    assert [event[0] for event in recorded(entity__in=["company", "activity"])] == [
        "company.created",
        "company.updated",
        "activity.created",
        "activity.deleted",
        "company.deleted",
    ]


def test_bulk_writers_record_one_event_per_record_in_one_insert(django_assert_num_queries):
    people = [ContactFactory() for _ in range(3)]
    ChangeEvent.objects.all().delete()

    with django_assert_num_queries(1):
        count = events.record_many("contact.updated", people, changed=[["email"]] * 3)

    assert count == 3
    assert recorded() == [("contact.updated", person.pk, ["email"]) for person in people]


def test_an_unknown_event_type_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown event type"):
        events.record("contact.exploded", ContactFactory())
