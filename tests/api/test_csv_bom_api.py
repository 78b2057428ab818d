"""A CSV for a person starts with a UTF-8 byte-order mark (Excel needs it to show Chinese); a
program does not get one unless it asks. The rule (`customers.export_response.wants_bom`): `?bom=`
decides when given; otherwise a request authenticated by an API key gets none and a browser's
session gets one. It holds for the streaming export, the import error report and an export
job's download, and it is documented in the OpenAPI schema."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from integrations.exports import services as exports
from integrations.imports import services as imports
from tests.api.support import assert_uniform_error
from tests.factories import ContactFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

BOM = b"\xef\xbb\xbf"
EXPORT = "/api/v1/contacts/export/"


@pytest.fixture
def browser(sales_user) -> APIClient:
    """The REST API opened in a browser: a logged-in session, no API key."""
    client = APIClient()
    client.force_login(sales_user)
    return client


def content(response) -> bytes:
    assert response.status_code == 200, response.content
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_an_api_key_client_gets_the_streamed_csv_without_a_bom(api):
    ContactFactory(first_name="伟", last_name="张")

    data = content(api.get(EXPORT, {"format": "csv"}))

    assert data.startswith(b"id,external_id,first_name")
    assert "伟".encode() in data


@pytest.mark.parametrize("value", ["true", "1", "yes", "True"])
def test_an_api_key_client_gets_the_bom_when_it_asks(api, value):
    ContactFactory(first_name="伟")

    data = content(api.get(EXPORT, {"format": "csv", "bom": value}))

    assert data.startswith(BOM + b"id,external_id,first_name")
    assert data.count(BOM) == 1  # once, before the header


def test_a_browser_gets_the_bom_unless_it_says_bom_false(browser):
    ContactFactory(first_name="伟")

    assert content(browser.get(EXPORT, {"format": "csv"})).startswith(BOM + b"id,")
    assert content(browser.get(EXPORT, {"format": "csv", "bom": "false"})).startswith(b"id,")


def test_json_and_xml_never_get_a_bom(browser):
    ContactFactory()

    assert content(browser.get(EXPORT, {"format": "json", "bom": "true"})).startswith(b"[")
    assert content(browser.get(EXPORT, {"format": "xml"})).startswith(b"<?xml")


def test_a_bom_that_is_not_true_or_false_is_a_400_naming_bom(api):
    as_json = api.get(EXPORT, {"format": "json", "bom": "maybe"})
    as_csv = api.get(EXPORT, {"format": "csv", "bom": "maybe"})

    assert assert_uniform_error(as_json, 400)["errors"] == {"bom": ["Use true or false."]}
    assert as_csv.status_code == 400
    assert "errors.bom,Use true or false." in as_csv.content.decode().splitlines()


def test_the_import_error_report_follows_the_same_rule(api, browser, sales_user):
    job = imports.import_create(
        user=sales_user,
        file=io.BytesIO("first_name,email\n伟,not-an-email\n".encode()),
        filename="p.csv",
        resource="contacts",
        match_key="email",
        enqueue=False,
    )
    imports.import_run(job_id=job.pk)
    url = f"/api/v1/imports/{job.pk}/errors/"

    assert content(api.get(url, {"format": "csv"})).startswith(b"first_name,email,")
    assert content(api.get(url, {"format": "csv", "bom": "true"})).startswith(BOM + b"first_name")
    assert content(browser.get(url, {"format": "csv"})).startswith(BOM + b"first_name")


def test_an_export_jobs_csv_download_follows_the_same_rule(api, browser, sales_user):
    ContactFactory(first_name="伟")
    job = exports.export_create(
        user=sales_user,
        resource="contacts",
        format="csv",
        filters={},
        include_pii=True,
        enqueue=False,
    )
    exports.export_run(job_id=job.pk)
    url = f"/api/v1/exports/{job.pk}/download/"

    for_program = api.get(url)
    assert content(for_program).startswith(b"id,external_id")
    assert int(for_program["Content-Length"]) == len(content(api.get(url)))
    assert content(api.get(url, {"bom": "true"})).startswith(BOM + b"id,")
    assert content(browser.get(url)).startswith(BOM + b"id,")


def test_a_csv_posted_with_a_bom_reads_its_first_column(api):
    body = BOM + "first_name,last_name\n伟,张\n".encode()

    response = api.post(
        "/api/v1/contacts/", data=SimpleUploadedFile("x", body).read(), content_type="text/csv"
    )

    assert response.status_code == 201, response.content
    assert (response.json()["first_name"], response.json()["last_name"]) == ("伟", "张")


def test_the_schema_documents_bom_where_a_csv_is_downloaded(client):
    document = client.get("/api/schema/", {"format": "json"}).json()
    paths = document["paths"]

    for path in (
        "/api/v1/contacts/export/",
        "/api/v1/imports/{id}/errors/",
        "/api/v1/exports/{id}/download/",
    ):
        (bom,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == "bom"]
        assert bom["in"] == "query" and bom["schema"]["type"] == "boolean"
        assert "API key" in bom["description"]
