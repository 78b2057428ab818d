"""Streaming exports: every matching row, in CSV, JSON or XML, in flat memory. The REST door's
``/contacts/export/``, the web UI's list and bulk downloads and the jobs API's files all answer
with it, so it belongs to no door.

Contacts are read in chunks with their PII still encrypted and each chunk is decrypted and
written as text in one go (``customers.representation.export_stream``, on both cores for a large
export), with the same cell and element rules as the API's renderers, so an export parses back with
the API's parsers. A CSV narrowed to columns the fast encoder does not know is written from dicts.

A CSV for a person starts with a UTF-8 byte-order mark (Excel needs it to read Chinese); which
requests are a person's is decided once, in `wants_bom`.
"""

import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Contact, CustomField
from customers.representation.export_encoders import contact_encoder, supports_columns
from customers.representation.export_rows import contact_rows
from customers.representation.export_stream import contact_export_text
from integrations.formats.csv_cells import Column, csv_header_line, csv_row_line
from integrations.formats.writers import UTF8_BOM

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "xml": "application/xml; charset=utf-8",
}
_BUFFER_BYTES = 256 * 1024  # joined per write to the socket: fewer, larger writes
BOM_PARAMETER = "bom"
_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}


def wants_bom(request: HttpRequest) -> bool:
    """Whether a CSV answering `request` starts with a UTF-8 byte-order mark.

    `?bom=true|false` decides when given. Otherwise a person gets one and a program does not:
    a request authenticated by an API key (``request.auth`` set: DRF's token authentication)
    is a program, which would read the mark as part of its first header; anything else is a
    browser with a session (the web UI, or the REST API opened in it), whose file goes to a
    spreadsheet. Any other value of `bom` is a field error (400)."""
    given = request.GET.get(BOM_PARAMETER)
    if given is not None:
        value = given.strip().lower()
        if value in _TRUE or value in _FALSE:
            return value in _TRUE
        raise ValidationError({BOM_PARAMETER: _("Use true or false.")})
    return getattr(request, "auth", None) is None


def stream_contacts(
    queryset: QuerySet[Contact],
    *,
    export_format: str,
    can_view_pii: bool,
    columns: list[Column],
    definitions: Sequence[CustomField] = (),
    bom: bool,
) -> StreamingHttpResponse:
    """`bom` (CSV only): the caller's `wants_bom`; the three bytes go out once, before the
    header, so the streaming pace is unchanged."""
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
        content = (data for data, _rows in pieces)
    else:
        rows = contact_rows(queryset, can_view_pii=can_view_pii, definitions=definitions)
        content = (text.encode() for text in _csv(rows, columns))
    if bom and export_format == "csv":
        content = itertools.chain([UTF8_BOM], content)
    content = _buffered(content)
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
