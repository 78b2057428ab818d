"""Contact exports as text, a chunk of rows at a time: decrypt in bulk, then CSV, JSON or XML.

An encoder takes the raw rows of ``export_rows.contact_raw_chunks`` (PII still encrypted) and
returns the text of the whole chunk, byte for byte what the generic writers produce from
``export_rows.contact_rows`` dicts (the API's CSV cell rules, its XML element rules, one JSON
record per line). The row layout and the code of every cell and element are generated from the
contact's representation (``customers.representation``) at import time. An encoder holds only
plain data (keys, flags, column indexes) and functions compiled for its columns and custom
fields when it is built (one inline expression per cell or element: a call per value cost as
much as the value's rule), so a chunk can be encoded in a forked process
(``customers.representation.export_stream``).
"""

import csv
import io
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers import pii, stored_json
from customers.crypto import decrypt_many
from customers.models import CustomField, format_full_name
from customers.representation import CONTACT, Entity, Field, Kind, Read
from customers.representation.records import decimal_text
from integrations.formats.csv_cells import (
    FORMULA_PREFIXES,
    Column,
    cell_text,
    column_path_and_header,
    csv_header_line,
    plain,
)
from integrations.formats.xml_elements import XML_NAME as _XML_NAME
from integrations.formats.xml_elements import XMLDocument as XMLRenderer
from integrations.formats.xml_elements import xml_text as _xml_text

FORMATS = ("csv", "json", "xml")
#: What a raw contact row holds (``export_rows.contact_raw_chunks``), all from the contact's
#: representation: its plain columns, then those read as text (datetimes, PII tokens) under
#: ``_<name>``, and the tag names appended last.
RAW_AS_TEXT = tuple(
    spec.name for spec in CONTACT if spec.kind is Kind.DATETIME and spec.read is Read.ATTRIBUTE
) + tuple(spec.name for spec in CONTACT.pii_fields)
RAW_COLUMNS = (
    *(column for column in CONTACT.row_columns if column not in RAW_AS_TEXT),
    *(f"_{name}" for name in RAW_AS_TEXT),
)


@dataclass(frozen=True)
class _Slot:
    """One value of an encoder's record tuple: a field, or one part (``id``, label) of a
    reference field."""

    path: str  # the CSV column path: "title", "company.id", "company.name"
    spec: Field
    part: str = ""  # "", "id" or "label"


def _record_layout(entity: Entity) -> tuple[_Slot, ...]:
    """The record tuple's slots in field order, references as two slots; custom fields are
    not slots (their values come last, as exports have always placed them)."""
    slots: list[_Slot] = []
    for spec in entity:
        column = spec.csv or spec.name
        if spec.kind is Kind.CUSTOM:
            continue
        if spec.kind is Kind.REFERENCE:
            slots.append(_Slot(f"{column}.id", spec, "id"))
            slots.append(_Slot(f"{column}.{spec.reference.label}", spec, "label"))
        else:
            slots.append(_Slot(column, spec))
    return tuple(slots)


_LAYOUT = _record_layout(CONTACT)
#: The CSV columns an encoder can fill without the generic path, in record order.
CONTACT_COLUMNS = tuple(slot.path for slot in _LAYOUT)
_CUSTOM = len(_LAYOUT)  # the custom values' index in a record
_TEXT_KINDS = frozenset({Kind.TEXT, Kind.CHOICE, Kind.EMAIL, Kind.PHONE, Kind.DECIMAL})
_RAW = {column: index for index, column in enumerate(RAW_COLUMNS)}
_RAW_TAGS = len(RAW_COLUMNS)
_RAW_CUSTOM = _RAW.get("custom_fields")
_PII_NAMES = tuple(spec.name for spec in CONTACT.pii_fields)
# The PII tokens are the last text columns, side by side: one slice per row collects them.
_PII_SLICE = slice(_RAW_TAGS - len(_PII_NAMES), _RAW_TAGS)
if RAW_COLUMNS[_PII_SLICE] != tuple(f"_{name}" for name in _PII_NAMES):
    raise ImportError(f"The PII tokens must close a raw contact row: {RAW_COLUMNS}")


def _records_function():
    """A function: (raw rows, their PII plaintexts in row order, their custom values, mask)
    -> records, compiled from the layout: one inline expression per slot (a call per value
    cost as much as the value's rule)."""

    def raw(column: str) -> str:
        return f"row[{_RAW[column]}]"

    def label(spec: Field) -> str:
        columns = spec.reference.label_columns
        if spec.reference.label_is_full_name:
            return f"full_name({raw(columns[0])}, {raw(columns[1])})"
        return raw(columns[0])

    def expression(slot: _Slot) -> str:
        spec = slot.spec
        if slot.part == "id":
            return raw(spec.reference.id_column)
        if slot.part == "label":
            return f"({label(spec)} if {raw(spec.reference.id_column)} else None)"
        if spec.pii:
            return f"p_{spec.name}"
        if spec.read is Read.FULL_NAME:
            return f"full_name({raw(spec.columns[0])}, {raw(spec.columns[1])})"
        if spec.kind is Kind.TAGS:
            return f"row[{_RAW_TAGS}]"
        if spec.kind is Kind.BOOL:
            return f"bool({raw(spec.name)})"  # SQLite gives 0/1
        if spec.kind is Kind.DATETIME:
            return f"iso({raw('_' + spec.name)})"
        if spec.kind is Kind.DATE:
            return f"date_iso({raw(spec.name)})"
        if spec.kind is Kind.DECIMAL:
            places = CONTACT.model_field(spec.name).decimal_places
            return f"decimal_raw({raw(spec.name)}, {int(places)})"
        return raw(spec.columns[0])

    width = len(_PII_NAMES)
    lines = ["def build(raw_rows, plaintexts, customs, mask):", "    records = []"]
    lines.append("    for number, row in enumerate(raw_rows):")
    if width:
        names = "".join(f"p_{name}, " for name in _PII_NAMES)
        chunk = f"plaintexts[{width} * number : {width} * number + {width}]"
        lines.append(f"        ({names}) = {chunk}")
        lines.append("        if mask:")
        lines += [f"            p_{s.name} = mask_{s.pii}(p_{s.name})" for s in CONTACT.pii_fields]
    values = "".join(f"{expression(slot)}, " for slot in _LAYOUT)
    lines.append(f"        records.append(({values}customs[number]))")
    lines.append("    return records")
    namespace = {
        "full_name": format_full_name,
        "iso": _iso,
        "date_iso": _date_iso,
        "decimal_raw": _decimal_raw,
        **{f"mask_{kind}": masker for kind, masker in pii.MASKERS.items()},
    }
    exec(compile("\n".join(lines) + "\n", "<export records>", "exec"), namespace)  # repr()s
    return namespace["build"]


_FORMULA_START = frozenset(FORMULA_PREFIXES)
# Anything _xml_text would change: markup, CR, and characters XML 1.0 cannot carry.
_XML_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_NIL = ' xsi:nil="true"/>'


@dataclass(frozen=True)
class CustomSpec:
    """What an encoder needs of a custom field definition (picklable, no ORM)."""

    name: str
    pii: bool
    type: str


@dataclass
class ContactEncoder:
    """Encodes chunks of raw contact rows in one format. Build it with ``contact_encoder``."""

    format: str
    can_view_pii: bool
    keys: tuple[str, ...]
    custom: tuple[CustomSpec, ...] = ()
    columns: tuple[Column, ...] = ()
    xml_as_list: bool = True
    _cells: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"Unknown format {self.format!r}: use one of {', '.join(FORMATS)}.")
        if self.format == "csv":
            self._cells = _cell_picker(self.columns, self.custom)
        self._json = json.JSONEncoder(ensure_ascii=False, default=plain)
        if self.format == "json":
            names = [spec.name for spec in self.custom]
            self._json_record = _json_record_function(self._json.encode, names)
        if self.format == "xml":
            self._xml_custom = _xml_custom_function([spec.name for spec in self.custom])

    # The document around the chunks.
    def start(self) -> str:
        if self.format == "csv":
            return csv_header_line(self.columns)
        if self.format == "json":
            return "["
        return XMLRenderer().document_start(as_list=self.xml_as_list)

    def end(self) -> str:
        if self.format == "csv":
            return ""
        if self.format == "json":
            return "\n]\n"
        return XMLRenderer().document_end()

    def encode(self, raw_rows: Sequence[tuple], *, first: bool) -> str:
        """The text of a chunk; `first`: no record has been written before it (JSON commas)."""
        records = self._records(raw_rows, custom_dicts=False)
        if self.format == "csv":
            return self._csv(records)
        if self.format == "json":
            return self._json_text(records, first)
        return self._xml(records)

    # Rows as plain values, PII decrypted (or masked) in bulk.
    def records(self, raw_rows: Sequence[tuple]) -> list[tuple]:
        """Rows as tuples in ``CONTACT_COLUMNS`` order, the custom fields' dict last."""
        return self._records(raw_rows, custom_dicts=True)

    def _records(self, raw_rows: Sequence[tuple], *, custom_dicts: bool) -> list[tuple]:
        """`records`; without `custom_dicts`, the custom fields' values are a list in
        ``self.custom`` order (what the compiled encoders read: no dict to build per row)."""
        tokens: list[str | None] = []
        for row in raw_rows:
            tokens += row[_PII_SLICE]
        plaintexts = decrypt_many(tokens, self.keys, what="a contact's email, phone or address")
        customs = self._custom_values(raw_rows, as_dicts=custom_dicts)
        return _build_records(raw_rows, plaintexts, customs, not self.can_view_pii)

    def _custom_values(self, raw_rows: Sequence[tuple], *, as_dicts: bool) -> list:
        """Every active field's value per row (None when unset), as ``plain_values`` gives.

        The stored JSON is decoded once per row and only the active fields are read from it
        (``map`` in C); the PII ones are decrypted for the whole chunk in one call."""
        if not self.custom:
            return [{} if as_dicts else () for _ in raw_rows]
        names = tuple(spec.name for spec in self.custom)
        secret = [(index, spec) for index, spec in enumerate(self.custom) if spec.pii]
        loads = stored_json.loads
        rows_values = []
        tokens, slots = [], []
        for row in raw_rows:
            stored = row[_RAW_CUSTOM]
            if not stored:
                stored = {}
            elif type(stored) is str:  # raw JSON text (SQLite, and psycopg as Django sets it up)
                stored = loads(stored)
            values = list(map(stored.get, names))
            for index, spec in secret:
                token = values[index]
                if token is not None:
                    tokens.append(token)
                    slots.append((values, index, spec))
            rows_values.append(values)
        if tokens:
            plaintexts = decrypt_many(tokens, self.keys, what="a custom field")
            if self.can_view_pii:
                for (values, index, _spec), plaintext in zip(slots, plaintexts, strict=True):
                    values[index] = plaintext
            else:
                for (values, index, spec), plaintext in zip(slots, plaintexts, strict=True):
                    values[index] = _mask(spec.type, plaintext)
        if not as_dicts:
            return rows_values
        return [dict(zip(names, values, strict=True)) for values in rows_values]

    # Formats.
    def _json_text(self, records: list[tuple], first: bool) -> str:
        parts = list(map(self._json_record, records))
        if not parts:
            return ""
        return ("\n" if first else ",\n") + ",\n".join(parts)

    def _csv(self, records: list[tuple]) -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(map(self._cells, records))
        return buffer.getvalue()

    def _xml(self, records: list[tuple]) -> str:
        custom = self._xml_custom
        return "".join([f"{_xml_row(r)}{custom(r)}</list-item>" for r in records])


def contact_encoder(
    *,
    format: str,
    can_view_pii: bool,
    keys: Iterable[str],
    definitions: Iterable[CustomField] = (),
    columns: Iterable[Column] = (),
    xml_as_list: bool = True,
) -> ContactEncoder:
    """An encoder for `format`; `columns` (CSV) are the REST list's, as ``csv_columns()``."""
    custom = tuple(
        CustomSpec(d.name, bool(d.pii), d.type) for d in definitions if not d.is_archived
    )
    return ContactEncoder(
        format=format,
        can_view_pii=can_view_pii,
        keys=tuple(keys),
        custom=custom,
        columns=tuple(columns),
        xml_as_list=xml_as_list,
    )


def record_dict(r: tuple) -> dict[str, Any]:
    """A record of ``ContactEncoder.records`` as ``ContactOutputSerializer`` renders it
    (custom fields last)."""
    return _record_dict(r)


def _record_dict_function():
    """record -> dict, compiled from the layout: one inline item per field."""
    items, slot = [], 0
    for spec in CONTACT:
        if spec.kind is Kind.CUSTOM:
            continue
        if spec.kind is Kind.REFERENCE:
            label = spec.reference.label
            pair = f"{{'id': r[{slot}], {label!r}: r[{slot + 1}]}}"
            items.append(f"{spec.name!r}: {pair} if r[{slot}] else None")
            slot += 2
        else:
            items.append(f"{spec.name!r}: r[{slot}]")
            slot += 1
    if CONTACT.has_custom_fields:
        items.append(f"'custom_fields': r[{_CUSTOM}]")
    source = "def record(r):\n    return {" + ", ".join(items) + "}\n"
    namespace: dict[str, Any] = {}
    exec(compile(source, "<export record dict>", "exec"), namespace)  # names only as repr()
    return namespace["record"]


def _json_record_function(encode, custom_names: Sequence[str] = ()):
    """A function: record -> ``encode(record_dict(record))``, compiled: one inline expression
    per key (strings through the C escaper ``encode_basestring``, as ``encode`` does), the
    encoder itself only for what is not text, a number, a boolean or None. The custom fields'
    object has every active name, in `custom_names` order (``ContactEncoder.records``)."""

    def text(index: int) -> str:
        return (
            f'(escape(v) if type(v := r[{index}]) is str else "null" if v is None else encode(v))'
        )

    def custom_value(index: int) -> str:
        return (
            f'(escape(v) if type(v := c[{index}]) is str else "null" if v is None else encode(v))'
        )

    if custom_names:
        custom = " + ".join(
            f"{(('{' if number == 0 else ', ') + encode(name) + ': ')!r} + {custom_value(number)}"
            for number, name in enumerate(custom_names)
        )
        custom = f"({custom} + '}}')"
    else:
        custom = '"{}"'

    def number(index: int) -> str:
        return f"(str(v) if type(v := r[{index}]) is int else encode(v))"

    def pair(index: int, name: str) -> str:
        inner = f"'{{\"id\": ' + {number(index)} + ', \"{name}\": ' + {text(index + 1)} + '}}'"
        return f'("null" if not r[{index}] else {inner})'

    fields = []
    for index, slot in enumerate(_LAYOUT):
        spec = slot.spec
        if slot.part == "id":
            fields.append((spec.name, pair(index, spec.reference.label)))
        elif slot.part == "label":
            continue
        elif spec.kind is Kind.TAGS:
            fields.append((spec.name, f'("[" + ", ".join(map(escape, r[{index}])) + "]")'))
        elif spec.kind is Kind.BOOL:
            fields.append((spec.name, f'("true" if r[{index}] else "false")'))
        elif spec.kind is Kind.INT:
            fields.append((spec.name, number(index)))
        else:
            fields.append((spec.name, text(index)))
    if CONTACT.has_custom_fields:
        fields.append(("custom_fields", custom))
    pieces = []
    for number_, (key, expression) in enumerate(fields):
        pieces += [repr(("{" if number_ == 0 else ", ") + f'"{key}": '), expression]
    source = (
        f"def record(r):\n    c = r[{_CUSTOM}]\n    return ''.join(({', '.join(pieces)}, '}}'))\n"
    )
    namespace = {"escape": encode_basestring, "encode": encode}
    exec(compile(source, "<export json record>", "exec"), namespace)  # names only as repr()
    return namespace["record"]


def supports_columns(columns: Iterable[Column], definitions: Iterable[CustomField]) -> bool:
    """Whether every CSV column is one an encoder fills (else the caller writes dicts)."""
    known = set(CONTACT_COLUMNS) | {f"custom_fields.{d.name}" for d in definitions}
    return all(column_path_and_header(column)[0] in known for column in columns)


def _iso(value) -> str | None:
    """The same text DRF renders for a datetime ('Z' for UTC), from a datetime or from the
    database's text of a UTC timestamp: SQLite's '2026-11-25 20:28:54.676315' (as Django
    writes it), PostgreSQL's '2026-11-25 20:28:54.676315+00' (Django's sessions are UTC)."""
    if value is None:
        return None
    if type(value) is str:
        body = value[:-3] if value.endswith("+00") else value
        if body[10:11] == " ":
            if len(body) == 19:
                return body[:10] + "T" + body[11:] + "Z"
            if 20 < len(body) <= 26 and body[19] == ".":  # PostgreSQL drops trailing zeros
                return body[:10] + "T" + body[11:].ljust(15, "0") + "Z"
        value = _parse_stored_datetime(value)
    elif value.tzinfo is None:  # SQLite's converter gives naive UTC datetimes
        value = value.replace(tzinfo=UTC)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _parse_stored_datetime(text: str) -> datetime:
    """Any other text form, read as Django's SQLite backend reads it."""
    value = parse_datetime(text)
    if value is None:
        raise ValueError(f"Not a datetime: {text!r}")
    return value if timezone.is_aware(value) else value.replace(tzinfo=UTC)


def _date_iso(value) -> str | None:
    """A date as the database driver gives it (text on SQLite, a date on PostgreSQL)."""
    if value is None or type(value) is str:
        return value
    return value.isoformat()


def _decimal_raw(value, places: int) -> str | None:
    """A decimal as the driver gives it (a float or text on SQLite) as DRF renders it."""
    if value is None:
        return None
    return decimal_text(value if type(value) is Decimal else Decimal(str(value)), places)


def _mask(kind: str, value: str) -> str:
    if kind == CustomField.Type.EMAIL:
        return pii.mask_email(value)
    if kind == CustomField.Type.PHONE:
        return pii.mask_phone(value)
    return pii.mask_address(value)


# CSV: each record becomes a tuple of cells, in the requested columns' order.


def _any_cell(value: Any) -> str:
    """``CsvLineWriter``'s rules for a value of any type."""
    kind = type(value)
    if kind is str:
        return "'" + value if value[:1] in _FORMULA_START else value
    if value is None:
        return ""
    if kind is bool:
        return "true" if value else "false"
    if kind is int:
        return ("'" if value < 0 else "") + str(value)
    return cell_text(value)


def _tags_cell(tags: list[str]) -> str:
    """``cell_text`` of a list of names: "|"-joined, "|" and "\\" escaped, then neutralised."""
    text = "|".join(tags)
    if "\\" in text or text.count("|") != len(tags) - 1:
        text = "|".join(tag.replace("\\", "\\\\").replace("|", "\\|") for tag in tags)
    return "'" + text if text[:1] in _FORMULA_START else text


def _cell_picker(columns: tuple[Column, ...], custom: tuple[CustomSpec, ...]):
    """A function: record -> the cells of `columns`, compiled for them: one expression per
    column, inline (no call per cell: a call cost as much as the cell's rule)."""
    custom_index = {f"custom_fields.{spec.name}": index for index, spec in enumerate(custom)}
    cells = []
    for column in columns:
        path = column_path_and_header(column)[0]
        if path in custom_index:
            cells.append(_CUSTOM_CELL.format(index=custom_index[path]))
        else:
            cells.append(_CELLS[CONTACT_COLUMNS.index(path)])
    source = (
        f"def cells(r):\n    c = r[{_CUSTOM}]\n    return ("
        + "".join(f"{cell}, " for cell in cells)
        + ")\n"
    )
    namespace = {"F": _FORMULA_START, "tags_cell": _tags_cell, "any_cell": _any_cell}
    exec(compile(source, "<export csv cells>", "exec"), namespace)  # names only as repr()
    return namespace["cells"]


def _text(index: int) -> str:
    """Text: "" for None or empty, neutralised when it starts like a formula."""
    return f'("\'" + v if v[0] in F else v) if (v := r[{index}]) else ""'


def _number(index: int) -> str:
    return f'"" if (v := r[{index}]) is None else v'


def _cell(index: int, slot: _Slot) -> str:
    """The expression of a slot's cell from a record `r` (``CsvLineWriter``'s rules)."""
    spec = slot.spec
    if slot.part == "id":
        return _number(index)
    if slot.part == "label":
        return _text(index)
    if spec.name == "id":
        return f"r[{index}]"  # the primary key: a positive whole number
    if spec.kind is Kind.INT:
        return f"any_cell(r[{index}])"
    if spec.kind is Kind.TAGS:
        return f'tags_cell(v) if (v := r[{index}]) else ""'
    if spec.kind is Kind.BOOL:
        return f'"true" if r[{index}] else "false"'
    if spec.kind in (Kind.DATETIME, Kind.DATE):
        return f'r[{index}] or ""'  # ISO text: never starts like a formula
    return _text(index)


#: Per ``CONTACT_COLUMNS`` entry, the expression of its cell from a record `r`.
_CELLS = tuple(_cell(index, slot) for index, slot in enumerate(_LAYOUT))
#: ``_any_cell(custom value)``, text (the usual type) inline.
_CUSTOM_CELL = (
    '(("\'" + v if v[:1] in F else v) if type(v := c[{index}]) is str '
    'else "" if v is None else any_cell(v))'
)


# XML: the elements ``XMLRenderer.element`` writes for a contact, up to its custom fields.


_XML_TEXT_SLOTS = itemgetter(
    *(
        index
        for index, slot in enumerate(_LAYOUT)
        if slot.part == "label"
        or (not slot.part and slot.spec.kind in _TEXT_KINDS and slot.spec.read is Read.ATTRIBUTE)
    )
)
_XML_TAGS = next(index for index, slot in enumerate(_LAYOUT) if slot.spec.kind is Kind.TAGS)


def _xml_row(r: tuple) -> str:
    """The elements of a record up to its custom fields; escaped only when a value needs it."""
    if _XML_SPECIAL.search("".join([v for v in _XML_TEXT_SLOTS(r) if v]) + "".join(r[_XML_TAGS])):
        return _xml_row_escaped(r)
    return _xml_row_plain(r)


def _xml_row_function(escaped: bool):
    """A function: record -> its elements, compiled: one inline expression per element, as
    ``XMLRenderer.element`` writes them (None as nil, "" as empty), `escaped` through
    ``_xml_text``."""

    def value(expression: str) -> str:
        return f"esc({expression})" if escaped else expression

    def text(name: str, index: int) -> str:
        return (
            f"('<{name}' + NIL if (v := r[{index}]) is None else '<{name}/>' if v == '' "
            f"else f'<{name}>{{{value('v')}}}</{name}>')"
        )

    def pair(name: str, index: int, leaf: str) -> str:
        return (
            f"('<{name}><id>' + str(r[{index}]) + '</id>' + {text(leaf, index + 1)} "
            f"+ '</{name}>' if r[{index}] else '<{name}' + NIL)"
        )

    tag = f"f'<list-item>{{{value('t')}}}</list-item>' if t else '<list-item/>'"

    def element(index: int, slot: _Slot) -> str | None:
        spec, name = slot.spec, slot.spec.xml
        if slot.part == "id":
            return pair(name, index, spec.reference.label)
        if slot.part == "label":
            return None  # inside the pair
        if index == 0 and spec.name == "id":
            return f"f'<list-item><{name}>{{r[0]}}</{name}>'"
        if spec.kind is Kind.INT:
            return f"('<{name}' + NIL if (v := r[{index}]) is None else f'<{name}>{{v}}</{name}>')"
        if spec.kind is Kind.TAGS:
            return (
                f"('<{name}>' + ''.join([{tag} for t in v]) + '</{name}>' "
                f"if (v := r[{index}]) else '<{name} type=\"list\"/>')"
            )
        if spec.kind is Kind.BOOL:
            return f"('<{name}>true</{name}>' if r[{index}] else '<{name}>false</{name}>')"
        return text(name, index)

    elements = [e for index, slot in enumerate(_LAYOUT) if (e := element(index, slot))]
    if not elements[0].startswith("f'<list-item>"):
        elements.insert(0, "'<list-item>'")
    source = "def row(r):\n    return ''.join((" + ", ".join(elements) + "))\n"
    namespace = {"esc": _xml_text, "NIL": _NIL}
    exec(compile(source, "<export xml row>", "exec"), namespace)
    return namespace["row"]


_xml_row_plain = _xml_row_function(escaped=False)
_xml_row_escaped = _xml_row_function(escaped=True)


def _xml_custom_function(names: Sequence[str]):
    """A function: record -> its ``<custom_fields>`` element, as ``XMLRenderer.element``
    writes it, compiled for the active `names`: text and None inline under a name that is an
    XML name, anything else through the renderer."""
    if not names:
        return lambda r: '<custom_fields type="object"/>'
    parts = []
    for index, name in enumerate(names):
        if _is_xml_name(name):
            start, end, empty, nil = f"<{name}>", f"</{name}>", f"<{name}/>", f"<{name}{_NIL}"
            parts.append(
                f"(({nil!r} if v is None else element({name!r}, v)) "
                f"if type(v := c[{index}]) is not str "
                f"else {empty!r} if not v "
                f"else {start!r} + (esc(v) if special(v) else v) + {end!r})"
            )
        else:
            parts.append(f"element({name!r}, c[{index}])")
    source = (
        f"def custom(r):\n    c = r[{_CUSTOM}]\n"
        "    return ''.join(('<custom_fields>', " + ", ".join(parts) + ", '</custom_fields>'))\n"
    )
    namespace = {
        "element": XMLRenderer().element,
        "esc": _xml_text,
        "special": _XML_SPECIAL.search,
    }
    exec(compile(source, "<export xml custom fields>", "exec"), namespace)  # names as repr()
    return namespace["custom"]


@lru_cache(maxsize=1024)
def _is_xml_name(name: str) -> bool:
    return bool(_XML_NAME.match(name))


_build_records = _records_function()
_record_dict = _record_dict_function()
