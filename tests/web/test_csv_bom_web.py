"""Every CSV the web UI hands a person starts with a UTF-8 byte-order mark, so Excel shows
Chinese correctly: "Export selected", the list's export (`/exports/…?format=csv`) and the
import error report. Our own readers skip the mark: such a file imports back cleanly."""

import csv
import io

import pytest
from django.urls import reverse

from customers.models import Contact
from integrations.imports import services as imports
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

BOM = b"\xef\xbb\xbf"


def data(response) -> bytes:
    assert response.status_code == 200, response.content[:500]
    return b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("bulk", "factory", "header"),
    [
        ("web:contact-bulk", ContactFactory, b"id,external_id,first_name"),
        ("web:company-bulk", CompanyFactory, b"id,external_id,name"),
        ("web:deal-bulk", DealFactory, b"id,external_id,name"),
    ],
)
def test_export_selected_starts_with_a_bom(sales_client, bulk, factory, header):
    chosen = factory()

    response = sales_client.post(reverse(bulk), {"action": "export", "ids": [chosen.pk]})

    assert data(response).startswith(BOM + header)


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals"])
def test_the_lists_csv_export_starts_with_a_bom_once(sales_client, resource):
    ContactFactory(first_name="伟", last_name="张", company=CompanyFactory(name="北京贸易"))
    DealFactory(name="大单")

    content = data(sales_client.get(reverse("web:export", args=[resource]), {"format": "csv"}))

    assert content.startswith(BOM + b"id,") and content.count(BOM) == 1


def test_bom_false_leaves_it_out_and_json_and_xml_never_have_one(sales_client):
    ContactFactory()
    url = reverse("web:export", args=["contacts"])

    assert data(sales_client.get(url, {"format": "csv", "bom": "false"})).startswith(b"id,")
    assert data(sales_client.get(url, {"format": "json"})).startswith(b"[")
    assert data(sales_client.get(url, {"format": "xml"})).startswith(b"<?xml")


def test_a_bom_that_is_not_true_or_false_is_refused(sales_client):
    response = sales_client.get(reverse("web:export", args=["deals"]), {"bom": "maybe"})

    assert response.status_code == 400
    assert "true or false" in response.content.decode()


def test_the_import_error_report_starts_with_a_bom(sales_client, sales_user):
    job = imports.import_create(
        user=sales_user,
        file=io.BytesIO("名,邮箱\n伟,not-an-email\n".encode()),
        filename="people.csv",
        resource="contacts",
        match_key="email",
        enqueue=False,
    )
    imports.import_run(job_id=job.pk)

    content = data(sales_client.get(reverse("web:import-errors", args=[job.pk])))

    assert content.startswith(BOM + "名,邮箱,".encode())


def test_a_csv_exported_with_its_bom_imports_back_cleanly(sales_client, sales_user):
    ContactFactory(first_name="伟", last_name="张", external_id="e1", owner=sales_user)
    ContactFactory(first_name="娜", last_name="李", external_id="e2", owner=sales_user)
    url = reverse("web:export", args=["contacts"])
    exported = data(sales_client.get(url, {"format": "csv"}))
    assert exported.startswith(BOM)

    preview = imports.import_preview(file=io.BytesIO(exported), resource="contacts")
    job = imports.import_create(
        user=sales_user,
        file=io.BytesIO(exported),
        filename="contacts.csv",
        resource="contacts",
        enqueue=False,
    )
    job = imports.import_run(job_id=job.pk)

    assert preview.headers[0] == "id"  # not "\ufeffid": the mark is not part of the header
    assert preview.mapping.targets["id"] == "id"
    assert (job.rows_failed, job.rows_unchanged, job.rows_created) == (0, 2, 0)
    assert Contact.objects.count() == 2
    first = next(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert first["first_name"] == "伟"
