"""Every list costs the same number of queries however many rows its page holds (no N+1)."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from customers.actors import SYSTEM
from customers.services import pipelines, tags
from tests.api.support import V1, records_in
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject(sales_user):
    """The contact whose timeline is listed; every activity below is logged on it."""
    company = CompanyFactory(owner=sales_user, tags=["anchor"])
    return ContactFactory(company=company, owner=sales_user, tags=["anchor"])


def add_rows(count: int, *, offset: int, owner, subject) -> None:
    """`count` more of everything, each with the relations and tags its list renders."""
    for n in range(offset, offset + count):
        company = CompanyFactory(owner=owner, tags=[f"c{n}", "shared"])
        contact = ContactFactory(company=company, owner=owner, tags=[f"p{n}", "shared"])
        deal = DealFactory(company=company, primary_contact=contact, owner=owner, tags=[f"d{n}"])
        ActivityFactory(contact=subject, deal=deal, author=owner)
        pipelines.pipeline_create(actor=SYSTEM, name=f"Pipeline {n}")
        tags.tag_create(actor=SYSTEM, name=f"extra {n}")
        get_user_model().objects.create(username=f"colleague{n}")  # no password: no hashing


def count_queries(client, url: str) -> tuple[int, int]:
    """(queries, rows) for one request; the warm-up keeps per-process caches out of it."""
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content
    fmt = "csv" if "format=csv" in url else "xml" if "format=xml" in url else "json"
    return len(queries), len(records_in(fmt, response))


LISTS = [
    "contacts/",
    "companies/",
    "deals/",
    "activities/",
    "pipelines/",
    "tags/",
    "users/",
    "contacts/{subject}/activities/",
    "deals/?format=xml",
    "contacts/?format=csv",
    "contacts/?format=xml&fields=id,company,owner,tags",
]


@pytest.mark.parametrize("path", LISTS)
def test_list_query_count_does_not_grow_with_the_page(api, sales_user, subject, path):
    url = f"{V1}/{path.format(subject=subject.pk)}"
    add_rows(5, offset=0, owner=sales_user, subject=subject)
    few_queries, few_rows = count_queries(api, url)

    add_rows(20, offset=5, owner=sales_user, subject=subject)
    many_queries, many_rows = count_queries(api, url)

    assert many_rows >= few_rows + 20
    assert many_queries == few_queries


def count_export_queries(client) -> int:
    url = f"{V1}/contacts/export/?format=csv"
    b"".join(client.get(url).streaming_content)
    with CaptureQueriesContext(connection) as queries:
        b"".join(client.get(url).streaming_content)
    return len(queries)


def test_the_export_query_count_does_not_grow_with_the_rows(api, sales_user, subject):
    add_rows(5, offset=0, owner=sales_user, subject=subject)
    few = count_export_queries(api)

    add_rows(20, offset=5, owner=sales_user, subject=subject)

    assert count_export_queries(api) == few
