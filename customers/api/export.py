"""Streaming exports: every matching row, in CSV, JSON or XML, in flat memory.

Rows come from ``customers.export_rows`` (chunked ``values_list``, no serializer per row) and are
written with the same cell and element rules as the API's renderers, so an export parses back
with the API's parsers.
"""

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from customers.api.csv_cells import Column, csv_header_line, csv_row_line, plain
from customers.api.renderers import XMLRenderer
from customers.export_rows import contact_rows
from customers.models import Contact, CustomField

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xml": "application/xml; charset=utf-8",
}
_BUFFER_ROWS = 200  # rows joined per chunk written to the socket: fewer, larger writes


def stream_contacts(
    queryset: QuerySet[Contact],
    *,
    export_format: str,
    can_view_pii: bool,
    columns: list[Column],
    definitions: Sequence[CustomField] = (),
) -> StreamingHttpResponse:
    export_format = export_format if export_format in CONTENT_TYPES else "json"
    rows = contact_rows(queryset, can_view_pii=can_view_pii, definitions=definitions)
    writer = {"csv": _csv, "json": _json, "xml": _xml}[export_format]
    response = StreamingHttpResponse(
        _buffered(writer(rows, columns)), content_type=CONTENT_TYPES[export_format]
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.{export_format}"'
    return response


def _buffered(pieces: Iterable[str]) -> Iterator[bytes]:
    buffer: list[str] = []
    for piece in pieces:
        buffer.append(piece)
        if len(buffer) >= _BUFFER_ROWS:
            yield "".join(buffer).encode()
            buffer.clear()
    if buffer:
        yield "".join(buffer).encode()


def _csv(rows: Iterable[dict[str, Any]], columns: list[Column]) -> Iterator[str]:
    yield csv_header_line(columns)
    for row in rows:
        yield csv_row_line(row, columns)


def _json(rows: Iterable[dict[str, Any]], columns: list[Column]) -> Iterator[str]:
    yield "["
    separator = "\n"
    for row in rows:
        yield separator + json.dumps(row, ensure_ascii=False, default=plain)
        separator = ",\n"
    yield "\n]\n"


def _xml(rows: Iterable[dict[str, Any]], columns: list[Column]) -> Iterator[str]:
    renderer = XMLRenderer()
    yield renderer.document_start(as_list=True)
    for row in rows:
        yield renderer.element(renderer.item_tag_name, row)
    yield renderer.document_end()
