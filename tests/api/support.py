"""Helpers shared by the REST API tests: database snapshots, the uniform error shape, and
bodies in each wire format built and read with the API's own renderers and parsers."""

import io
from types import SimpleNamespace
from typing import Any

from django.db import models
from rest_framework.test import APIClient

from customers.api.parsers import CSVParser, XMLParser
from customers.api.renderers import CSVRenderer, XMLRenderer

V1 = "/api/v1"
CONTENT_TYPES = {"json": "application/json", "xml": "application/xml", "csv": "text/csv"}
ERROR_KEYS = {"code", "message", "errors"}


def snapshot(instance: models.Model) -> dict[str, Any]:
    """Every stored column of the row (decrypted) and its tag names, `updated_at` aside."""
    model = type(instance)
    fresh = model.objects.get(pk=instance.pk)
    data = {
        field.attname: getattr(fresh, field.attname)
        for field in model._meta.concrete_fields
        if field.name != "updated_at"
    }
    if any(field.name == "tags" for field in model._meta.many_to_many):
        data["tags"] = sorted(fresh.tags.values_list("name", flat=True))
    return data


def assert_uniform_error(
    response, status: int | None = None, *, also: set[str] | None = None
) -> dict[str, Any]:
    """The body is ``{"code", "message", "errors"}``; a 429 adds ``retry_after`` and `also`
    names any other keys an endpoint documents beside them."""
    if status is not None:
        assert response.status_code == status, response.content
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) >= ERROR_KEYS and set(body) - ERROR_KEYS <= {"retry_after", *(also or ())}, (
        body
    )
    assert isinstance(body["code"], str) and body["code"], body
    assert isinstance(body["message"], str), body
    assert isinstance(body["errors"], dict), body
    return body


def xml_body(data: Any) -> bytes:
    return XMLRenderer().render(data).encode()


def csv_body(data: Any) -> bytes:
    """One row for a dict, one row per item for a list; columns discovered from the data."""
    return CSVRenderer().render(data).encode()


def body_in(fmt: str, data: Any) -> bytes | dict | list:
    return {"json": lambda d: d, "xml": xml_body, "csv": csv_body}[fmt](data)


def send(client: APIClient, method: str, url: str, fmt: str, data: Any, **extra):
    """PUT/POST/PATCH `data` encoded as `fmt` with the matching Content-Type."""
    call = getattr(client, method)
    if fmt == "json":
        return call(url, data, format="json", **extra)
    return call(url, body_in(fmt, data), content_type=CONTENT_TYPES[fmt], **extra)


def parse_xml(content: bytes) -> Any:
    return XMLParser().parse(io.BytesIO(content))


def parse_csv_rows(content: bytes) -> list[dict[str, Any]]:
    view = SimpleNamespace(action="batch", csv_max_rows=None)  # an export, not a request body
    return CSVParser().parse(io.BytesIO(content), parser_context={"view": view})


def records_in(fmt: str, response) -> list[dict[str, Any]]:
    """The records of a list response in any format (leaves are text for XML and CSV)."""
    if fmt == "json":
        body = response.json()
        return body["results"] if isinstance(body, dict) else body
    if fmt == "xml":
        body = parse_xml(response.content)
        results = body["results"] if isinstance(body, dict) else body
        return [] if results == "" else results
    return parse_csv_rows(response.content)


def record_in(fmt: str, response) -> dict[str, Any]:
    """The single record of a detail response in any format."""
    if fmt == "json":
        return response.json()
    if fmt == "xml":
        return parse_xml(response.content)
    (row,) = parse_csv_rows(response.content)
    return row


def non_raising(client: APIClient) -> APIClient:
    """Let a server error come back as a 500 response, so a test can assert it did not."""
    client.raise_request_exception = False
    return client
