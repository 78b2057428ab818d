"""Streaming exports: every matching row, in CSV, JSON or XML, in flat memory.

Contacts are read in chunks with their PII still encrypted and each chunk is decrypted and
written as text in one go (``customers.export_stream``, on both cores for a large export), with
the same cell and element rules as the API's renderers, so an export parses back with the
API's parsers. A CSV narrowed to columns the fast encoder does not know is written from dicts.
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone

from customers.api.csv_cells import Column, csv_header_line, csv_row_line
from customers.export_encoders import contact_encoder, supports_columns
from customers.export_rows import contact_rows
from customers.export_stream import contact_export_text
from customers.models import Contact, CustomField

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xml": "application/xml; charset=utf-8",
}
_BUFFER_BYTES = 256 * 1024  # joined per write to the socket: fewer, larger writes


def stream_contacts(
    queryset: QuerySet[Contact],
    *,
    export_format: str,
    can_view_pii: bool,
    columns: list[Column],
    definitions: Sequence[CustomField] = (),
) -> StreamingHttpResponse:
    export_format = export_format if export_format in CONTENT_TYPES else "json"
    if export_format != "csv" or supports_columns(columns, definitions):
        encoder = contact_encoder(
            format=export_format,
            can_view_pii=can_view_pii,
            keys=settings.FIELD_ENCRYPTION_KEYS,
            definitions=definitions,
            columns=columns,
        )
        pieces = contact_export_text(queryset, encoder, as_bytes=True)
        content = _buffered(data for data, _rows in pieces)
    else:
        rows = contact_rows(queryset, can_view_pii=can_view_pii, definitions=definitions)
        content = _buffered(text.encode() for text in _csv(rows, columns))
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES[export_format])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="contacts-{stamp}.{export_format}"'
    return response


def _buffered(pieces: Iterable[bytes]) -> Iterator[bytes]:
    buffer: list[bytes] = []
    size = 0
    for piece in pieces:
        buffer.append(piece)
        size += len(piece)
        if size >= _BUFFER_BYTES:
            yield b"".join(buffer)
            buffer.clear()
            size = 0
    if buffer:
        yield b"".join(buffer)


def _csv(rows: Iterable[dict[str, Any]], columns: list[Column]) -> Iterator[str]:
    yield csv_header_line(columns)
    for row in rows:
        yield csv_row_line(row, columns)
