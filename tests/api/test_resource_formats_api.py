"""Every resource speaks JSON, XML and CSV both ways: lists and records out, records in."""

import datetime

import pytest
from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime

from customers.models import Activity, Company, Contact, Deal, Pipeline, Tag
from tests.api.support import V1, record_in, records_in, send
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

MODELS = {"contacts": Contact, "companies": Company, "deals": Deal, "activities": Activity}
LABELS = {"contacts": "first_name", "companies": "name", "deals": "name", "activities": "subject"}
# How a client asks for a format: (format name, query string, extra request headers).
READ_WAYS = [
    ("json", "", {}),
    ("xml", "?format=xml", {}),
    ("xml", "", {"HTTP_ACCEPT": "application/xml"}),
    ("csv", "?format=csv", {}),
    ("csv", "", {"HTTP_ACCEPT": "text/csv"}),
]
MEDIA_TYPES = {"json": "application/json", "xml": "application/xml", "csv": "text/csv"}


@pytest.fixture
def records(sales_user):
    company = CompanyFactory(name="北京科技有限公司", tags=["客户"], owner=sales_user)
    contact = ContactFactory(first_name="伟", last_name="张", company=company, tags=["vip", "🙂"])
    deal = DealFactory(name="年度合同", company=company, primary_contact=contact, amount="1234.50")
    activity = ActivityFactory(contact=contact, deal=deal, subject="首次通话 ☎️", body="纪要")
    return {"contacts": contact, "companies": company, "deals": deal, "activities": activity}


def new_record_body(resource: str, records) -> dict:
    return {
        "contacts": {
            "first_name": "红",
            "last_name": "李",
            "email": "li.hong@example.com",
            "phone": "+86 139 0000 1111",
            "company": {"id": records["companies"].pk},
            "tags": ["新客户", "🙂"],
            "consent_email": True,
        },
        "companies": {"name": "上海贸易 🚢", "country": "CN", "size_band": "11-50", "tags": ["p"]},
        "deals": {
            "name": "Pilot 试点",
            "amount": "1234.50",
            "expected_close_date": "2025-06-30",
            "company": {"id": records["companies"].pk},
            "tags": ["q3"],
        },
        "activities": {
            "kind": "meeting",
            "subject": "Kick-off 启动会",
            "due_at": "2025-01-02T03:04:05Z",
            "contact": {"id": records["contacts"].pk},
        },
    }[resource]


UPDATES = {
    "contacts": {"title": "CTO 🚀", "lifecycle_stage": "customer", "tags": ["a", "b"]},
    "companies": {"industry": "Logistics 物流", "tags": []},
    "deals": {"amount": "99.90", "expected_close_date": None, "tags": ["won-back"]},
    "activities": {"subject": "Follow-up 跟进", "done_at": "2025-02-03T04:05:06Z"},
}


def assert_represents(output: dict, sent: dict) -> None:
    """What the API now returns for the record says what was sent (JSON types)."""
    for name, value in sent.items():
        if isinstance(value, dict):
            assert output[name]["id"] == value["id"], name
        elif name == "tags":
            assert sorted(output[name]) == sorted(value), name
        elif name.endswith("_at") and value is not None:
            assert parse_datetime(output[name]) == parse_datetime(value), name
        else:
            assert output[name] == value, name


# Reading -------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", list(MODELS))
@pytest.mark.parametrize(("fmt", "query", "headers"), READ_WAYS)
def test_list_is_served_in_every_format_the_client_asks_for(
    api, records, resource, fmt, query, headers
):
    record = records[resource]

    response = api.get(f"{V1}/{resource}/{query}", **headers)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(MEDIA_TYPES[fmt])
    rows = {str(row["id"]): row for row in records_in(fmt, response)}
    assert rows[str(record.pk)][LABELS[resource]] == getattr(record, LABELS[resource])


@pytest.mark.parametrize("resource", list(MODELS))
@pytest.mark.parametrize(("fmt", "query", "headers"), READ_WAYS)
def test_record_is_served_in_every_format_the_client_asks_for(
    api, records, resource, fmt, query, headers
):
    record = records[resource]

    response = api.get(f"{V1}/{resource}/{record.pk}/{query}", **headers)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(MEDIA_TYPES[fmt])
    data = record_in(fmt, response)
    assert str(data["id"]) == str(record.pk)
    assert data[LABELS[resource]] == getattr(record, LABELS[resource])


def test_xml_and_csv_carry_nested_relations_unicode_decimals_and_dates(api, records):
    deal = records["deals"]
    Deal.objects.filter(pk=deal.pk).update(expected_close_date=datetime.date(2025, 6, 30))

    xml = record_in("xml", api.get(f"{V1}/deals/{deal.pk}/?format=xml"))
    csv = record_in("csv", api.get(f"{V1}/deals/{deal.pk}/?format=csv"))

    for data in (xml, csv):
        assert data["company"] == {"id": str(deal.company_id), "name": "北京科技有限公司"}
        assert data["amount"] == "1234.50"
        assert data["expected_close_date"] == "2025-06-30"
    assert xml["primary_contact"] == {"id": str(deal.primary_contact_id), "full_name": "张伟"}


@pytest.mark.parametrize("resource", ["pipelines", "tags", "users"])
@pytest.mark.parametrize(("fmt", "query", "headers"), READ_WAYS)
def test_read_only_resources_are_served_in_every_format(
    api, records, sales_user, resource, fmt, query, headers
):
    record, label, value = {
        "pipelines": (Pipeline.objects.get(is_default=True), "name", "Sales"),
        "tags": (Tag.objects.get(name="🙂"), "name", "🙂"),
        "users": (sales_user, "username", sales_user.username),
    }[resource]

    listed = api.get(f"{V1}/{resource}/{query}", **headers)
    detail = api.get(f"{V1}/{resource}/{record.pk}/{query}", **headers)

    assert listed.status_code == detail.status_code == 200
    assert listed["Content-Type"].startswith(MEDIA_TYPES[fmt])
    assert detail["Content-Type"].startswith(MEDIA_TYPES[fmt])
    rows = {str(row["id"]): row for row in records_in(fmt, listed)}
    assert rows[str(record.pk)][label] == value
    assert record_in(fmt, detail)[label] == value


# Writing -------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", list(MODELS))
@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_post_creates_a_record_from_a_body_in_each_format(api, records, resource, fmt):
    body = new_record_body(resource, records)
    before = MODELS[resource].objects.count()

    response = send(api, "post", f"{V1}/{resource}/", fmt, body)

    assert response.status_code == 201, response.content
    assert response["ETag"]
    assert MODELS[resource].objects.count() == before + 1
    stored = api.get(f"{V1}/{resource}/{response.json()['id']}/").json()
    assert_represents(stored, body)


@pytest.mark.parametrize("resource", list(MODELS))
@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_put_updates_a_record_from_a_body_in_each_format(api, records, resource, fmt):
    record = records[resource]
    before = MODELS[resource].objects.count()

    response = send(api, "put", f"{V1}/{resource}/{record.pk}/", fmt, UPDATES[resource])

    assert response.status_code == 200, response.content
    assert MODELS[resource].objects.count() == before
    assert_represents(response.json(), UPDATES[resource])
    assert_represents(api.get(f"{V1}/{resource}/{record.pk}/").json(), UPDATES[resource])


def test_text_xml_and_application_csv_are_accepted_as_well(api, records):
    contact = records["contacts"]

    as_text_xml = api.patch(
        f"{V1}/contacts/{contact.pk}/",
        b"<root><title>Founder</title></root>",
        content_type="text/xml",
    )
    as_application_csv = api.patch(
        f"{V1}/contacts/{contact.pk}/", b"source\r\nfair\r\n", content_type="application/csv"
    )

    assert as_text_xml.status_code == as_application_csv.status_code == 200
    contact.refresh_from_db()
    assert (contact.title, contact.source) == ("Founder", "fair")


def test_a_csv_body_for_a_single_record_must_have_exactly_one_row(api, records):
    before = Contact.objects.count()

    response = api.post(f"{V1}/contacts/", b"first_name\r\nA\r\nB\r\n", content_type="text/csv")

    assert response.status_code == 400
    assert "batch endpoint" in response.json()["message"]
    assert Contact.objects.count() == before


def test_users_are_read_only(api, sales_user):
    before = get_user_model().objects.count()

    response = api.post(f"{V1}/users/", {"username": "intruder"}, format="json")

    assert response.status_code in (403, 405)
    assert get_user_model().objects.count() == before
