"""JSON, XML and CSV parsers for the REST API: the inverse of `customers.api.renderers`.

Every leaf stays a string (or None); serializer fields do the typing, so "00123" stays "00123".
Every parser is linear in the body and bounded: JSON values and XML nodes (counted before
decoding), nesting depth, CSV columns, lines and cells; the body itself is capped at
`API_MAX_REQUEST_BYTES` before any parser runs. A body over a bound is a 400 naming the bound,
never a slow or deep walk.
"""

import csv
import io
import re

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import JSONParser as _DRFJSONParser
from rest_framework_csv.parsers import CSVParser as LibraryCSVParser
from rest_framework_xml.parsers import XMLParser as _LibraryXMLParser

from integrations.formats import FormatError
from integrations.formats.csv_cells import restore, split_list, unflatten
from integrations.formats.xml_elements import MAX_XML_DEPTH, xml_node_count, xml_value

MAX_JSON_DEPTH = MAX_XML_DEPTH
# A full batch (1,000 records of ~30 fields, plus custom fields) stays well under these; each
# value or element costs ~100 bytes parsed, so a body's memory stays in tens of MB.
MAX_JSON_VALUES = 500_000
MAX_XML_NODES = 250_000
# A contact has ~30 columns and every custom field adds one: 1,000 leaves room for both.
MAX_CSV_COLUMNS = 1000
# One line per record of the largest batch, `batch.MAX_BATCH_RECORDS` (not imported: DRF loads
# this module while its own request module, which batch imports, is still loading).
MAX_CSV_ROWS = 1000
# The csv module's own cap (131,072 characters), above the longest field (long text, 100,000).
MAX_CSV_CELL_CHARS = csv.field_size_limit()
# Field names are at most 64 characters; a dotted path to one stays well under this.
MAX_CSV_HEADER_CHARS = 200


class XMLParser(_LibraryXMLParser):
    """Parses what `XMLRenderer` emits, by `integrations.formats.xml_elements.xml_value`:
    xsi:nil -> None, empty leaf -> "", list-item -> list.

    DTDs are refused outright, which rules out XXE and entity-expansion ("billion laughs").
    """

    media_type = "application/xml"

    def parse(self, stream, media_type=None, parser_context=None):
        # Only an explicit charset overrides the document's own XML declaration.
        charset = parse_header_parameters(media_type or "")[1].get("charset")
        # The forbid_* flags go on the parser: `parse()` ignores its own once given a parser
        # (which is how rest_framework_xml ends up accepting DTDs despite forbid_dtd=True).
        parser = SafeElementTree.DefusedXMLParser(
            encoding=charset or None, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        raw = stream.read()
        if xml_node_count(raw) > MAX_XML_NODES:
            raise ParseError(
                _(
                    "XML bodies are limited to %(limit)d elements and attributes; send more as "
                    "a file to the import endpoint."
                )
                % {"limit": MAX_XML_NODES}
            )
        try:
            root = SafeElementTree.parse(io.BytesIO(raw), parser=parser).getroot()
        except DefusedXmlException as exc:
            raise ParseError(
                _("XML with a DOCTYPE, entity declarations or external references is not accepted.")
            ) from exc
        except (SafeElementTree.ParseError, LookupError, ValueError) as exc:
            raise ParseError(_("XML parse error - %(error)s") % {"error": exc}) from exc
        try:
            return xml_value(root)
        except FormatError as exc:
            raise ParseError(str(exc)) from exc


class TextXMLParser(XMLParser):
    media_type = "text/xml"


class CSVParser(LibraryCSVParser):
    """Parses what `CSVRenderer` emits: one dict, or a list of dicts for batch actions.

    djangorestframework-csv's parser by type and media type; `parse` is ours: the library's
    reads any number of rows into flat dicts and turns every failure into one generic
    message, where a request body must be bounded, strict (a quote left open is an error),
    nested again (`company.id`), split ("|" lists) and answered with a 400 naming the problem.

    The view can set `csv_list_fields` (columns split on "|", default {"tags"}) and
    `csv_many_actions` (actions that take many rows, default ("batch",)) and `csv_max_rows`
    (data lines accepted, default `MAX_CSV_ROWS`; None reads any number, for trusted text).
    """

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        list_fields = set(getattr(view, "csv_list_fields", {"tags"}))
        max_rows = getattr(view, "csv_max_rows", MAX_CSV_ROWS)
        rows = _csv_rows(_csv_text(stream.read()), list_fields, max_rows=max_rows)
        if getattr(view, "action", None) in getattr(view, "csv_many_actions", ("batch",)):
            return rows
        if len(rows) != 1:
            raise ParseError(
                _(
                    "Expected exactly one data row, got %(count)d. "
                    "Send exactly one row, or use the batch endpoint."
                )
                % {"count": len(rows)}
            )
        return rows[0]


class ApplicationCSVParser(CSVParser):
    media_type = "application/csv"


def _csv_text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            _("CSV must be UTF-8 text; the byte at offset %(offset)d is not valid UTF-8.")
            % {"offset": exc.start}
        ) from exc
    if "\x00" in text:
        raise ParseError(_("CSV must be text; the body contains NUL bytes (binary data?)."))
    return text


def _csv_rows(text: str, list_fields: set[str], *, max_rows: int | None) -> list[dict]:
    """Strict CSV: a quote left open, or text after a closing quote, is an error rather than
    a cell that silently swallows the rest of the body."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = [restore(name) for name in next(reader, [])]
        _check_header(header)
        rows = []
        for cells in reader:
            if not cells:
                continue  # blank line
            if len(cells) > len(header):
                raise ParseError(
                    _(
                        "CSV line %(line)d has %(cells)d cells but the header has "
                        "%(columns)d columns."
                    )
                    % {"line": reader.line_num, "cells": len(cells), "columns": len(header)}
                )
            if len(rows) == max_rows:  # keyed like the batch door's own count check
                raise ValidationError(
                    {
                        "records": [
                            _(
                                "At most %(limit)d records per batch; this CSV has more data "
                                "lines. Send more as a file to the import endpoint."
                            )
                            % {"limit": max_rows}
                        ]
                    }
                )
            cells += [""] * (len(header) - len(cells))
            flat = {
                name: _csv_value(cell, name in list_fields)
                for name, cell in zip(header, cells, strict=True)
            }
            rows.append(unflatten(flat))
    except csv.Error as exc:
        raise ParseError(_csv_error(exc, reader.line_num)) from exc
    return rows


def _csv_error(exc: csv.Error, line: int) -> str:
    if "field larger than field limit" in str(exc):
        return _("CSV line %(line)d has a cell longer than %(limit)d characters.") % {
            "line": line,
            "limit": MAX_CSV_CELL_CHARS,
        }
    if "unexpected end of data" in str(exc):
        return _("CSV line %(line)d: a quoted cell is never closed (a missing closing quote?).") % {
            "line": line
        }
    return _("CSV parse error on line %(line)d: %(error)s") % {"line": line, "error": exc}


def _check_header(header: list[str]) -> None:
    """Linear in the header's length: one set of names, each name's prefixes looked up in it
    (a name is short, so its prefixes are few and short)."""
    if not header:
        raise ParseError(_("CSV line 1 must be a header row naming the columns."))
    if len(header) > MAX_CSV_COLUMNS:
        raise ParseError(
            _("CSV line 1 has %(count)d columns; at most %(limit)d are accepted.")
            % {"count": len(header), "limit": MAX_CSV_COLUMNS}
        )
    seen: set[str] = set()
    for position, name in enumerate(header, start=1):
        if not name.strip():
            raise ParseError(
                _("CSV line 1: column %(position)d has no header.") % {"position": position}
            )
        if len(name) > MAX_CSV_HEADER_CHARS:
            raise ParseError(
                _("CSV line 1: the name of column %(position)d is over %(limit)d characters.")
                % {"position": position, "limit": MAX_CSV_HEADER_CHARS}
            )
        if name in seen:
            raise ParseError(
                _("CSV line 1: column %(name)s appears more than once.") % {"name": repr(name)}
            )
        seen.add(name)
    for name in header:  # "company" beside "company.id": a value cannot also be an object
        dot = name.find(".")
        while dot != -1:
            if name[:dot] in seen:
                raise ParseError(
                    _("CSV line 1: column %(name)s clashes with its dotted sub-columns.")
                    % {"name": repr(name[:dot])}
                )
            dot = name.find(".", dot + 1)


def _csv_value(cell: str, is_list: bool):
    if cell == "":
        return [] if is_list else None
    text = restore(cell)
    return split_list(text) if is_list else text


class JSONParser(_DRFJSONParser):
    """DRF's JSON parser, refusing with a 400 a body of more than `MAX_JSON_VALUES` values
    (counted before decoding: 8 MB of ``{},`` decodes to 3 million dicts, ~450 MB) or nested
    deeper than `MAX_JSON_DEPTH` (the decoder itself gives up only near Python's recursion
    limit, around 1,000 levels)."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read()
        if _json_has_more_values(raw, MAX_JSON_VALUES):
            raise ParseError(
                _(
                    "JSON bodies are limited to %(limit)d values; send more as a file to the "
                    "import endpoint."
                )
                % {"limit": MAX_JSON_VALUES}
            )
        try:
            data = super().parse(io.BytesIO(raw), media_type, parser_context)
        except RecursionError:
            data = None
        else:
            if _json_within_depth(data, MAX_JSON_DEPTH):
                return data
        raise ParseError(
            _("JSON is nested more than %(limit)d levels deep.") % {"limit": MAX_JSON_DEPTH}
        )


# A JSON string, escapes included; unrolled so the regex engine runs at C speed within it.
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')


def _json_has_more_values(raw: bytes, limit: int) -> bool:
    """Whether the body holds more than `limit` values (array items and object members), in
    linear time and constant memory. Commas and brackets are counted outside strings only,
    which needs the walk from string to string just when the plain count is over the limit."""
    if _structure(raw, 0, len(raw)) < limit:
        return False
    count, start = 1, 0
    for match in _JSON_STRING.finditer(raw):
        count += _structure(raw, start, match.start())
        if count > limit:
            return True
        start = match.end()
    return count + _structure(raw, start, len(raw)) > limit


def _structure(raw: bytes, start: int, end: int) -> int:
    return raw.count(b",", start, end) + raw.count(b"[", start, end) + raw.count(b"{", start, end)


def _json_within_depth(data, limit: int) -> bool:
    """Level by level, so the check itself cannot exhaust the stack; holds only containers."""
    level, depth = [data], 1
    while level:
        containers = [value for value in level if isinstance(value, dict | list)]
        if containers and depth > limit:
            return False
        level = [
            child
            for container in containers
            for child in (container.values() if isinstance(container, dict) else container)
            if isinstance(child, dict | list)
        ]
        depth += 1
    return True
