"""XML and CSV parsers for the REST API: the inverse of `customers.api.renderers`.

Every leaf stays a string (or None); serializer fields do the typing, so "00123" stays "00123".
"""

import csv
import io

from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeElementTree
from django.utils.http import parse_header_parameters
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser
from rest_framework.parsers import JSONParser as _DRFJSONParser
from rest_framework_xml.parsers import XMLParser as _LibraryXMLParser

from customers.api.csv_cells import restore, split_list, unflatten
from customers.api.renderers import XSI_NAMESPACE

_XSI_NIL = f"{{{XSI_NAMESPACE}}}nil"
# Far deeper than any record; stops a deeply nested body from exhausting the Python stack.
MAX_XML_DEPTH = 32


class XMLParser(_LibraryXMLParser):
    """Parses what `XMLRenderer` emits: xsi:nil -> None, empty leaf -> "", list-item -> list.

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
        try:
            root = SafeElementTree.parse(stream, parser=parser).getroot()
        except DefusedXmlException as exc:
            raise ParseError(
                "XML with a DOCTYPE, entity declarations or external references is not accepted."
            ) from exc
        except (SafeElementTree.ParseError, LookupError, ValueError) as exc:
            raise ParseError(f"XML parse error - {exc}") from exc
        return _xml_value(root, depth=0)


class TextXMLParser(XMLParser):
    media_type = "text/xml"


def _xml_value(element, *, depth: int):
    if depth > MAX_XML_DEPTH:
        raise ParseError(f"XML is nested more than {MAX_XML_DEPTH} levels deep.")
    if element.get(_XSI_NIL) in ("true", "1"):
        return None
    children = list(element)
    if not children:
        if element.get("type") == "list":
            return []
        if element.get("type") == "object":
            return {}
        return element.text or ""
    if (element.text or "").strip() or any((child.tail or "").strip() for child in children):
        raise ParseError(f"XML element <{_local(element)}> mixes text with child elements.")
    names = [_local(child) for child in children]
    if all(name == "list-item" for name in names):
        return [_xml_value(child, depth=depth + 1) for child in children]
    data = {}
    for child, name in zip(children, names, strict=True):
        key = child.get("key", name) if name == "item" else name
        if name == "list-item" or key in data:
            raise ParseError(
                f"XML element <{_local(element)}> has a repeated or misplaced child <{name}>; "
                "repeat only <list-item> elements, and only on their own."
            )
        data[key] = _xml_value(child, depth=depth + 1)
    return data


def _local(element) -> str:
    """Tag without a namespace, so a client's default xmlns does not leak into field names."""
    return element.tag.rpartition("}")[2]


class CSVParser(BaseParser):
    """Parses what `CSVRenderer` emits: one dict, or a list of dicts for batch actions.

    The view can set `csv_list_fields` (columns split on "|", default {"tags"}) and
    `csv_many_actions` (actions that take many rows, default ("batch",)).
    """

    media_type = "text/csv"

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        list_fields = set(getattr(view, "csv_list_fields", {"tags"}))
        rows = _csv_rows(_csv_text(stream.read()), list_fields)
        if getattr(view, "action", None) in getattr(view, "csv_many_actions", ("batch",)):
            return rows
        if len(rows) != 1:
            raise ParseError(
                f"Expected exactly one data row, got {len(rows)}. "
                "Send exactly one row, or use the batch endpoint."
            )
        return rows[0]


class ApplicationCSVParser(CSVParser):
    media_type = "application/csv"


def _csv_text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"CSV must be UTF-8 text; the byte at offset {exc.start} is not valid UTF-8."
        ) from exc
    if "\x00" in text:
        raise ParseError("CSV must be text; the body contains NUL bytes (binary data?).")
    return text


def _csv_rows(text: str, list_fields: set[str]) -> list[dict]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [restore(name) for name in next(reader, [])]
        _check_header(header)
        rows = []
        for cells in reader:
            if not cells:
                continue  # blank line
            if len(cells) > len(header):
                raise ParseError(
                    f"CSV line {reader.line_num} has {len(cells)} cells but the header has "
                    f"{len(header)} columns."
                )
            cells += [""] * (len(header) - len(cells))
            flat = {
                name: _csv_value(cell, name in list_fields)
                for name, cell in zip(header, cells, strict=True)
            }
            rows.append(unflatten(flat))
    except csv.Error as exc:
        raise ParseError(f"CSV parse error on line {reader.line_num}: {exc}") from exc
    return rows


def _check_header(header: list[str]) -> None:
    if not header:
        raise ParseError("CSV line 1 must be a header row naming the columns.")
    for position, name in enumerate(header, start=1):
        if not name.strip():
            raise ParseError(f"CSV line 1: column {position} has no header.")
        if header.count(name) > 1:
            raise ParseError(f"CSV line 1: column {name!r} appears more than once.")
        if any(other.startswith(f"{name}.") for other in header):
            raise ParseError(f"CSV line 1: column {name!r} clashes with its dotted sub-columns.")


def _csv_value(cell: str, is_list: bool):
    if cell == "":
        return [] if is_list else None
    text = restore(cell)
    return split_list(text) if is_list else text


class JSONParser(_DRFJSONParser):
    """DRF's JSON parser, answering 400 instead of 500 to pathologically deep nesting."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the document is nested too deeply.") from None
