"""A batch entry may name its company by name ({"company": {"name": "Acme"}}), as files from
other CRMs do: matched exactly but for case, created with `create_related=true`, and refused
with the field named otherwise (it used to be read as no company at all)."""

import pytest

from customers.models import ChangeEvent, Company, Contact, Deal
from tests.api.support import V1
from tests.factories import CompanyFactory

pytestmark = pytest.mark.django_db

CONTACTS = f"{V1}/contacts/batch/"


def test_a_company_named_by_no_record_is_a_field_error_and_nothing_is_dropped(api):
    response = api.post(
        CONTACTS, [{"first_name": "Wei", "company": {"name": "Initech"}}], format="json"
    )

    (result,) = response.json()["results"]
    assert result["status"] == "error"
    assert result["errors"]["company"] == [
        "No company is named 'Initech'; send create_related=true to create it."
    ]
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_a_company_named_whatever_the_case_links_the_existing_one(api):
    acme = CompanyFactory(name="ACME Trading")

    response = api.post(
        CONTACTS, [{"first_name": "Wei", "company": {"name": "acme trading"}}], format="json"
    )

    assert response.json()["created"] == 1
    assert Contact.objects.get().company == acme
    assert Company.objects.count() == 1


def test_create_related_creates_each_named_company_once_with_its_event(api):
    records = [
        {"first_name": "Wei", "company": {"name": "Initech"}},
        {"first_name": "Ann", "company": {"name": "INITECH"}},
    ]

    response = api.post(f"{CONTACTS}?create_related=true", records, format="json")

    assert response.json()["created"] == 2
    initech = Company.objects.get()
    assert initech.name == "Initech"
    assert set(Contact.objects.values_list("company_id", flat=True)) == {initech.pk}
    assert ChangeEvent.objects.filter(type="company.created", record_id=initech.pk).count() == 1


def test_a_record_that_fails_leaves_no_company_behind(api):
    records = [{"name": "Expansion", "amount": "not a number", "company": {"name": "Initech"}}]

    response = api.post(
        f"{V1}/deals/batch/", {"records": records, "create_related": True}, format="json"
    )

    assert response.json()["error"] == 1
    assert not Company.objects.exists() and not Deal.objects.exists()


def test_create_related_needs_the_right_to_create_companies(sales_user, make_api_client):
    records = [{"first_name": "Wei", "company": {"name": "Initech"}}]
    contacts_only = make_api_client(sales_user, ["contacts:read", "contacts:write"])

    response = contacts_only.post(f"{CONTACTS}?create_related=true", records, format="json")

    assert response.status_code == 403
    assert "companies:write" in response.json()["message"]
    assert not Contact.objects.exists() and not Company.objects.exists()


def test_create_related_needs_the_users_permission_to_add_companies(sales_user, api):
    sales_user.user_permissions.remove(*sales_user.user_permissions.filter(codename="add_company"))
    for group in sales_user.groups.all():
        group.permissions.remove(*group.permissions.filter(codename="add_company"))
    records = [{"first_name": "Wei", "company": {"name": "Initech"}}]

    response = api.post(f"{CONTACTS}?create_related=true", records, format="json")

    assert response.status_code == 403
    assert not Company.objects.exists()


def test_a_company_that_cannot_be_created_is_the_records_company_error(api):
    records = [{"name": "Expansion", "company": {"name": "x" * 300}}]

    response = api.post(f"{V1}/deals/batch/?create_related=true", records, format="json")

    (result,) = response.json()["results"]
    assert result["status"] == "error"
    assert list(result["errors"]) == ["company"]
    assert result["errors"]["company"][0].startswith("Could not create the company")
    assert not Company.objects.exists() and not Deal.objects.exists()


def test_outside_a_batch_a_company_named_without_an_id_is_refused_not_unlinked(api):
    acme = CompanyFactory(name="Acme")
    contact = api.post(f"{V1}/contacts/", {"first_name": "Wei", "company": acme.pk}, format="json")
    url = f"{V1}/contacts/{contact.json()['id']}/"

    patched = api.patch(url, {"company": {"name": "Initech"}}, format="json")
    created = api.post(
        f"{V1}/contacts/", {"first_name": "Ann", "company": {"name": "Acme"}}, format="json"
    )

    assert patched.status_code == 400 and "company" in patched.json()["errors"]
    assert created.status_code == 400 and "company" in created.json()["errors"]
    assert list(Contact.objects.values_list("first_name", "company")) == [("Wei", acme.pk)]
    assert api.patch(url, {"company": {"id": None}}, format="json").status_code == 200
    assert Contact.objects.get().company is None  # an empty id still unlinks it
