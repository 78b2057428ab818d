"""Every list page offers "Export" links (CSV, JSON, XML) for the whole filtered list: each
carries the page's filters and search but not its page position, and following one gives the
rows the list shows, with personal data as the user may see it."""

import csv
import io
import json
import re
from html import unescape
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from tests.factories import CompanyFactory, ContactFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

LISTS = [
    ("web:contact-list", "contacts"),
    ("web:company-list", "companies"),
    ("web:deal-list", "deals"),
]


def export_links(html: str) -> dict[str, str]:
    """The export group's links by label (CSV, JSON, XML)."""
    group = re.search(r'<div class="export-links".*?</div>', html, re.S)
    assert group, "the list page has no export links"
    return {
        label: unescape(href)
        for href, label in re.findall(
            r'<a class="button small" href="([^"]+)"[^>]*>(\w+)</a>', group[0]
        )
    }


def follow(client, href: str) -> str:
    response = client.get(href)
    assert response.status_code == 200, response.content[:300]
    return b"".join(response.streaming_content).decode("utf-8-sig")


@pytest.mark.parametrize(("list_route", "resource"), LISTS)
def test_every_list_page_links_its_export_in_csv_json_and_xml(sales_client, list_route, resource):
    html = sales_client.get(reverse(list_route), {"owner": "me", "after": "x"}).content.decode()

    links = export_links(html)

    export = reverse("web:export", args=[resource])
    assert links == {
        "CSV": f"{export}?owner=me&format=csv",
        "JSON": f"{export}?owner=me&format=json",
        "XML": f"{export}?owner=me&format=xml",
    }
    assert "style=" not in html.split('class="export-links"')[1].split("</div>")[0]


def test_following_the_links_gives_the_filtered_contacts_in_each_format(sales_client, sales_user):
    mine = ContactFactory(first_name="伟", last_name="张", owner=sales_user, lifecycle_stage="lead")
    ContactFactory(first_name="娜", owner=sales_user, lifecycle_stage="customer")
    ContactFactory(first_name="Other", owner=UserFactory(), lifecycle_stage="lead")
    page = sales_client.get(reverse("web:contact-list"), {"owner": "me", "lifecycle_stage": "lead"})
    links = export_links(page.content.decode())

    as_csv = list(csv.DictReader(io.StringIO(follow(sales_client, links["CSV"]))))
    as_json = json.loads(follow(sales_client, links["JSON"]))
    as_xml = ElementTree.fromstring(follow(sales_client, links["XML"]))

    assert [(row["id"], row["first_name"], row["email"]) for row in as_csv] == [
        (str(mine.pk), "伟", mine.email)
    ]
    assert [record["id"] for record in as_json] == [mine.pk]
    assert [item.findtext("id") for item in as_xml] == [str(mine.pk)]


def test_the_whole_filtered_list_is_exported_not_just_the_page(sales_client, sales_user):
    CompanyFactory.create_batch(55, owner=sales_user, industry="贸易")
    CompanyFactory(owner=sales_user, industry="other")
    page = sales_client.get(reverse("web:company-list"), {"q": ""})
    links = export_links(page.content.decode())

    rows = list(csv.DictReader(io.StringIO(follow(sales_client, links["CSV"]))))

    assert len(rows) == 56  # a list page shows 50


def test_a_deal_search_is_carried_into_the_export(sales_client):
    wanted = DealFactory(name="北京大单")
    DealFactory(name="Small one")
    page = sales_client.get(reverse("web:deal-list"), {"q": "北京"})
    links = export_links(page.content.decode())

    records = json.loads(follow(sales_client, links["JSON"]))

    assert [record["id"] for record in records] == [wanted.pk]


def test_a_user_without_pii_rights_is_told_and_gets_masked_data(no_pii_client):
    contact = ContactFactory(email="zhang.wei@example.cn")
    html = no_pii_client.get(reverse("web:contact-list")).content.decode()

    links = export_links(html)
    rows = list(csv.DictReader(io.StringIO(follow(no_pii_client, links["CSV"]))))

    assert "exported masked" in html
    assert [(row["id"], row["email"]) for row in rows] == [(str(contact.pk), "z***@example.cn")]


def test_a_user_who_may_read_pii_is_not_told_it_is_masked(sales_client):
    html = sales_client.get(reverse("web:contact-list")).content.decode()

    assert "exported masked" not in html
    assert export_links(html)
