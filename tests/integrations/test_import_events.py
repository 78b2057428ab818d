"""Bulk imports record their outbox events too, in bulk and in each chunk's transaction: one
per record created, one per record updated naming what changed (custom fields by name), none
for unchanged rows, none for a dry run."""

import pytest

from customers.actors import SYSTEM
from customers.models import ChangeEvent, Contact, Deal
from customers.services.custom_fields import custom_field_create
from tests.factories import CompanyFactory
from tests.integrations.test_imports import run

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

FILE = "external_id,first_name,email,tier\nE-1,伟,wei@example.com,gold\nE-2,娜,na@example.com,\n"


def events() -> list[tuple]:
    return [
        (event.type, event.external_id, event.changed_fields)
        for event in ChangeEvent.objects.order_by("id")
    ]


def test_an_import_records_a_created_event_per_new_record():
    custom_field_create(actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text")

    run(FILE, mode="upsert", match_key="external_id")

    assert events() == [("contact.created", "E-1", []), ("contact.created", "E-2", [])]


def test_an_update_names_its_changed_fields_and_unchanged_rows_record_nothing():
    custom_field_create(actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text")
    run(FILE, mode="upsert", match_key="external_id")
    ChangeEvent.objects.all().delete()

    changed = FILE.replace("gold", "silver").replace("na@example.com", "li.na@example.com")
    run(changed, mode="upsert", match_key="external_id")

    assert sorted(events()) == [
        ("contact.updated", "E-1", ["tier"]),
        ("contact.updated", "E-2", ["email"]),
    ]
    ChangeEvent.objects.all().delete()
    run(changed, mode="upsert", match_key="external_id")
    assert events() == []


def test_a_dry_run_records_no_event():
    run(FILE, dry_run=True)

    assert not Contact.objects.exists()
    assert events() == []


def test_moving_deals_by_import_records_their_stage_changes():
    CompanyFactory(name="Acme", external_id="acc-1")
    header = "name,company.external_id,stage,external_id\n"
    run(header + "Pilot,acc-1,Qualification,d-1\n", resource="deals", filename="d.csv")
    before = Deal.objects.get().stage_id
    ChangeEvent.objects.all().delete()

    run(header + "Pilot,acc-1,Proposal,d-1\n", resource="deals", filename="d.csv")

    deal = Deal.objects.get()
    assert events() == [
        ("deal.updated", "d-1", ["stage"]),
        ("deal.stage_changed", "d-1", []),
    ]
    moved = ChangeEvent.objects.get(type="deal.stage_changed")
    assert moved.data == {"from_stage": before, "to_stage": deal.stage_id, "status": "open"}
