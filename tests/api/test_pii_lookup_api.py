"""Exact lookups by personal data over REST (`?email=`, `?phone=`, `?cf_<PII field>=`, the
same as export filters): they answer only callers who may read personal data. Anyone else
gets a 400 naming the parameter, the same whether or not the person exists, so the answer
never confirms that someone is a customer."""

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from customers.actors import SYSTEM
from customers.services.custom_fields import custom_field_create
from integrations.models import ExportJob
from tests.api.conftest import client_with_key
from tests.api.support import V1, assert_uniform_error
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

EMAIL = "zhang.wei@example.com"
PHONE = "+86 138 0013 1234"
WECHAT = "zhangwei-1988"
REFUSAL = "needs the right to read it"


@pytest.fixture
def person():
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    return ContactFactory(
        first_name="伟", last_name="张", email=EMAIL, phone=PHONE, custom_fields={"wechat": WECHAT}
    )


def user_with(*codenames: str):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def no_pii_user_api():
    """A session for a user who may read contacts but not their personal data."""
    client = APIClient()
    user = user_with("view_contact", "view_company")
    client.force_login(user)
    return client


LOOKUPS = [
    ("contacts", "email", EMAIL),
    ("contacts", "email", "nobody@example.com"),
    ("contacts", "phone", PHONE),
    ("contacts", "phone", "+86 139 0000 0000"),
    ("contacts", "cf_wechat", WECHAT),
    ("contacts", "cf_wechat", "someone-else"),
    ("companies", "phone", "+86 21 5555 0101"),
]


@pytest.mark.parametrize(("resource", "param", "value"), LOOKUPS)
def test_a_key_without_pii_read_gets_a_400_naming_the_pii_lookup(
    api_without_pii, person, resource, param, value
):
    response = api_without_pii.get(f"{V1}/{resource}/", {param: value})

    body = assert_uniform_error(response, 400)
    assert list(body["errors"]) == [param]
    assert REFUSAL in body["errors"][param][0]
    assert EMAIL.encode() not in response.content


@pytest.mark.parametrize(("resource", "param", "value"), LOOKUPS[::2])
def test_a_user_without_view_pii_gets_the_same_400_even_with_a_pii_read_key(
    resource, param, value, person
):
    user = user_with("view_contact", "view_company")
    api = client_with_key(user, ["contacts:read", "companies:read", "pii:read"])

    response = api.get(f"{V1}/{resource}/", {param: value})

    assert_uniform_error(response, 400)


def test_the_refusal_is_the_same_for_a_customer_and_a_stranger(api_without_pii, person):
    known = api_without_pii.get(f"{V1}/contacts/", {"email": EMAIL})
    unknown = api_without_pii.get(f"{V1}/contacts/", {"email": "nobody@example.com"})

    assert (known.status_code, known.json()) == (unknown.status_code, unknown.json())


def test_a_session_without_view_pii_is_refused_on_the_streaming_export(no_pii_user_api, person):
    response = no_pii_user_api.get(f"{V1}/contacts/export/", {"email": EMAIL, "format": "csv"})

    assert response.status_code == 400
    assert b"zhang" not in response.content


def test_a_reader_with_pii_rights_still_finds_the_person_by_each_value(api, person):
    for param, value in (("email", EMAIL), ("phone", PHONE), ("cf_wechat", WECHAT)):
        response = api.get(f"{V1}/contacts/", {param: value})

        assert response.status_code == 200, response.content
        assert [row["id"] for row in response.json()["results"]] == [person.pk], param


def test_a_company_phone_is_found_with_pii_rights(api):
    company = CompanyFactory(phone="+86 21 5555 0101")

    response = api.get(f"{V1}/companies/", {"phone": "+86 21 5555 0101"})

    assert [row["id"] for row in response.json()["results"]] == [company.pk]


def test_filters_that_are_not_pii_still_work_without_pii_read(api_without_pii, person):
    response = api_without_pii.get(f"{V1}/contacts/", {"search": "张"})

    assert [row["id"] for row in response.json()["results"]] == [person.pk]


@pytest.mark.parametrize("filters", [{"email": EMAIL}, {"phone": PHONE}, {"cf_wechat": WECHAT}])
def test_an_export_job_filtered_by_pii_is_refused_without_pii_read_and_not_stored(
    api_without_pii, person, filters
):
    body = {"resource": "contacts", "format": "csv", "filters": filters}

    response = api_without_pii.post(f"{V1}/exports/", body, format="json")

    errors = assert_uniform_error(response, 400)["errors"]
    assert list(errors) == [f"filters.{name}" for name in filters]
    assert ExportJob.objects.count() == 0


def test_an_export_job_filtered_by_email_is_accepted_with_pii_read(api, person):
    body = {"resource": "contacts", "format": "csv", "filters": {"email": EMAIL}}

    response = api.post(f"{V1}/exports/", body, format="json")

    assert response.status_code == 202, response.content
    assert ExportJob.objects.get().filters == {"email": EMAIL}
