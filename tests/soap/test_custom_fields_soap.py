"""Custom fields over SOAP: a typed list of name/type/value entries on contacts, companies and
deals. Every type round-trips; a bad value is a field-level Client fault that writes nothing."""

import pytest

from customers.actors import SYSTEM
from customers.models import Company, Contact
from customers.services import custom_fields
from tests.factories import CompanyFactory, ContactFactory, DealFactory
from tests.soap.support import field_errors, raises_fault

CHOICES = ["gold", "silver", "青铜"]
# type -> (what a partner sends, what it reads back, a value the type refuses)
CASES = {
    "text": ("你好, world", "你好, world", "x" * 256),
    "long_text": ("第一行\n second line", "第一行\n second line", "x" * 100_001),
    "integer": ("42", "42", "4.5"),
    "decimal": ("12.50", "12.50", "twelve"),
    "date": ("2026-01-31", "2026-01-31", "2026-02-30"),
    "datetime": ("2026-01-31T09:30:00+08:00", "2026-01-31T01:30:00Z", "yesterday"),
    "boolean": ("true", "true", "maybe"),
    "choice": ("青铜", "青铜", "bronze"),
    "multi_choice": (["gold", "青铜"], ["gold", "青铜"], ["gold", "plastic"]),
    "email": ("li@example.cn", "li@example.cn", "not-an-email"),
    "phone": ("+86 138 0013 1234", "+86 138 0013 1234", "call me"),
    "url": ("https://example.cn/crm?x=1", "https://example.cn/crm?x=1", "not a url"),
}


def define(entity: str, type_: str, **options):
    return custom_fields.custom_field_create(
        actor=SYSTEM,
        entity=entity,
        name=f"cf_{type_}",
        label=type_,
        type=type_,
        choices=CHOICES if type_ in ("choice", "multi_choice") else (),
        **options,
    )


def entry(type_: str, value, *, send_type: bool = True) -> dict:
    sent = {"name": f"cf_{type_}", "type": type_ if send_type else None}
    if isinstance(value, list):
        sent["items"] = {"string": value}
    else:
        sent["value"] = value
    return sent


def read(record, name: str):
    found = next(e for e in record.custom_fields.CustomFieldValue if e.name == name)
    return found.items.string if found.items else found.value


@pytest.mark.parametrize("type_", sorted(CASES))
def test_each_type_round_trips_through_soap(soap, type_):
    define("contact", type_)
    sent, expected, _ = CASES[type_]
    created = soap.service.CreateContact(
        {"first_name": "伟", "custom_fields": {"CustomFieldValue": [entry(type_, sent)]}}
    )
    assert read(created, f"cf_{type_}") == expected
    again = soap.service.GetContact(created.id)
    assert read(again, f"cf_{type_}") == expected
    entry_out = again.custom_fields.CustomFieldValue[0]
    assert entry_out.type == type_


@pytest.mark.parametrize("type_", sorted(CASES))
def test_an_invalid_value_is_a_field_fault_and_writes_nothing(soap, type_):
    define("contact", type_)
    contact = ContactFactory(first_name="Before")
    before = (Contact.objects.count(), Contact.objects.get(pk=contact.pk).custom_fields)
    bad = CASES[type_][2]
    with raises_fault("Client.ValidationError") as fault:
        soap.service.CreateContact(
            {"first_name": "New", "custom_fields": {"CustomFieldValue": [entry(type_, bad)]}}
        )
    assert f"custom_fields.cf_{type_}" in field_errors(fault.value)
    with raises_fault("Client.ValidationError"):
        soap.service.UpdateContact(
            {
                "id": contact.pk,
                "first_name": "After",  # valid, but must not be written either
                "custom_fields": {"CustomFieldValue": [entry(type_, bad)]},
            }
        )
    after = Contact.objects.get(pk=contact.pk)
    assert (Contact.objects.count(), after.custom_fields) == before
    assert after.first_name == "Before"


def test_unset_fields_are_listed_as_nil_and_nil_clears_a_value(soap):
    define("contact", "integer")
    define("contact", "text")
    created = soap.service.CreateContact(
        {"first_name": "A", "custom_fields": {"CustomFieldValue": [entry("integer", "7")]}}
    )
    assert read(created, "cf_text") is None and read(created, "cf_integer") == "7"
    cleared = soap.service.UpdateContact(
        {"id": created.id, "custom_fields": {"CustomFieldValue": [entry("integer", None)]}}
    )
    assert read(cleared, "cf_integer") is None
    assert "cf_integer" not in Contact.objects.get(pk=created.id).custom_fields


@pytest.mark.parametrize(
    ("sent", "field"),
    [
        ({"name": "cf_integer", "type": "date", "value": "2026-01-01"}, "cf_integer"),
        ({"name": "no_such_field", "value": "x"}, "no_such_field"),
    ],
    ids=["wrong-type", "unknown-name"],
)
def test_a_wrong_type_or_unknown_name_is_a_field_fault(soap, sent, field):
    define("contact", "integer")
    with raises_fault("Client.ValidationError") as fault:
        soap.service.CreateContact(
            {"first_name": "A", "custom_fields": {"CustomFieldValue": [sent]}}
        )
    assert set(field_errors(fault.value)) == {f"custom_fields.{field}"}
    assert not Contact.objects.exists()


def test_a_pii_custom_field_is_masked_without_pii_read(soap, soap_without_pii):
    define("contact", "email", pii=True)
    created = soap.service.CreateContact(
        {
            "first_name": "A",
            "custom_fields": {"CustomFieldValue": [entry("email", "li@example.cn")]},
        }
    )
    assert read(soap_without_pii.service.GetContact(created.id), "cf_email") == "l***@example.cn"
    assert read(soap.service.GetContact(created.id), "cf_email") == "li@example.cn"
    listed = soap_without_pii.service.SearchContacts().items[0]
    assert read(listed, "cf_email") == "l***@example.cn"


def test_companies_carry_custom_fields(soap):
    define("company", "decimal")
    result = soap.service.UpsertCompany(
        "erp-c1",
        {"name": "华为", "custom_fields": {"CustomFieldValue": [entry("decimal", "1000.25")]}},
    )
    assert result.created and read(result.company, "cf_decimal") == "1000.25"
    assert Company.objects.get(external_id="erp-c1").custom_fields == {"cf_decimal": "1000.25"}
    assert read(soap.service.GetCompany(result.company.id), "cf_decimal") == "1000.25"
    CompanyFactory()  # another company without a value lists it as nil
    values = {c.name: read(c, "cf_decimal") for c in soap.service.SearchCompanies().items}
    assert sorted(values.values(), key=str) == ["1000.25", None]


def test_deals_carry_custom_fields(soap, default_pipeline):
    define("deal", "multi_choice")
    define("deal", "boolean")
    deal = DealFactory(custom_fields={"cf_multi_choice": ["silver"], "cf_boolean": False})
    got = soap.service.GetDeal(deal.id)
    assert read(got, "cf_multi_choice") == ["silver"]
    assert read(got, "cf_boolean") == "false"
