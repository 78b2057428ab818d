"""The API's documentation: a valid OpenAPI 3 document, and Swagger UI and ReDoc that work
offline (every asset served from /static/, nothing from a CDN)."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db

RESOURCES = ("contacts", "companies", "deals", "activities", "pipelines", "tags", "users")
ERROR_STATUSES = ("400", "401", "403", "404", "409", "412", "413", "415", "422", "429")
ERROR_REF = "#/components/schemas/Error"
FORMATS = {"application/json", "application/xml", "text/csv"}


@pytest.fixture(scope="module")
def document(django_db_setup, django_db_blocker) -> dict:
    """Generated once for the module (about a second each time): these tests define no custom
    fields, so the document they read is the same, and none of them changes it."""
    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def test_schema_is_a_valid_openapi_3_document_listing_every_resource(document):
    validate_schema(document)  # raises on an invalid document

    assert document["openapi"].startswith("3.")
    for resource in RESOURCES:
        assert f"/api/v1/{resource}/" in document["paths"]
        assert f"/api/v1/{resource}/{{id}}/" in document["paths"]
    assert {tag["name"] for tag in document["tags"]} >= {name.capitalize() for name in RESOURCES}


def test_schema_generation_has_no_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", tmp_path / "s.yaml")


def test_every_error_status_uses_the_shared_error_component(document):
    error = document["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "message", "errors"}

    documented = set()
    for path, method, operation in operations(document):
        if not path.startswith("/api/v1/"):
            continue
        for status in ("401", "403", "404", "406", "429"):
            assert status in operation["responses"], (method, path, status)
        for status, response in operation["responses"].items():
            if status in ERROR_STATUSES and _refers_to_error(response):
                documented.add(status)
    assert documented == set(ERROR_STATUSES)


def _refers_to_error(response: dict) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return ERROR_REF in str(schema) or "BatchFailure" in str(schema)


def test_formats_sparse_fieldsets_and_etags_are_documented(document):
    retrieve = document["paths"]["/api/v1/contacts/{id}/"]["get"]
    names = {parameter["name"] for parameter in retrieve["parameters"]}

    assert {"format", "fields", "If-None-Match"} <= names
    assert set(retrieve["responses"]["200"]["content"]) == FORMATS
    assert retrieve["responses"]["200"]["headers"]["ETag"]["required"] is True
    assert "304" in retrieve["responses"]

    update = document["paths"]["/api/v1/contacts/{id}/"]["put"]
    assert "If-Match" in {parameter["name"] for parameter in update["parameters"]}
    assert "412" in update["responses"]
    assert set(update["requestBody"]["content"]) == FORMATS | {
        "text/xml",
        "application/csv",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }


def test_idempotency_upsert_batch_and_export_are_documented(document):
    create = document["paths"]["/api/v1/contacts/"]["post"]
    assert "Idempotency-Key" in {parameter["name"] for parameter in create["parameters"]}
    assert {"201", "409", "422"} <= set(create["responses"])

    upsert = document["paths"]["/api/v1/contacts/by-external-id/{external_id}/"]["put"]
    assert {"200", "201"} <= set(upsert["responses"])

    batch = document["paths"]["/api/v1/contacts/batch/"]["post"]
    assert {"mode", "atomic"} <= {parameter["name"] for parameter in batch["parameters"]}
    batch_body = document["components"]["schemas"]["ContactBatchRequest"]
    assert [option.get("type") for option in batch_body["oneOf"]] == ["array", "object"]
    assert "results" in document["components"]["schemas"]["BatchOutcome"]["properties"]

    export = document["paths"]["/api/v1/contacts/export/"]["get"]
    assert {"email", "updated_since", "search", "format"} <= {
        parameter["name"] for parameter in export["parameters"]
    }
    assert set(export["responses"]["200"]["content"]) == FORMATS


def test_bearer_api_key_and_scopes_are_documented(document):
    scheme = document["components"]["securitySchemes"]["apiKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert "pii:read" in scheme["description"]

    create = document["paths"]["/api/v1/contacts/"]["post"]
    assert {"apiKey": []} in create["security"]
    assert create["x-required-scopes"] == ["contacts:write"]


def test_a_contact_has_json_examples_for_requests_and_responses(document):
    create = document["paths"]["/api/v1/contacts/"]["post"]
    request_examples = create["requestBody"]["content"]["application/json"]["examples"]
    response_examples = create["responses"]["201"]["content"]["application/json"]["examples"]

    assert any(example["value"].get("email") for example in request_examples.values())
    assert any(example["value"].get("full_name") for example in response_examples.values())


@pytest.mark.parametrize("url", ["/api/docs/", "/api/redoc/"])
def test_docs_pages_load_every_asset_locally(client, url):
    response = client.get(url)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert not re.search(r"(https?:)?//[\w.-]+\.\w+/", html), "a remote (CDN) reference"
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert assets
    for asset in assets:
        if asset == f"{url}?script=":  # Swagger UI's start-up script, served by the page itself
            script = client.get(asset)
            assert script.status_code == 200
            assert script["Content-Type"].startswith("application/javascript")
            continue
        assert asset.startswith("/static/"), asset
        assert finders.find(asset.removeprefix("/static/")), f"{asset} is not a static file"
