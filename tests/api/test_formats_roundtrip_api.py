"""Round trips: what a client GETs, in any format, it can PUT back byte for byte and the stored
record does not change, PII access or not."""

import datetime

import pytest

from customers.models import Activity, Contact, Stage
from tests.api.support import CONTENT_TYPES, V1, csv_body, snapshot
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

FORMATS = ["json", "xml", "csv"]
CALLERS = ["api", "api_without_pii"]


@pytest.fixture
def rich_records(sales_user):
    """Records with what breaks naive formats: CJK and emoji, multi-line text, formula-like
    cells, empty strings next to nulls, decimals, dates, datetimes, tags and relations."""
    company = CompanyFactory(
        name="北京科技有限公司",
        domain="bj-tech.example.cn",
        industry="",
        size_band="51-200",
        country="CN",
        phone="+86 10 6000 1234",
        address="北京市海淀区\n中关村大街 1 号",
        owner=sales_user,
        tags=["客户", "🚀", "a|b"],
    )
    contact = ContactFactory(
        first_name="伟",
        last_name="张",
        title="",
        company=company,
        email="zhang.wei@example.com",
        phone="+86 138 0013 1234",
        address="上海市\r\n浦东新区",
        lifecycle_stage=Contact.Lifecycle.CUSTOMER,
        source='=HYPERLINK("x")',
        owner=sales_user,
        notes="第一行\n'quoted' line, with a comma 🙂",
        consent_email=True,
        tags=["vip", "北京", "😀"],
    )
    deal = DealFactory(
        name="年度合同 2025",
        company=company,
        primary_contact=contact,
        amount="1234.50",
        currency="CNY",
        stage=Stage.objects.get(name="Closed won"),
        expected_close_date=datetime.date(2025, 6, 30),
        owner=sales_user,
        tags=["大单"],
    )
    activity = ActivityFactory(
        kind=Activity.Kind.MEETING,
        subject="签约会议 ✍️",
        body="议程:\n1. 价格\n2. -付款条件",
        due_at=datetime.datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=datetime.UTC),
        done_at=datetime.datetime(
            2025, 1, 3, 8, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
        ),
        contact=contact,
        deal=deal,
        author=sales_user,
    )
    return {"contacts": contact, "companies": company, "deals": deal, "activities": activity}


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals", "activities"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("caller", CALLERS)
def test_putting_back_what_was_read_leaves_the_record_unchanged(
    request, rich_records, resource, fmt, caller
):
    client = request.getfixturevalue(caller)
    record = rich_records[resource]
    before = snapshot(record)
    url = f"{V1}/{resource}/{record.pk}/"

    read = client.get(f"{url}?format={fmt}")
    written = client.put(url, read.content, content_type=CONTENT_TYPES[fmt])

    assert read.status_code == 200
    assert written.status_code == 200, written.content
    assert snapshot(record) == before


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_caller_without_pii_access_cannot_overwrite_pii_with_its_masks(
    api_without_pii, rich_records, fmt
):
    contact = rich_records["contacts"]
    url = f"{V1}/contacts/{contact.pk}/"
    read = api_without_pii.get(f"{url}?format={fmt}")

    api_without_pii.put(url, read.content, content_type=CONTENT_TYPES[fmt])

    assert b"z***@example.com" in read.content
    contact.refresh_from_db()
    assert contact.email == "zhang.wei@example.com"
    assert contact.phone == "+86 138 0013 1234"
    assert contact.address == "上海市\r\n浦东新区"


def test_a_caller_without_pii_access_can_still_replace_pii_with_a_new_value(
    api_without_pii, rich_records
):
    contact = rich_records["contacts"]
    read = api_without_pii.get(f"{V1}/contacts/{contact.pk}/").json()

    response = api_without_pii.put(
        f"{V1}/contacts/{contact.pk}/", {**read, "email": "new@example.com"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["email"] == "n***@example.com"
    contact.refresh_from_db()
    assert contact.email == "new@example.com"
    assert contact.phone == "+86 138 0013 1234"


def test_a_whole_csv_list_posted_back_as_a_batch_update_changes_nothing(api, rich_records):
    others = [ContactFactory(notes=f"note {n}", tags=["x"]) for n in range(3)]
    contacts = [rich_records["contacts"], *others]
    before = [snapshot(contact) for contact in contacts]

    listed = api.get(f"{V1}/contacts/?format=csv")
    response = api.post(
        f"{V1}/contacts/batch/?mode=update", listed.content, content_type="text/csv"
    )

    assert response.status_code == 200, response.content
    assert response.json()["updated"] == len(contacts), response.json()
    assert [snapshot(contact) for contact in contacts] == before


# What each format can say about empty values ------------------------------------------------


def test_json_and_xml_tell_null_from_empty_string(api, rich_records):
    contact = rich_records["contacts"]  # title "" and external_id null

    data = api.get(f"{V1}/contacts/{contact.pk}/").json()
    xml = api.get(f"{V1}/contacts/{contact.pk}/?format=xml").content.decode()

    assert data["title"] == "" and data["external_id"] is None
    assert "<title/>" in xml and '<external_id xsi:nil="true"/>' in xml


def test_csv_writes_null_and_empty_string_alike_and_both_come_back_as_stored(api, rich_records):
    contact = rich_records["contacts"]
    before = snapshot(contact)

    row = api.get(f"{V1}/contacts/{contact.pk}/?format=csv").content.decode().splitlines()[1]
    response = api.put(
        f"{V1}/contacts/{contact.pk}/",
        csv_body({"title": "", "external_id": ""}),
        content_type="text/csv",
    )

    assert row.startswith(f"{contact.pk},,")  # external_id (null) is an empty cell
    assert response.status_code == 200
    assert snapshot(contact) == before


def test_blank_and_null_mean_the_same_for_every_text_field_in_json(api, rich_records):
    """The promise behind CSV's limitation: null is accepted for text, blank for nullable
    fields, so no format needs to tell them apart."""
    contact = rich_records["contacts"]

    response = api.patch(
        f"{V1}/contacts/{contact.pk}/",
        {"title": None, "source": None, "external_id": "", "address": ""},
        format="json",
    )

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.title, contact.source) == ("", "")
    assert contact.external_id is None and contact.address is None


def test_null_notes_in_json_store_empty_notes(api, rich_records):
    contact = rich_records["contacts"]

    response = api.patch(f"{V1}/contacts/{contact.pk}/", {"notes": None}, format="json")

    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert contact.notes == ""


@pytest.mark.parametrize(
    ("resource", "make"),
    [("contacts", lambda: ContactFactory(notes="")), ("activities", lambda: ActivityFactory())],
)
def test_empty_long_text_round_trips_through_csv(api, resource, make):
    """Contact.notes and Activity.body cannot be NULL: the empty cell CSV writes for them
    (which parses as null) must store "" again."""
    record = make()
    before = snapshot(record)
    url = f"{V1}/{resource}/{record.pk}/"

    written = api.put(url, api.get(f"{url}?format=csv").content, content_type="text/csv")

    assert written.status_code == 200, written.content
    assert snapshot(record) == before


def test_xml_cannot_carry_control_characters_and_says_so_with_a_replacement_character(api):
    """Documented in renderers._xml_text: JSON carries the exact value, XML writes U+FFFD."""
    contact = ContactFactory(notes="bell\x07here")

    xml = api.get(f"{V1}/contacts/{contact.pk}/?format=xml").content.decode()
    data = api.get(f"{V1}/contacts/{contact.pk}/").json()

    assert "<notes>bell\ufffdhere</notes>" in xml
    assert data["notes"] == "bell\x07here"
