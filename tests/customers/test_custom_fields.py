from decimal import Decimal

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.db import connection

from customers.actors import SYSTEM
from customers.custom_fields import types
from customers.custom_fields.values import definitions_for, plain_values
from customers.models import Contact, CustomField, Deal
from customers.services import contacts, deals
from customers.services.custom_fields import (
    count_values,
    custom_field_archive,
    custom_field_create,
    custom_field_delete,
    custom_field_update,
    incompatible_record_ids,
)
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def define(name, type_, entity="contact", **kwargs):
    return custom_field_create(
        actor=SYSTEM, entity=entity, name=name, label=name.title(), type=type_, **kwargs
    )


def stored(contact):
    return Contact.objects.get(pk=contact.pk).custom_fields


@pytest.mark.parametrize(
    ("type_", "given", "canonical", "extra"),
    [
        ("text", "  hello 世界 ", "  hello 世界 ", {}),
        ("long_text", "line 1\nline 2", "line 1\nline 2", {}),
        ("integer", "42", 42, {}),
        ("integer", 7, 7, {}),
        ("decimal", "1234.50", "1234.50", {}),
        ("decimal", Decimal("0.10"), "0.10", {}),
        ("date", "2026-12-31", "2026-12-31", {}),
        ("datetime", "2026-12-31T08:00:00+08:00", "2026-12-31T00:00:00Z", {}),
        ("boolean", "yes", True, {}),
        ("boolean", False, False, {}),
        ("choice", "gold", "gold", {"choices": ["gold", "silver"]}),
        ("multi_choice", ["b", "a", "b"], ["b", "a"], {"choices": ["a", "b"]}),
        ("email", " x@example.com ", "x@example.com", {}),
        ("phone", "+86 138 0013 8000", "+86 138 0013 8000", {}),
        ("url", "https://example.com/a", "https://example.com/a", {}),
    ],
)
def test_each_type_is_stored_in_its_canonical_form(type_, given, canonical, extra):
    define("field", type_, **extra)

    contact = contacts.contact_create(actor=SYSTEM, first_name="A", custom_fields={"field": given})

    assert stored(contact) == {"field": canonical}


@pytest.mark.parametrize(
    ("type_", "bad", "extra"),
    [
        ("integer", "4.5", {}),
        ("integer", True, {}),
        ("decimal", "NaN", {}),
        ("date", "31/12/2026", {}),
        ("datetime", "tomorrow", {}),
        ("boolean", "perhaps", {}),
        ("choice", "bronze", {"choices": ["gold"]}),
        ("multi_choice", ["gold", "tin"], {"choices": ["gold"]}),
        ("email", "not-an-email", {}),
        ("phone", "call me", {}),
        ("url", "ftp//nowhere", {}),
        ("text", "x" * 256, {}),
    ],
)
def test_invalid_values_are_refused_naming_the_field_and_write_nothing(type_, bad, extra):
    define("field", type_, **extra)

    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(actor=SYSTEM, first_name="A", custom_fields={"field": bad})

    assert set(excinfo.value.message_dict) == {"custom_fields.field"}
    assert Contact.objects.count() == 0


def test_unknown_and_builtin_errors_are_reported_together():
    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(actor=SYSTEM, email="bad", custom_fields={"nope": 1})

    assert {"email", "custom_fields.nope"} <= set(excinfo.value.message_dict)


def test_update_merges_values_and_null_clears_one():
    define("tier", "text")
    define("score", "integer")
    contact = contacts.contact_create(
        actor=SYSTEM, first_name="A", custom_fields={"tier": "A", "score": 1}
    )

    contacts.contact_update(actor=SYSTEM, contact=contact, data={"custom_fields": {"score": None}})

    assert stored(contact) == {"tier": "A"}


def test_defaults_fill_new_records_only():
    existing = ContactFactory()
    define("region", "choice", choices=["north", "south"], default="north")

    created = contacts.contact_create(actor=SYSTEM, first_name="New")

    assert stored(created) == {"region": "north"}
    assert stored(existing) == {}


def test_a_required_field_added_later_is_enforced_on_the_next_write_only():
    contact = ContactFactory(first_name="Old")
    define("vat_number", "text", required=True)

    assert Contact.objects.get(pk=contact.pk).first_name == "Old"  # reading still works
    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_update(actor=SYSTEM, contact=contact, data={"title": "CEO"})
    assert set(excinfo.value.message_dict) == {"custom_fields.vat_number"}

    contacts.contact_update(
        actor=SYSTEM, contact=contact, data={"custom_fields": {"vat_number": "CN-1"}}
    )
    assert stored(contact) == {"vat_number": "CN-1"}


def test_pii_values_are_ciphertext_in_the_database_and_found_by_exact_match(encryption_keys):
    define("wechat", "text", pii=True, unique=True)
    contact = contacts.contact_create(
        actor=SYSTEM, first_name="A", custom_fields={"wechat": "wx_zhang"}
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT custom_fields FROM customers_contact WHERE id = %s", [contact.pk])
        raw = cursor.fetchone()[0]
    assert "wx_zhang" not in raw
    token = Contact.objects.get(pk=contact.pk).custom_fields["wechat"]
    assert Fernet(encryption_keys[0].encode()).decrypt(token.encode()) == b"wx_zhang"

    definitions = definitions_for("contact")
    values = Contact.objects.get(pk=contact.pk).custom_fields
    assert plain_values(values, definitions, can_view_pii=True) == {"wechat": "wx_zhang"}
    assert plain_values(values, definitions, can_view_pii=False) == {"wechat": "***"}

    with pytest.raises(ValidationError) as excinfo:
        contacts.contact_create(
            actor=SYSTEM, first_name="B", custom_fields={"wechat": " wx_zhang "}
        )
    assert "custom_fields.wechat" in excinfo.value.message_dict


def test_unique_plain_field_is_unique_per_entity():
    define("passport", "text", unique=True)
    contacts.contact_create(actor=SYSTEM, first_name="A", custom_fields={"passport": "E123"})

    with pytest.raises(ValidationError):
        contacts.contact_create(actor=SYSTEM, first_name="B", custom_fields={"passport": "E123"})
    other = contacts.contact_create(
        actor=SYSTEM, first_name="C", custom_fields={"passport": "E124"}
    )
    assert stored(other) == {"passport": "E124"}


def test_deals_and_companies_carry_custom_fields_too():
    define("competitor", "text", entity="deal")

    deal = deals.deal_create(actor=SYSTEM, name="D", custom_fields={"competitor": "Globex"})

    assert Deal.objects.get(pk=deal.pk).custom_fields == {"competitor": "Globex"}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "email"}, "name"),
        ({"name": "Bad Name"}, "name"),
        ({"name": "ok", "type": "colour"}, "type"),
        ({"name": "ok", "type": "choice"}, "choices"),
        ({"name": "ok", "type": "text", "choices": ["a"]}, "choices"),
        ({"name": "ok", "type": "integer", "unique": True}, "unique"),
        ({"name": "ok", "type": "boolean", "pii": True}, "pii"),
        ({"name": "ok", "type": "integer", "default": "many"}, "default"),
    ],
)
def test_bad_definitions_are_refused(data, field):
    with pytest.raises(ValidationError) as excinfo:
        custom_field_create(actor=SYSTEM, entity="contact", label="L", **{"type": "text", **data})

    assert field in excinfo.value.message_dict
    assert CustomField.objects.count() == 0


NOT_A_LIST = {"a string": "gold", "a number": 5, "an object": {"gold": 1}, "true": True}


@pytest.mark.parametrize("type_", ["choice", "multi_choice", "text"])
@pytest.mark.parametrize("choices", list(NOT_A_LIST.values()), ids=list(NOT_A_LIST))
def test_choices_that_are_not_a_list_are_a_field_error_on_create(type_, choices):
    with pytest.raises(ValidationError) as excinfo:
        custom_field_create(
            actor=SYSTEM, entity="contact", name="tier", label="L", type=type_, choices=choices
        )

    assert "a list of texts" in excinfo.value.message_dict["choices"][0]
    assert CustomField.objects.count() == 0


@pytest.mark.parametrize("choices", list(NOT_A_LIST.values()), ids=list(NOT_A_LIST))
def test_choices_that_are_not_a_list_are_a_field_error_on_update(choices):
    field = define("tier", "choice", choices=["gold", "silver"])

    with pytest.raises(ValidationError) as excinfo:
        custom_field_update(actor=SYSTEM, field=field, data={"choices": choices})

    assert "choices" in excinfo.value.message_dict
    assert CustomField.objects.get(pk=field.pk).choices == ["gold", "silver"]


@pytest.mark.parametrize("empty", [None, "", (), []])
def test_no_choices_may_be_sent_as_nothing_at_all(empty):
    field = custom_field_create(
        actor=SYSTEM, entity="contact", name="code", label="L", type="text", choices=empty
    )

    assert field.choices == []


def test_a_datetime_before_year_one_in_utc_is_a_value_error_not_an_overflow():
    field = define("seen", "datetime")

    with pytest.raises(ValidationError, match="out of range"):
        types.coerce(field, "0001-01-01T00:00:00+05:00")


def test_names_are_unique_per_entity():
    define("tier", "text")
    define("tier", "text", entity="company")

    with pytest.raises(ValidationError):
        define("tier", "integer")


def test_a_label_changes_freely():
    field = define("tier", "text")
    ContactFactory(custom_fields={"tier": "gold"})

    custom_field_update(actor=SYSTEM, field=field, data={"label": "Tier", "label_zh": "等级"})

    assert CustomField.objects.get(pk=field.pk).label_zh == "等级"


def test_a_type_change_that_stored_values_cannot_survive_is_refused_with_the_count():
    field = define("code", "text")
    bad = [ContactFactory(custom_fields={"code": "A1"}) for _ in range(2)]
    ContactFactory(custom_fields={"code": "17"})

    with pytest.raises(ValidationError, match="2 records hold values"):
        custom_field_update(actor=SYSTEM, field=field, data={"type": "integer"})

    assert CustomField.objects.get(pk=field.pk).type == "text"
    assert list(incompatible_record_ids(field, new_definition=CustomField(type="integer"))) == [
        contact.pk for contact in bad
    ]


def test_a_compatible_type_change_is_allowed():
    field = define("code", "text")
    ContactFactory(custom_fields={"code": "17"})

    custom_field_update(actor=SYSTEM, field=field, data={"type": "integer"})

    assert CustomField.objects.get(pk=field.pk).type == "integer"


def test_narrowing_choices_checks_stored_values():
    field = define("tier", "choice", choices=["gold", "silver"])
    ContactFactory(custom_fields={"tier": "silver"})

    with pytest.raises(ValidationError, match="1 record holds a value"):
        custom_field_update(actor=SYSTEM, field=field, data={"choices": ["gold"]})


def test_archiving_hides_the_field_and_keeps_values():
    field = define("tier", "text")
    contact = ContactFactory(custom_fields={"tier": "gold"})

    custom_field_archive(actor=SYSTEM, field=field)

    assert plain_values(stored(contact), definitions_for("contact"), can_view_pii=True) == {}
    assert stored(contact) == {"tier": "gold"}
    with pytest.raises(ValidationError):
        contacts.contact_update(
            actor=SYSTEM, contact=contact, data={"custom_fields": {"tier": "x"}}
        )


def test_deleting_a_field_with_values_needs_a_purge_that_says_how_many():
    field = define("tier", "text")
    ContactFactory.create_batch(3, custom_fields={"tier": "gold"})

    with pytest.raises(ValidationError, match="3 records"):
        custom_field_delete(actor=SYSTEM, field=field)
    assert count_values(field) == 3

    assert custom_field_delete(actor=SYSTEM, field=field, purge=True) == 3
    assert not Contact.objects.filter(custom_fields__has_key="tier").exists()


def test_merging_contacts_keeps_the_duplicates_custom_values():
    define("tier", "text")
    primary = ContactFactory(custom_fields={})
    duplicate = ContactFactory(custom_fields={"tier": "gold"})

    merged = contacts.contact_merge(actor=SYSTEM, primary=primary, duplicates=[duplicate])

    assert stored(merged) == {"tier": "gold"}


def test_the_canonical_form_is_stable():
    field = CustomField(type="decimal")

    assert types.coerce(field, types.coerce(field, "001.50")) == "1.50"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/offers?id=1#top",
        "https://xn--fsq.example.cn/",
        "http://127.0.0.1:8000/x",
        "https://user:pw@example.com/",
        "https://例子.测试/",
    ],
)
def test_url_values_that_django_accepts_are_accepted(url):
    field = CustomField(entity="contact", name="site", label="Site", type="url")

    assert types.coerce(field, url) == url


@pytest.mark.parametrize(
    "url",
    ["https://-bad.example.com/", "https://a..b.com/", "https://example.com/a b", "example.com"],
)
def test_url_values_that_django_refuses_are_refused(url):
    field = CustomField(entity="contact", name="site", label="Site", type="url")

    with pytest.raises(ValidationError):
        types.coerce(field, url)
