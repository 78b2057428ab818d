"""GET /contacts/export/: every filtered row, streamed in CSV, JSON or XML, equal to what the
list endpoint says about the same rows and readable by the API's own parsers."""

import datetime
import io

import pytest
from django.utils import timezone
from rest_framework.parsers import JSONParser

from customers import crypto
from customers.models import Contact, Tag
from tests.api.support import V1, parse_csv_rows, parse_xml
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

EXPORT = f"{V1}/contacts/export/"
ROWS = 2_500  # more than one export chunk (2,000 rows) and many socket writes (200 rows)


def bulk_contacts(count: int, *, tag: Tag, owner, company) -> list[int]:
    """Rows straight into the table (bulk_create, blind indexes computed here): the services
    would take a minute for this many, and the export only reads."""
    consented_at = timezone.now() - datetime.timedelta(days=3)
    contacts = []
    for n in range(count):
        email = f"bulk{n}@example.com" if n % 5 else None
        phone = f"+86 138 {n:04d} {n % 9999:04d}" if n % 3 else None
        contacts.append(
            Contact(
                first_name=f"伟{n}" if n % 2 else f"Ann {n}",
                last_name="张" if n % 2 else "Smith",
                title="" if n % 4 else "=CFO()",
                company=company if n % 2 else None,
                email=email,
                email_index=crypto.email_index(email),
                phone=phone,
                phone_index=crypto.phone_index(phone),
                address=f'Line 1\nLine {n}, "quoted"' if n % 7 else None,
                lifecycle_stage=Contact.Lifecycle.values[n % 4],
                owner=owner if n % 4 == 0 else None,
                notes=f"note {n} 🙂" if n % 2 else "",
                consent_email=n % 10 == 0,
                consent_updated_at=consented_at if n % 10 == 0 else None,
                external_id=f"ext-{n}" if n % 6 == 0 else None,
            )
        )
    created = Contact.objects.bulk_create(contacts, batch_size=500)
    through = Contact.tags.through
    extra = Tag.objects.create(name="北京")
    links = [through(contact_id=contact.pk, tag_id=tag.pk) for contact in created]
    links += [through(contact_id=contact.pk, tag_id=extra.pk) for contact in created[::3]]
    through.objects.bulk_create(links, batch_size=1000)
    return [contact.pk for contact in created]


@pytest.fixture
def exported_ids(sales_user):
    tag = Tag.objects.create(name="bulk")
    ids = bulk_contacts(
        ROWS, tag=tag, owner=sales_user, company=CompanyFactory(name='Acme, "Ltd" 贸易')
    )
    for n in range(5):  # outside the filter
        ContactFactory(first_name=f"Other {n}")
    return ids


def download(client, url: str, **headers) -> tuple[bytes, object]:
    response = client.get(url, **headers)
    assert response.status_code == 200
    assert response.streaming
    chunks = list(response.streaming_content)
    return b"".join(chunks), (response, len(chunks))


def parse_export(fmt: str, content: bytes) -> list[dict]:
    if fmt == "json":
        return JSONParser().parse(io.BytesIO(content))
    if fmt == "xml":
        return parse_xml(content)
    return parse_csv_rows(content)


def listed_rows(client, fmt: str, query: str) -> list[dict]:
    """Every page of the list endpoint for `query`, in `fmt`. CSV pages carry no cursor, so
    the cursors come from the JSON pages."""
    rows, url = [], f"{V1}/contacts/?page_size=1000&{query}"
    while url:
        page = client.get(url).json()
        if fmt == "json":
            rows += page["results"]
        elif fmt == "xml":
            rows += parse_xml(client.get(f"{url}&format=xml").content)["results"]
        else:
            rows += parse_csv_rows(client.get(f"{url}&format=csv").content)
        url = page["next"]
    return rows


@pytest.mark.parametrize("fmt", ["csv", "json", "xml"])
def test_the_export_streams_every_filtered_row_equal_to_the_list_endpoint(api, exported_ids, fmt):
    content, (response, chunks) = download(api, f"{EXPORT}?format={fmt}&tag=bulk")
    exported = parse_export(fmt, content)

    assert chunks > 1
    assert [int(row["id"]) for row in exported] == exported_ids
    assert exported == listed_rows(api, fmt, "tag=bulk")


@pytest.mark.parametrize(
    ("fmt", "accept", "content_type"),
    [
        ("csv", "text/csv", "text/csv"),
        ("json", "application/json", "application/json"),
        ("xml", "application/xml", "application/xml"),
    ],
)
def test_the_accept_header_picks_the_export_format_and_names_the_file(
    api, fmt, accept, content_type
):
    ContactFactory()

    _, (response, _) = download(api, EXPORT, HTTP_ACCEPT=accept)

    assert response["Content-Type"].startswith(content_type)
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    assert response["Content-Disposition"].endswith(f'.{fmt}"')


def test_the_export_applies_every_list_filter(api, sales_user):
    wanted = ContactFactory(lifecycle_stage="customer", owner=sales_user, email="w@example.com")
    ContactFactory(lifecycle_stage="customer")
    ContactFactory(owner=sales_user)

    content, _ = download(
        api, f"{EXPORT}?format=json&lifecycle_stage=customer&owner={sales_user.pk}"
    )
    by_email, _ = download(api, f"{EXPORT}?format=json&email=W@EXAMPLE.COM")

    assert [row["id"] for row in parse_export("json", content)] == [wanted.pk]
    assert [row["id"] for row in parse_export("json", by_email)] == [wanted.pk]


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_an_export_that_matches_nothing_parses_to_no_rows(api, fmt):
    ContactFactory()

    content, _ = download(api, f"{EXPORT}?format={fmt}&tag=nothing")

    assert parse_export(fmt, content) == []


def test_an_empty_xml_export_parses_to_no_rows(api):
    ContactFactory()

    content, _ = download(api, f"{EXPORT}?format=xml&tag=nothing")

    assert parse_export("xml", content) == []


def test_an_export_csv_can_be_posted_back_as_a_batch_update_unchanged(api, sales_user):
    contacts = [
        ContactFactory(first_name="伟", last_name="张", notes="n 🙂", tags=["a", "b|c"]),
        ContactFactory(title="=SUM(A1)", notes="multi\nline", owner=sales_user),
    ]
    before = list(Contact.objects.order_by("pk").values())

    content, _ = download(api, f"{EXPORT}?format=csv")
    response = api.post(f"{V1}/contacts/batch/?mode=update", content, content_type="text/csv")

    assert response.json()["updated"] == len(contacts), response.json()
    after = list(Contact.objects.order_by("pk").values())
    for row in before + after:
        row.pop("updated_at")
    assert after == before
