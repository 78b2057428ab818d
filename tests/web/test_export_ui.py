"""Export of the list being looked at: the list page's own filters (and `ids=` for the selected
rows), CSV/JSON/XML streamed with the REST export's columns, PII only for those who may read it."""

import csv
import io
import json
from xml.etree import ElementTree

import pytest
from django.urls import reverse

from customers.actors import SYSTEM
from customers.services.custom_fields import custom_field_create
from tests.factories import CompanyFactory, ContactFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db


def export(client, resource: str, **params):
    return client.get(reverse("web:export", args=[resource]), params)


def body(response) -> str:
    assert response.status_code == 200, response.content.decode()[:500]
    return b"".join(response.streaming_content).decode()


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response).lstrip("\ufeff"))))


def test_contacts_export_follows_the_list_filters(sales_client, sales_user):
    mine = ContactFactory(first_name="Wei", owner=sales_user, lifecycle_stage="customer")
    ContactFactory(first_name="Na", owner=sales_user, lifecycle_stage="lead")
    ContactFactory(first_name="Other", owner=UserFactory(), lifecycle_stage="customer")

    response = export(
        sales_client, "contacts", format="csv", owner="me", lifecycle_stage="customer"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="contacts-')
    rows = csv_rows(response)
    assert [(row["id"], row["first_name"]) for row in rows] == [(str(mine.pk), "Wei")]
    assert rows[0]["email"] == mine.email  # decrypted for a user with view_pii


def test_search_and_selected_ids_narrow_the_export(sales_client):
    wei = ContactFactory(first_name="Wei", last_name="Zhang")
    ContactFactory(first_name="Wei", last_name="Wang")
    ContactFactory(first_name="Na", last_name="Li")
    rows = csv_rows(export(sales_client, "contacts", q="Wei", ids=f"{wei.pk},999999"))
    assert [row["last_name"] for row in rows] == ["Zhang"]
    assert len(csv_rows(export(sales_client, "contacts", q="Wei"))) == 2


def test_pii_is_masked_for_users_without_view_pii(client):
    contact = ContactFactory(email="zhang.wei@example.cn")
    viewer = UserFactory()
    viewer.user_permissions.add(_permission("view_contact"))
    client.force_login(viewer)
    rows = csv_rows(export(client, "contacts"))
    assert rows[0]["id"] == str(contact.pk)
    assert rows[0]["email"] == "z***@example.cn"


def test_json_and_xml_exports_parse_with_custom_fields(sales_client):
    custom_field_create(actor=SYSTEM, entity="company", name="tier", label="Tier", type="text")
    acme = CompanyFactory(name="Acme", custom_fields={"tier": "gold"})
    CompanyFactory(name="Globex")

    records = json.loads(body(export(sales_client, "companies", format="json", q="Acme")))
    assert [(r["id"], r["name"], r["custom_fields"]["tier"]) for r in records] == [
        (acme.pk, "Acme", "gold")
    ]
    root = ElementTree.fromstring(body(export(sales_client, "companies", format="xml")))
    assert sorted(item.findtext("name") for item in root) == ["Acme", "Globex"]


def test_deals_export_as_csv_with_the_rest_columns(sales_client, sales_user):
    deal = DealFactory(name="Big one", owner=sales_user)
    DealFactory(name="Small one", owner=UserFactory())
    rows = csv_rows(export(sales_client, "deals", owner="me"))
    assert [(row["id"], row["name"]) for row in rows] == [(str(deal.pk), "Big one")]
    assert {"amount", "currency", "stage.id"} <= set(rows[0])


def test_an_invalid_filter_refuses_instead_of_exporting_everything(sales_client):
    ContactFactory()
    response = export(sales_client, "contacts", created_from="not-a-date")
    assert response.status_code == 400
    assert b"filters" in response.content


@pytest.mark.parametrize(
    ("resource", "params", "status"),
    [
        ("contacts", {"format": "xlsx"}, 400),
        ("contacts", {"ids": "1,abc"}, 400),
        ("tags", {}, 404),
    ],
)
def test_bad_requests(sales_client, resource, params, status):
    assert export(sales_client, resource, **params).status_code == status


def test_export_needs_the_view_permission_and_a_login(client):
    client.force_login(UserFactory())
    assert export(client, "deals").status_code == 403
    client.logout()
    assert export(client, "deals").status_code == 302


def _permission(codename: str):
    from django.contrib.auth.models import Permission

    return Permission.objects.get(codename=codename, content_type__app_label="customers")


def test_the_export_links_carry_the_list_filters_but_not_the_page(rf, sales_user):
    from django.template.loader import render_to_string

    request = rf.get("/contacts/", {"owner": "me", "q": "Wei", "after": "abc"})
    request.user = sales_user
    html = render_to_string("web/exports/_links.html", {"resource": "contacts", "request": request})
    url = reverse("web:export", args=["contacts"])
    assert f'href="{url}?owner=me&amp;q=Wei&amp;format=csv"' in html
    assert "after=" not in html
