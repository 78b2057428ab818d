import pytest
from django.core.exceptions import ValidationError

from customers import selectors
from customers.actors import SYSTEM
from customers.models import Activity, Contact, Deal, Tag
from customers.services import contacts
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    SalesUserFactory,
)

pytestmark = pytest.mark.django_db


def error_fields(excinfo) -> set[str]:
    return set(excinfo.value.message_dict)


def test_create_stores_fields_indexes_owner_and_tags():
    owner = SalesUserFactory()
    company = CompanyFactory()

    contact = contacts.contact_create(
        actor=SYSTEM,
        first_name="  伟 ",
        last_name="张",
        email="zhang.wei@example.cn",
        phone="+86 138 0013 8000",
        company=company.pk,
        owner=owner,
        tags=["VIP", "vip", "Partner"],
    )

    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name) == ("伟", "张")
    assert contact.company == company and contact.owner == owner
    assert contact.email_index and contact.phone_index
    assert sorted(tag.name for tag in contact.tags.all()) == ["Partner", "VIP"]


def test_tags_are_matched_case_insensitively_across_contacts():
    contacts.contact_create(actor=SYSTEM, first_name="A", tags=["Hot Lead"])
    contacts.contact_create(actor=SYSTEM, first_name="B", tags=["hot lead"])

    assert Tag.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"first_name": "A", "email": "not-an-email"}, "email"),
        ({"first_name": "A", "phone": "call me maybe"}, "phone"),
        ({"first_name": "A", "phone": "12"}, "phone"),
        ({"first_name": "x" * 151}, "first_name"),
        ({"first_name": "A", "address": "y" * 1001}, "address"),
        ({"first_name": "A", "lifecycle_stage": "zombie"}, "lifecycle_stage"),
        ({"first_name": "A", "company": 999_999}, "company"),
        ({"first_name": "A", "owner": 999_999}, "owner"),
        ({"first_name": "A", "tags": [""]}, "tags"),
    ],
)
def test_bad_input_raises_field_error_and_writes_nothing(data, field):
    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(actor=SYSTEM, **data)

    assert field in error_fields(excinfo)
    assert Contact.objects.count() == 0
    assert Tag.objects.count() == 0


@pytest.mark.parametrize("tags", ["vip", 5, {"vip": True}])
def test_tags_that_are_not_a_list_of_names_are_a_field_error_not_one_tag_per_letter(tags):
    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(actor=SYSTEM, first_name="A", tags=tags)

    assert error_fields(excinfo) == {"tags"}
    assert Contact.objects.count() == 0
    assert Tag.objects.count() == 0


def test_every_mistake_is_reported_at_once_references_and_tags_included():
    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(
            actor=SYSTEM,
            first_name="A",
            email="not-an-email",
            lifecycle_stage="zombie",
            company=999_999,
            owner=999_999,
            tags=["ok", ""],
        )

    errors = excinfo.value.message_dict
    assert set(errors) == {"email", "lifecycle_stage", "company", "owner", "tags"}
    assert errors["company"] == ["Unknown company 999999."]
    assert Contact.objects.count() == 0
    assert Tag.objects.count() == 0


def test_a_contact_needs_something_to_identify_it():
    with pytest.raises(ValidationError, match="name, an email or a phone"):
        contacts.contact_create(actor=SYSTEM)


def test_unknown_fields_are_refused():
    contact = ContactFactory()

    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_update(actor=SYSTEM, contact=contact, data={"favourite_colour": "blue"})

    assert error_fields(excinfo) == {"favourite_colour"}


def test_duplicate_email_in_any_case_is_a_field_error_on_email():
    ContactFactory(email="dup@example.com")

    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(actor=SYSTEM, first_name="B", email="DUP@example.com ")

    assert excinfo.value.message_dict == {
        "email": ["Another contact already has this email address."]
    }
    assert Contact.objects.count() == 1


def test_duplicate_external_id_is_a_field_error():
    ContactFactory(external_id="erp-1")

    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(actor=SYSTEM, first_name="B", external_id="erp-1")

    assert error_fields(excinfo) == {"external_id"}


def test_blank_external_ids_do_not_collide():
    contacts.contact_create(actor=SYSTEM, first_name="A", external_id="")
    contacts.contact_create(actor=SYSTEM, first_name="B", external_id="  ")

    assert Contact.objects.filter(external_id__isnull=True).count() == 2


def test_failed_update_leaves_the_stored_row_unchanged():
    contact = ContactFactory(first_name="Before", email="keep@example.com")

    with pytest.raises(ValidationError):
        contacts.contact_update(
            actor=SYSTEM, contact=contact, data={"first_name": "After", "email": "bad"}
        )

    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.first_name, stored.email) == ("Before", "keep@example.com")


def test_update_changes_only_the_given_fields():
    contact = ContactFactory(first_name="Ann", title="CTO")

    contacts.contact_update(actor=SYSTEM, contact=contact, data={"title": "CEO"})

    stored = Contact.objects.get(pk=contact.pk)
    assert (stored.first_name, stored.title) == ("Ann", "CEO")


def test_consent_change_is_timestamped():
    contact = ContactFactory()
    assert contact.consent_updated_at is None

    contacts.contact_update(actor=SYSTEM, contact=contact, data={"consent_email": True})

    assert Contact.objects.get(pk=contact.pk).consent_updated_at is not None


def test_upsert_by_external_id_creates_then_updates():
    data = {"external_id": "crm-42", "first_name": "Lei", "email": "lei@example.com"}

    first, created = contacts.contact_upsert(actor=SYSTEM, data=data)
    second, created_again = contacts.contact_upsert(actor=SYSTEM, data={**data, "title": "Buyer"})

    assert (created, created_again) == (True, False)
    assert first.pk == second.pk
    assert Contact.objects.get(pk=first.pk).title == "Buyer"


def test_upsert_by_external_id_is_idempotent():
    data = {"external_id": "crm-7", "first_name": "Ming", "tags": ["a", "b"]}

    for _ in range(3):
        contacts.contact_upsert(actor=SYSTEM, data=data)

    assert Contact.objects.count() == 1
    assert Contact.objects.get().tags.count() == 2


def test_upsert_by_email_matches_through_the_blind_index():
    existing = ContactFactory(email="Match@Example.com")

    contact, created = contacts.contact_upsert(
        actor=SYSTEM, data={"email": "match@example.com", "title": "Buyer"}, match="email"
    )

    assert not created and contact.pk == existing.pk
    assert Contact.objects.get(pk=existing.pk).title == "Buyer"


def test_upsert_without_a_key_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_upsert(actor=SYSTEM, data={"first_name": "No key"})

    assert error_fields(excinfo) == {"external_id"}
    assert Contact.objects.count() == 0


def test_delete_keeps_activities_and_files_them_under_the_company():
    company = CompanyFactory()
    contact = ContactFactory(company=company)
    activity = ActivityFactory(contact=contact)
    deal = DealFactory(primary_contact=contact)

    contacts.contact_delete(actor=SYSTEM, contact=contact)

    activity.refresh_from_db()
    assert activity.contact is None and activity.company == company
    assert Deal.objects.get(pk=deal.pk).primary_contact is None


def test_merge_moves_activities_deals_and_tags_and_fills_blanks():
    primary = contacts.contact_create(
        actor=SYSTEM, first_name="Wei", last_name="Zhang", tags=["vip"]
    )
    duplicate = ContactFactory(
        first_name="W.", email="wei@example.com", title="CTO", tags=["partner"], notes="Met at expo"
    )
    ActivityFactory.create_batch(2, contact=duplicate)
    ActivityFactory(contact=primary)
    deal = DealFactory(primary_contact=duplicate)

    merged = contacts.contact_merge(actor=SYSTEM, primary=primary, duplicates=[duplicate])

    assert not Contact.objects.filter(pk=duplicate.pk).exists()
    assert Activity.objects.filter(contact=merged).count() == 3
    assert Deal.objects.get(pk=deal.pk).primary_contact == merged
    assert {tag.name for tag in merged.tags.all()} == {"vip", "partner"}
    assert merged.first_name == "Wei"  # the primary's own values win
    assert merged.email == "wei@example.com" and merged.title == "CTO"
    assert selectors.find_contact_by_email("wei@example.com") == merged
    assert "Met at expo" in merged.notes


def test_merge_into_itself_is_refused():
    contact = ContactFactory()

    with pytest.raises(ValidationError):
        contacts.contact_merge(actor=SYSTEM, primary=contact, duplicates=[contact])


@pytest.mark.parametrize(
    ("first", "last", "full"),
    [("Wei", "Zhang", "Wei Zhang"), ("伟", "张", "张伟"), ("", "Smith", "Smith")],
)
def test_full_name_follows_the_names_own_order(first, last, full):
    assert Contact(first_name=first, last_name=last).full_name == full


def test_tags_with_non_ascii_capitals_match_case_insensitively_on_every_database():
    first = contacts.contact_create(actor=SYSTEM, first_name="A", tags=["Ärger", "ÖL"])
    second = contacts.contact_create(actor=SYSTEM, first_name="B", tags=["ärger", "öl"])

    assert Tag.objects.count() == 2
    assert {t.pk for t in first.tags.all()} == {t.pk for t in second.tags.all()}
