"""Contacts over SOAP: every operation against a live server, and what REST sees afterwards."""

from datetime import UTC, datetime, timedelta

import pytest
from zeep import xsd

from customers.actors import SYSTEM
from customers.models import Contact
from customers.services import custom_fields
from tests.factories import CompanyFactory, ContactFactory
from tests.soap.support import raises_fault, rest_get


def test_get_contact_returns_the_stored_record(soap):
    company = CompanyFactory(name="Acme")
    contact = ContactFactory(first_name="伟", last_name="张", company=company, tags=["vip"])
    got = soap.service.GetContact(contact.pk)
    assert (got.id, got.first_name, got.last_name, got.full_name) == (
        contact.pk,
        "伟",
        "张",
        "张伟",
    )
    assert (got.company_id, got.company_name) == (company.pk, "Acme")
    assert got.email == contact.email and got.phone == contact.phone
    assert got.tags.string == ["vip"]
    assert got.created_at.utcoffset() == timedelta(0)


def test_get_contact_by_external_id(soap):
    contact = ContactFactory(external_id="erp-7")
    assert soap.service.GetContactByExternalId("erp-7").id == contact.pk
    with raises_fault("Client.NotFound"):
        soap.service.GetContactByExternalId("erp-missing")


def test_unknown_id_is_a_client_not_found_fault(soap):
    with raises_fault("Client.NotFound") as fault:
        soap.service.GetContact(987654)
    assert "987654" in fault.value.message


def test_search_pages_through_matches_with_a_total(soap):
    for n in range(5):
        ContactFactory(first_name=f"Mei{n}", last_name="王")
    ContactFactory(first_name="Other", last_name="Person")
    first = soap.service.SearchContacts(query="王", offset=0, limit=2)
    rest = soap.service.SearchContacts(query="王", offset=2, limit=10)
    assert first.total == rest.total == 5
    assert len(first.items) == 2 and len(rest.items) == 3
    assert {c.id for c in first.items}.isdisjoint({c.id for c in rest.items})


def test_search_by_email_matches_exactly_in_any_letter_case(soap):
    wanted = ContactFactory(email="zhang.wei@example.cn")
    ContactFactory(email="zhang.wei2@example.cn")
    page = soap.service.SearchContacts(email="Zhang.Wei@Example.CN")
    assert page.total == 1 and page.items[0].id == wanted.pk


def test_search_updated_since_takes_aware_times(soap):
    old = ContactFactory()
    Contact.objects.filter(pk=old.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    recent = ContactFactory()
    page = soap.service.SearchContacts(updated_since=datetime(2024, 1, 1, tzinfo=UTC))
    assert [c.id for c in page.items] == [recent.pk]


def test_search_refuses_a_limit_out_of_range(soap):
    with raises_fault("Client.ValidationError") as fault:
        soap.service.SearchContacts(limit=5000)
    assert "limit" in fault.value.message


def _as_rest(contact) -> dict:
    """A SOAP contact in REST's JSON shape. zeep reads an empty element as None, so empty text
    compares as None on both sides; real nulls are checked separately."""

    def text(value):
        return None if value in ("", None) else value

    def moment(value):
        return value.isoformat().replace("+00:00", "Z") if value else None

    entries = contact.custom_fields.CustomFieldValue if contact.custom_fields else []
    return {
        "id": contact.id,
        "external_id": contact.external_id,
        **{name: text(getattr(contact, name)) for name in _TEXT},
        "company": {"id": contact.company_id, "name": contact.company_name}
        if contact.company_id
        else None,
        "owner": {"id": contact.owner_id, "username": contact.owner_username}
        if contact.owner_id
        else None,
        "tags": contact.tags.string if contact.tags else [],
        "custom_fields": {e.name: e.items.string if e.items else e.value for e in entries},
        "consent_email": contact.consent_email,
        "consent_phone": contact.consent_phone,
        **{name: moment(getattr(contact, name)) for name in _TIMES},
    }


_TEXT = [
    "first_name",
    "last_name",
    "full_name",
    "title",
    "email",
    "phone",
    "address",
    "lifecycle_stage",
    "source",
    "notes",
]
_TIMES = ("consent_updated_at", "created_at", "updated_at")


def test_created_contact_reads_the_same_through_rest(soap, sales_user, live_server):
    custom_fields.custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="tier",
        label="Tier",
        type="choice",
        choices=["金", "银"],
    )
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="score", label="S", type="integer"
    )
    company = CompanyFactory()
    created = soap.service.CreateContact(
        {
            "first_name": "小明",
            "last_name": "李",
            "email": "li.xiaoming@example.cn",
            "phone": "+86 138 0013 1234",
            "company_id": company.pk,
            "owner_id": sales_user.pk,
            "tags": {"string": ["客户", "vip"]},
            "consent_email": True,
            "custom_fields": {"CustomFieldValue": [{"name": "tier", "value": "金"}]},
        }
    )
    rest = rest_get(live_server.url, sales_user, f"/contacts/{created.id}/")
    rest = {key: (None if value == "" else value) for key, value in rest.items()}
    rest["custom_fields"] = {
        k: (v if v is None else str(v)) for k, v in rest["custom_fields"].items()
    }
    assert _as_rest(created) == rest
    assert _as_rest(soap.service.GetContact(created.id)) == rest
    # nulls stay nulls: never sent, so null in both doors, not "" or "None"
    assert rest["address"] is None and rest["external_id"] is None
    assert rest["custom_fields"]["score"] is None


def test_create_refuses_invalid_fields_naming_them_and_writes_nothing(soap):
    before = Contact.objects.count()
    with raises_fault("Client.ValidationError") as fault:
        soap.service.CreateContact({"first_name": "A", "email": "not-an-email"})
    assert "email" in fault.value.message
    assert Contact.objects.count() == before


def test_update_writes_sent_elements_keeps_absent_ones_and_nil_clears(soap):
    contact = ContactFactory(title="CTO", address="1 Road", notes="keep me")
    updated = soap.service.UpdateContact({"id": contact.pk, "title": "CEO", "address": xsd.Nil})
    assert updated.title == "CEO" and updated.address is None and updated.notes == "keep me"
    contact.refresh_from_db()
    assert (contact.title, contact.address, contact.notes) == ("CEO", None, "keep me")


def test_update_without_an_id_is_a_validation_fault(soap):
    with raises_fault("Client.ValidationError"):
        soap.service.UpdateContact({"first_name": "x"})


def test_upsert_creates_then_updates_the_same_record(soap):
    first = soap.service.UpsertContact("erp-42", {"first_name": "伟", "last_name": "张"})
    again = soap.service.UpsertContact("erp-42", {"title": "经理"})
    assert (first.created, again.created) == (True, False)
    assert first.contact.id == again.contact.id
    assert (again.contact.first_name, again.contact.title) == ("伟", "经理")
    assert Contact.objects.filter(external_id="erp-42").count() == 1


def test_delete_needs_the_users_delete_permission(soap, make_soap_client, manager):
    contact = ContactFactory()
    with raises_fault("Client.PermissionDenied") as fault:
        soap.service.DeleteContact(contact.pk)  # a sales user may not delete
    assert "delete_contact" in fault.value.message
    assert Contact.objects.filter(pk=contact.pk).exists()
    make_soap_client(manager).service.DeleteContact(contact.pk)
    assert not Contact.objects.filter(pk=contact.pk).exists()


@pytest.mark.parametrize("name", ["王小明", "Zoë Ångström", "ملك", "😀 emoji"])
def test_unicode_round_trips(soap, name):
    created = soap.service.CreateContact({"first_name": name, "notes": f"{name}\n第二行"})
    got = soap.service.GetContact(created.id)
    assert got.first_name == name and got.notes == f"{name}\n第二行"
    assert Contact.objects.get(pk=created.id).first_name == name
