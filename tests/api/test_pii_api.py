"""Personal data: plaintext only for callers who may read it, masked everywhere else."""

import json
import re

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from integrations.scopes import ALL_SCOPES
from tests.api.support import V1, parse_csv_rows, parse_xml, record_in, records_in
from tests.factories import CompanyFactory, ContactFactory, UserFactory

pytestmark = pytest.mark.django_db

FORMATS = ["json", "xml", "csv"]
PLAIN = {
    "email": "zhang.wei@example.com",
    "phone": "+86 138 0013 1234",
    "address": "上海市浦东新区\n世纪大道 100 号",
}
MASK_SHAPES = {
    "email": re.compile(r"^z\*\*\*@example\.com$"),
    "phone": re.compile(r"^\+86 \*\*\* \*\*\*\* 1234$"),
    "address": re.compile(r"^\*\*\*$"),
}
LEAKS = [b"zhang.wei", b"0013", "世纪大道".encode()]


@pytest.fixture
def contact():
    return ContactFactory(first_name="伟", last_name="张", **PLAIN)


def user_with(*codenames: str):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def session_client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def export_records(fmt: str, content: bytes) -> list[dict]:
    if fmt == "json":
        return json.loads(content)
    if fmt == "xml":
        return parse_xml(content)
    return parse_csv_rows(content)


def assert_masked(record: dict, raw: bytes) -> None:
    for name, shape in MASK_SHAPES.items():
        assert shape.match(record[name]), (name, record[name])
    for leak in LEAKS:
        assert leak not in raw


def assert_plaintext(record: dict) -> None:
    for name, value in PLAIN.items():
        assert record[name] == value, name


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_with_pii_read_sees_plaintext_in_every_format(api, contact, fmt):
    detail = api.get(f"{V1}/contacts/{contact.pk}/?format={fmt}")
    listed = api.get(f"{V1}/contacts/?format={fmt}")

    assert_plaintext(record_in(fmt, detail))
    assert_plaintext(records_in(fmt, listed)[0])


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_key_without_pii_read_sees_masks_in_every_format(api_without_pii, contact, fmt):
    detail = api_without_pii.get(f"{V1}/contacts/{contact.pk}/?format={fmt}")
    listed = api_without_pii.get(f"{V1}/contacts/?format={fmt}")

    assert_masked(record_in(fmt, detail), detail.content)
    assert_masked(records_in(fmt, listed)[0], listed.content)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_export_masks_pii_for_a_key_without_pii_read(api_without_pii, contact, fmt):
    response = api_without_pii.get(f"{V1}/contacts/export/?format={fmt}")
    content = b"".join(response.streaming_content)

    (record,) = export_records(fmt, content)
    assert_masked(record, content)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_export_has_plaintext_for_a_key_with_pii_read(api, contact, fmt):
    response = api.get(f"{V1}/contacts/export/?format={fmt}")

    (record,) = export_records(fmt, b"".join(response.streaming_content))
    assert_plaintext(record)


def test_company_phone_and_address_are_masked_too(api_without_pii):
    company = CompanyFactory(phone="+86 10 6000 1234", address="北京市海淀区")

    data = api_without_pii.get(f"{V1}/companies/{company.pk}/").json()

    assert data["phone"] == "+86 *** **** 1234"
    assert data["address"] == "***"


def test_a_write_by_a_key_without_pii_read_answers_with_masks(api_without_pii):
    response = api_without_pii.post(f"{V1}/contacts/", {"first_name": "A", **PLAIN}, format="json")

    assert response.status_code == 201
    assert_masked(response.json(), response.content)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_session_user_without_view_pii_sees_masks(contact, fmt):
    client = session_client(user_with("view_contact"))

    detail = client.get(f"{V1}/contacts/{contact.pk}/?format={fmt}")
    exported = client.get(f"{V1}/contacts/export/?format={fmt}")
    export_content = b"".join(exported.streaming_content)

    assert detail.status_code == exported.status_code == 200
    assert_masked(record_in(fmt, detail), detail.content)
    assert_masked(export_records(fmt, export_content)[0], export_content)


def test_a_session_user_with_view_pii_sees_plaintext(contact):
    client = session_client(user_with("view_contact", "view_pii"))

    assert_plaintext(client.get(f"{V1}/contacts/{contact.pk}/").json())


def test_the_pii_read_scope_does_not_lift_the_mask_for_a_user_without_view_pii(
    make_api_client, contact
):
    client = make_api_client(user_with("view_contact"), ALL_SCOPES)

    response = client.get(f"{V1}/contacts/{contact.pk}/")

    assert response.status_code == 200
    assert_masked(response.json(), response.content)


def test_search_never_matches_on_encrypted_pii(api, contact):
    by_email = api.get(f"{V1}/contacts/", {"search": "zhang.wei"}).json()["results"]
    by_name = api.get(f"{V1}/contacts/", {"search": "伟"}).json()["results"]

    assert by_email == []
    assert [row["id"] for row in by_name] == [contact.pk]
