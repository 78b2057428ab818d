"""XML and CSV renderers for the REST API, built so that what they emit parses back unchanged.

The matching parsers are in `customers.api.parsers`; the CSV cell rules in `csv_cells`.
"""

import re
from collections.abc import Mapping
from xml.sax.saxutils import escape, quoteattr

from rest_framework.renderers import BaseRenderer
from rest_framework_xml.renderers import XMLRenderer as _LibraryXMLRenderer

from customers.api.csv_cells import csv_header_line, csv_row_line, flatten, plain, scalar_text

XSI_NAMESPACE = "http://www.w3.org/2001/XMLSchema-instance"
# Element names we emit as-is; anything else (e.g. the integer keys DRF uses for errors of
# list items) is written as <item key="…">, which the parser maps back.
_XML_NAME = re.compile(r"^[^\W\d][\w.-]*$")
# Not allowed anywhere in an XML 1.0 document, not even as character references.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Attribute values are whitespace-normalised by parsers unless written as references.
_ATTRIBUTE_WHITESPACE = {"\r": "&#13;", "\n": "&#10;", "\t": "&#9;"}


def _xml_text(text: str) -> str:
    """Escape text content; characters XML 1.0 cannot carry become U+FFFD.

    Replacing (rather than refusing with a 500) keeps a record with a stray control character
    readable in XML; JSON still carries the exact value. "\\r" is written as a character
    reference because XML parsers turn a literal CR (or CRLF) into "\\n".
    """
    return escape(_XML_ILLEGAL.sub("\ufffd", text), {"\r": "&#13;"})


class XMLRenderer(_LibraryXMLRenderer):
    """`<root>` document with `xsi:nil` for None, `list-item` children for lists.

    An empty list is `<tags type="list"/>` (and an empty object `type="object"`) so that it does
    not come back as the empty string, which a list field would reject.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return ""
        parts = [f'<?xml version="1.0" encoding="{self.charset}"?>\n']
        self._element(parts, self.root_tag_name, data, {"xmlns:xsi": XSI_NAMESPACE})
        return "".join(parts)

    def element(self, name: str, value) -> str:
        """One element as text: streaming exports write a document a record at a time."""
        parts: list[str] = []
        self._element(parts, name, value, {})
        return "".join(parts)

    def document_start(self, *, as_list: bool = False) -> str:
        """What `render` writes before the root's content, for streaming. `as_list` marks the
        root as a list, so an export with no rows reads back as [] rather than ""."""
        marker = ' type="list"' if as_list else ""
        return (
            f'<?xml version="1.0" encoding="{self.charset}"?>\n'
            f'<{self.root_tag_name} xmlns:xsi="{XSI_NAMESPACE}"{marker}>'
        )

    def document_end(self) -> str:
        return f"</{self.root_tag_name}>"

    def _element(self, parts: list[str], name, value, attrs: dict) -> None:
        value = plain(value)
        name = str(name)
        if not _XML_NAME.match(name):
            attrs = {**attrs, "key": _XML_ILLEGAL.sub("\ufffd", name)}
            name = "item"
        if value is None:
            attrs = {**attrs, "xsi:nil": "true"}
        elif isinstance(value, list | tuple) and not value:
            attrs = {**attrs, "type": "list"}
        elif isinstance(value, dict) and not value:
            attrs = {**attrs, "type": "object"}
        attributes = "".join(
            f" {key}={quoteattr(text, _ATTRIBUTE_WHITESPACE)}" for key, text in attrs.items()
        )
        if value is None or value in ([], (), {}, ""):
            parts.append(f"<{name}{attributes}/>")
            return
        parts.append(f"<{name}{attributes}>")
        if isinstance(value, dict):
            for key, child in value.items():
                self._element(parts, key, child, {})
        elif isinstance(value, list | tuple):
            for item in value:
                self._element(parts, self.item_tag_name, item, {})
        else:
            parts.append(_xml_text(scalar_text(value)))
        parts.append(f"</{name}>")


class CSVRenderer(BaseRenderer):
    """One row per record; columns from the view's `csv_columns()`, else from the data.

    Nested objects flatten to dotted columns, lists join with "|", None is an empty cell and
    formula-like cells get a leading "'" (see `csv_cells`). Error responses render as
    `field,message` rows instead of an empty record.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return ""
        renderer_context = renderer_context or {}
        if _is_error(data, renderer_context.get("response")):
            columns, rows = ["field", "message"], _error_rows(data)
        else:
            rows = _records(data)
            csv_columns = getattr(renderer_context.get("view"), "csv_columns", None)
            columns = list(csv_columns()) if callable(csv_columns) else _discovered_columns(rows)
        if not columns:
            return ""  # an empty list and no view columns: nothing to name
        return csv_header_line(columns) + "".join(csv_row_line(row, columns) for row in rows)


def _is_error(data, response) -> bool:
    if response is not None:
        return response.status_code >= 400
    return (
        isinstance(data, Mapping)
        and "results" not in data
        and bool({"errors", "detail"} & set(data))
    )


def _records(data) -> list[Mapping]:
    if isinstance(data, Mapping) and isinstance(data.get("results"), list):
        data = data["results"]
    elif isinstance(data, Mapping) or not isinstance(data, list | tuple):
        data = [data]
    return [row if isinstance(row, Mapping) else {"value": row} for row in data]


def _discovered_columns(rows: list[Mapping]) -> list[str]:
    """Every flattened key in first-seen order (never sorted).

    Not just the first row's keys: a first contact without a company would otherwise hide
    `company.id`/`company.name` for every row. A bare key that is an object elsewhere
    (`company` = None here, `company.id` there) is dropped in favour of the dotted columns.
    """
    seen = dict.fromkeys(key for row in rows for key in flatten(row))
    return [key for key in seen if not any(other.startswith(f"{key}.") for other in seen)]


def _error_rows(errors, path: str = "") -> list[dict]:
    """{"email": ["Bad."], "items": [{}, {"id": ["Bad."]}]} -> (email, Bad.), (items.1.id, Bad.)"""
    if isinstance(errors, Mapping):
        return [
            row
            for key, value in errors.items()
            for row in _error_rows(value, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(errors, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in errors):
            return [{"field": path, "message": item} for item in errors]
        return [
            row
            for index, item in enumerate(errors)
            for row in _error_rows(item, f"{path}.{index}" if path else str(index))
        ]
    return [{"field": path, "message": errors}]
