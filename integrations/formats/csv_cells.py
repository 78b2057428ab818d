"""The CSV cell rules: formula neutralising and restoring, "|" lists, flattening to dotted
column names and back, and the column naming of exports.

Shared by the REST CSV renderer and parser, the file writer and reader, the imports and the
export encoders; keeping both directions in one module is what makes a CSV export importable
unchanged.
"""

import csv
import io
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal

from integrations.formats.json_values import JSONEncoder

LIST_SEPARATOR = "|"
# "'" is on the list so that a value that really starts with "'" survives the round trip.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")

_ENCODER = JSONEncoder()
_PLAIN = (str, int, float, bool, list, tuple, dict, type(None))


def plain(value):
    """Reduce `value` to what DRF's JSON renderer would emit (dates as ISO text, UUIDs as str…).

    Decimals become their exact text rather than DRF's float, so no digit is ever lost.
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, _PLAIN):
        return value
    return plain(_ENCODER.default(value))


def scalar_text(value) -> str:
    """Text for a non-container value; shared with the XML renderer."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def neutralise(text: str) -> str:
    """Stop spreadsheets reading the cell as a formula (CSV/formula injection)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def restore(text: str) -> str:
    """Undo `neutralise`; a "'" before anything else was typed by a person and is kept."""
    if text[:1] == "'" and text[1:2] and text[1:2] in FORMULA_PREFIXES:
        return text[1:]
    return text


def join_list(items: Iterable) -> str:
    """Join with "|", backslash-escaping "|" and "\\" inside items so `split_list` can undo it."""
    return LIST_SEPARATOR.join(
        cell_text(item, escape_formulas=False).replace("\\", "\\\\").replace("|", "\\|")
        for item in items
    )


def split_list(text: str) -> list[str]:
    """Undo `join_list`: split on unescaped "|", unescaping "\\|" and "\\\\"."""
    if "\\" not in text:
        return text.split(LIST_SEPARATOR)  # nothing escaped: the common case, at C speed
    items, current, chars = [], [], iter(text)
    for char in chars:
        if char == "\\":
            current.append(next(chars, "\\"))
        elif char == LIST_SEPARATOR:
            items.append("".join(current))
            current = []
        else:
            current.append(char)
    items.append("".join(current))
    return items


def cell_text(value, *, escape_formulas: bool = True) -> str:
    """The text of one cell: None empty, lists "|"-joined, booleans "true"/"false", and (unless
    `escape_formulas` is off, as inside a list) formula-like text behind a "'"."""
    value = plain(value)
    if value is None:
        text = ""
    elif isinstance(value, list | tuple):
        text = join_list(value)
    elif isinstance(value, dict):
        # Only reached when a column names an object rather than one of its leaves.
        text = json.dumps(value, cls=JSONEncoder, ensure_ascii=False)
    else:
        text = scalar_text(value)
    return neutralise(text) if escape_formulas else text


def flatten(row: Mapping, prefix: str = "") -> dict:
    """{"company": {"id": 3}} -> {"company.id": 3}; lists stay whole (they become one cell)."""
    flat = {}
    for key, value in row.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            flat.update(flatten(value, prefix=f"{path}."))
        else:
            flat[path] = value
    return flat


def value_at(row: Mapping, path: str):
    """The value at a dotted column path, None where the path leads nowhere."""
    value = row
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        if part in value:
            value = value[part]
        else:  # non-string keys, e.g. the list indexes in DRF's errors for list items
            value = next((child for key, child in value.items() if str(key) == part), None)
    return value


def unflatten(flat: Mapping) -> dict:
    """{"company.id": "3"} -> {"company": {"id": "3"}}; an object with every leaf empty is None.

    Collapsing to None lets a contact without a company (rendered as empty `company.*` cells)
    come back as `"company": None`, as in the JSON it was exported from.
    """
    nested: dict = {}
    for path, value in flat.items():
        *parents, leaf = path.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return {key: _none_if_empty(value) for key, value in nested.items()}


def _none_if_empty(value):
    if not isinstance(value, dict):
        return value
    value = {key: _none_if_empty(child) for key, child in value.items()}
    return None if all(child is None for child in value.values()) else value


def _line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerow(cells)
    return buffer.getvalue()


Column = str | tuple[str, str]


def column_path_and_header(column: Column) -> tuple[str, str]:
    """A column is a dotted path (also its header) or a (path, header) pair: custom fields are
    read from `custom_fields.<name>` and headed by their bare name."""
    return (column, column) if isinstance(column, str) else column


def csv_header_line(columns: Iterable[Column]) -> str:
    """The header line of an export, for a StreamingHttpResponse."""
    return _line([cell_text(column_path_and_header(column)[1]) for column in columns])


def csv_row_line(row: Mapping, columns: Iterable[Column]) -> str:
    """One data line of an export (`row` as a serializer returns it), same rules as the renderer."""
    return line_writer(columns).line(row)


def line_writer(columns: Iterable[Column]) -> "CsvLineWriter":
    """The `CsvLineWriter` for a column list, built once and reused (a few dozen lists at most:
    one per entity and custom-field set)."""
    key = tuple(columns)
    writer = _LINE_WRITERS.get(key)
    if writer is None:
        if len(_LINE_WRITERS) > 64:
            _LINE_WRITERS.clear()
        writer = _LINE_WRITERS[key] = CsvLineWriter(key)
    return writer


class CsvLineWriter:
    """Writes rows for one column list, fast: paths split once, one csv writer reused, and the
    common cell types (text, whole numbers, booleans, None) handled without the general path.
    Exports write tens of thousands of rows a second through this."""

    def __init__(self, columns: Iterable[Column]) -> None:
        self.paths = [tuple(column_path_and_header(c)[0].split(".")) for c in columns]
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer)

    def line(self, row: Mapping) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(self.cells(row))
        return self.buffer.getvalue()

    def cells(self, row: Mapping) -> list[str]:
        """The row's cells as text, one per column, before CSV quoting."""
        if type(row) is not dict:
            row = dict(row) if isinstance(row, Mapping) else {}
        cells = []
        get = row.get
        for path in self.paths:
            value = get(path[0])
            for part in path[1:]:  # dotted columns: plain dicts all the way down
                value = value.get(part) if type(value) is dict else None
            kind = type(value)
            if kind is str:
                cells.append("'" + value if value[:1] in _FORMULA_START else value)
            elif value is None:
                cells.append("")
            elif kind is bool:
                cells.append("true" if value else "false")
            elif kind is int:
                cells.append(("'" if value < 0 else "") + str(value))
            else:
                cells.append(cell_text(value))
        return cells


_FORMULA_START = frozenset(FORMULA_PREFIXES)
_LINE_WRITERS: dict[tuple, CsvLineWriter] = {}
