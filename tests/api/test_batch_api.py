"""POST /contacts/batch/: up to 1,000 records, one outcome each, in input order."""

import pytest

from customers.models import Activity, Company, Contact, Deal
from tests.api.support import V1, assert_uniform_error, csv_body, send, snapshot, xml_body
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = f"{V1}/contacts/batch/"
FORMATS = ["json", "xml", "csv"]
# Same columns in every record so the CSV form of the batch is a plain table.
MIXED = [
    {"first_name": "伟", "email": "wei@example.com", "phone": "", "tags": ["vip", "🙂"]},
    {"first_name": "Bad email", "email": "not-an-email", "phone": "", "tags": []},
    {"first_name": "Bad phone", "email": "", "phone": "call me", "tags": []},
    {"first_name": "红", "email": "hong@example.com", "phone": "+86 139 0000 1111", "tags": []},
    {"first_name": "Duplicate", "email": "WEI@example.com", "phone": "", "tags": []},
]


OUTCOME_KEYS = {"committed", "created", "updated", "error", "rolled_back", "results"}


def statuses(response) -> list[str]:
    return [result["status"] for result in response.json()["results"]]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_non_atomic_batch_commits_the_good_records_and_reports_each_in_input_order(api, fmt):
    response = send(api, "post", URL, fmt, MIXED)

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["committed"] is True
    assert (body["created"], body["error"]) == (2, 3)
    assert [result["index"] for result in body["results"]] == [0, 1, 2, 3, 4]
    assert statuses(response) == ["created", "error", "error", "created", "error"]
    assert set(body["results"][1]["errors"]) == {"email"}
    assert set(body["results"][2]["errors"]) == {"phone"}
    assert "already" in body["results"][4]["errors"]["email"][0]
    assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["伟", "红"]
    assert body["results"][0]["id"] == Contact.objects.get(first_name="伟").pk
    assert sorted(Contact.objects.get(first_name="伟").tags.values_list("name", flat=True)) == [
        "vip",
        "🙂",
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_atomic_batch_with_one_bad_record_writes_nothing_and_answers_400(api, fmt):
    response = send(api, "post", f"{URL}?atomic=true", fmt, MIXED)

    assert response.status_code == 400
    assert response.json()["committed"] is False
    assert statuses(response) == ["rolled_back", "error", "error", "rolled_back", "error"]
    assert not Contact.objects.exists()


def test_an_atomic_batch_that_fails_answers_in_the_uniform_error_shape(api):
    response = api.post(f"{URL}?atomic=true", MIXED, format="json")

    body = assert_uniform_error(response, 400, also=OUTCOME_KEYS)
    assert body["errors"]  # names the invalid records
    assert body["results"][1]["errors"] == {"email": ["Enter a valid email address."]}


def test_an_atomic_batch_of_good_records_commits_them_all(api):
    records = [MIXED[0], MIXED[3]]

    response = api.post(URL, {"records": records, "atomic": True}, format="json")

    assert response.status_code == 200
    assert response.json()["committed"] is True
    assert Contact.objects.count() == 2


def test_batch_options_can_travel_in_an_xml_body(api):
    contact = ContactFactory(external_id="e-1", first_name="Old")
    body = xml_body(
        {
            "mode": "upsert",
            "atomic": "true",
            "records": [{"external_id": "e-1", "first_name": "New"}, {"external_id": "e-2"}],
        }
    )

    response = api.post(URL, body, content_type="application/xml")

    assert response.status_code == 400  # e-2 has no name, email or phone: all rolled back
    assert statuses(response) == ["rolled_back", "error"]
    contact.refresh_from_db()
    assert contact.first_name == "Old"
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_update_mode_changes_records_found_by_id_or_external_id_and_reports_unknown_ones(api, fmt):
    by_id = ContactFactory(first_name="By id")
    by_external_id = ContactFactory(first_name="By ext", external_id="ext-2")
    untouched = snapshot(by_id)
    records = [
        {"id": by_id.pk, "external_id": "", "title": "CEO"},
        {"id": "", "external_id": "ext-2", "title": "CFO"},
        {"id": 999999, "external_id": "", "title": "Nobody"},
    ]

    response = send(api, "post", f"{URL}?mode=update", fmt, records)

    assert response.status_code == 200, response.content
    assert statuses(response) == ["updated", "updated", "error"]
    assert "non_field_errors" in response.json()["results"][2]["errors"]
    by_id.refresh_from_db()
    by_external_id.refresh_from_db()
    assert (by_id.title, by_external_id.title) == ("CEO", "CFO")
    assert {**snapshot(by_id), "title": ""} == untouched
    assert Contact.objects.count() == 2


@pytest.mark.parametrize("fmt", FORMATS)
def test_upsert_mode_creates_unknown_external_ids_and_updates_known_ones(api, fmt):
    known = ContactFactory(external_id="k-1", first_name="Known")
    records = [
        {"external_id": "k-1", "first_name": "Known again"},
        {"external_id": "n-1", "first_name": "New"},
        {"external_id": "n-1", "first_name": "New twice"},
    ]

    response = send(api, "post", f"{URL}?mode=upsert", fmt, records)

    assert response.status_code == 200, response.content
    assert statuses(response) == ["updated", "created", "updated"]
    known.refresh_from_db()
    assert known.first_name == "Known again"
    assert Contact.objects.get(external_id="n-1").first_name == "New twice"
    assert Contact.objects.count() == 2


def test_upsert_mode_needs_an_external_id_or_an_id_per_record(api):
    response = api.post(f"{URL}?mode=upsert", [{"first_name": "Anonymous"}], format="json")

    assert statuses(response) == ["error"]
    assert "external_id" in response.json()["results"][0]["errors"]
    assert not Contact.objects.exists()


def test_a_record_that_is_not_an_object_is_reported_not_fatal(api):
    response = api.post(URL, [{"first_name": "A"}, "just text", 42], format="json")

    assert statuses(response) == ["created", "error", "error"]
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("fmt", FORMATS)
def test_more_than_1000_records_are_refused_and_nothing_is_written(api, fmt):
    records = [{"first_name": f"n{index}"} for index in range(1001)]

    response = send(api, "post", URL, fmt, records)

    body = assert_uniform_error(response, 400)
    assert "1000" in body["errors"]["records"][0]
    assert not Contact.objects.exists()


def test_exactly_1000_records_are_accepted(api):
    records = [{"first_name": f"n{index}"} for index in range(1000)]

    response = api.post(URL, csv_body(records), content_type="text/csv")

    assert response.status_code == 200
    assert response.json()["created"] == 1000
    assert Contact.objects.count() == 1000


@pytest.mark.parametrize(
    ("query", "body", "field"),
    [
        ("?mode=delete", [], "mode"),
        ("?atomic=perhaps", [], "atomic"),
        ("", {"first_name": "not a list"}, "records"),
    ],
)
def test_bad_batch_options_are_refused_in_the_uniform_shape(api, query, body, field):
    response = api.post(f"{URL}{query}", body, format="json")

    assert field in assert_uniform_error(response, 400)["errors"]
    assert not Contact.objects.exists()


def test_an_empty_batch_is_a_no_op(api):
    response = api.post(URL, [], format="json")

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_a_csv_batch_with_a_ragged_row_is_refused_whole(api):
    body = b"first_name,email\r\nA,a@example.com\r\nB,b@example.com,extra\r\n"

    response = api.post(URL, body, content_type="text/csv")

    assert "line 3" in assert_uniform_error(response, 400)["message"]
    assert not Contact.objects.exists()


def test_a_caller_without_pii_access_can_batch_update_with_masked_values(api_without_pii):
    contact = ContactFactory(email="keep@example.com", phone="+86 138 0013 1234")
    listed = api_without_pii.get(f"{V1}/contacts/").json()["results"]

    response = api_without_pii.post(
        f"{URL}?mode=update", [{**listed[0], "title": "Masked but kept"}], format="json"
    )

    assert statuses(response) == ["updated"]
    contact.refresh_from_db()
    assert (contact.email, contact.phone) == ("keep@example.com", "+86 138 0013 1234")
    assert contact.title == "Masked but kept"


PER_RESOURCE = {
    "companies": [{"name": "北京科技", "tags": ["a"]}, {"name": "", "tags": []}],
    "deals": [{"name": "Pilot", "amount": "1234.50"}, {"name": "Negative", "amount": "-1"}],
    "activities": [{"kind": "note", "subject": "Hello 你好"}, {"kind": "note", "subject": ""}],
}


@pytest.mark.parametrize("resource", list(PER_RESOURCE))
@pytest.mark.parametrize("fmt", FORMATS)
def test_every_resource_takes_a_batch_in_every_format(api, resource, fmt):
    records = PER_RESOURCE[resource]
    if resource == "activities":
        contact = ContactFactory()
        records = [{**record, "contact": contact.pk} for record in records]

    response = send(api, "post", f"{V1}/{resource}/batch/", fmt, records)

    assert response.status_code == 200, response.content
    assert statuses(response) == ["created", "error"]
    model = {"companies": Company, "deals": Deal, "activities": Activity}[resource]
    assert list(model.objects.values_list("pk", flat=True)) == [response.json()["results"][0]["id"]]
