"""Upsert by external id: PUT .../by-external-id/{id}/ creates (201) then updates (200)."""

import pytest

from customers.models import Company, Contact, Deal
from tests.api.support import V1, assert_uniform_error, send, snapshot
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

MODELS = {"contacts": Contact, "companies": Company, "deals": Deal}
BODIES = {
    "contacts": {
        "first_name": "伟",
        "last_name": "张",
        "email": "zhang.wei@example.com",
        "tags": ["vip", "🙂"],
    },
    "companies": {"name": "北京科技", "country": "CN", "phone": "+86 10 6000 1234"},
    "deals": {
        "name": "年度合同",
        "amount": "1234.50",
        "expected_close_date": "2025-06-30",
        "tags": ["大单"],
    },
}


@pytest.mark.parametrize("resource", list(MODELS))
@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_upsert_creates_then_updates_and_the_same_body_twice_leaves_one_row(api, resource, fmt):
    url = f"{V1}/{resource}/by-external-id/crm-42/"

    first = send(api, "put", url, fmt, BODIES[resource])
    stored_once = snapshot(MODELS[resource].objects.get(external_id="crm-42"))
    second = send(api, "put", url, fmt, BODIES[resource])

    assert (first.status_code, second.status_code) == (201, 200), second.content
    assert first["ETag"] and second["ETag"]
    assert first.json()["id"] == second.json()["id"]
    assert MODELS[resource].objects.filter(external_id="crm-42").count() == 1
    assert MODELS[resource].objects.count() == 1
    assert snapshot(MODELS[resource].objects.get(external_id="crm-42")) == stored_once


@pytest.mark.parametrize("resource", list(MODELS))
def test_upsert_by_external_id_updates_only_the_fields_sent(api, resource):
    url = f"{V1}/{resource}/by-external-id/crm-7/"
    api.put(url, BODIES[resource], format="json")
    label = "first_name" if resource == "contacts" else "name"

    response = api.put(url, {label: "Renamed 改名"}, format="json")

    assert response.status_code == 200
    record = MODELS[resource].objects.get(external_id="crm-7")
    assert getattr(record, label) == "Renamed 改名"
    assert response.json()["tags"] == sorted(BODIES[resource].get("tags", []))


@pytest.mark.parametrize("resource", list(MODELS))
def test_get_by_external_id_returns_the_record_with_its_etag(api, resource):
    created = api.put(f"{V1}/{resource}/by-external-id/ext-1/", BODIES[resource], format="json")

    response = api.get(f"{V1}/{resource}/by-external-id/ext-1/")

    assert response.status_code == 200
    assert response.json()["id"] == created.json()["id"]
    assert response["ETag"] == created["ETag"]


def test_get_by_unknown_external_id_is_a_404_in_the_uniform_shape(api):
    response = api.get(f"{V1}/contacts/by-external-id/nobody/")

    assert_uniform_error(response, 404)


def test_the_external_id_in_the_url_wins_over_one_in_the_body(api):
    response = api.put(
        f"{V1}/contacts/by-external-id/from-url/",
        {"first_name": "A", "external_id": "from-body"},
        format="json",
    )

    assert response.status_code == 201
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["from-url"]


def test_unicode_external_ids_work_in_the_url(api):
    first = api.put(f"{V1}/contacts/by-external-id/客户-001/", {"first_name": "A"}, format="json")
    again = api.get(f"{V1}/contacts/by-external-id/客户-001/")

    assert first.status_code == 201 and again.status_code == 200
    assert Contact.objects.get().external_id == "客户-001"


def test_upsert_updates_a_record_that_was_created_elsewhere(api):
    contact = ContactFactory(external_id="legacy-9", first_name="Old")
    company = CompanyFactory()

    response = api.put(
        f"{V1}/contacts/by-external-id/legacy-9/",
        {"first_name": "New", "company": company.pk},
        format="json",
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.first_name, contact.company_id) == ("New", company.pk)
    assert Contact.objects.count() == 1


def test_an_invalid_upsert_body_writes_nothing(api):
    response = api.put(
        f"{V1}/contacts/by-external-id/bad-1/", {"email": "not-an-email"}, format="json"
    )

    body = assert_uniform_error(response, 400)
    assert "email" in body["errors"]
    assert not Contact.objects.exists()
