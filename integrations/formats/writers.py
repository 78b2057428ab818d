"""Streaming writers: one record at a time to a text or binary stream, in CSV, JSON or XML.

Each writes by the rules the REST API shares (`integrations.formats.csv_cells` for CSV cells,
`xml_elements` for XML elements), so what it writes reads back unchanged with the matching
reader and with the API's parsers.
"""

import csv
import io
import json
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from integrations.formats.csv_cells import (
    Column,
    cell_text,
    column_path_and_header,
    csv_header_line,
    csv_row_line,
    plain,
    value_at,
)
from integrations.formats.xml_elements import XMLDocument

FORMATS = ("csv", "json", "xml")
# What starts a CSV meant for a person: without it Excel reads UTF-8 as the local code page and
# shows Chinese (and every non-ASCII) text garbled. Our readers skip it.
BOM = "\ufeff"
UTF8_BOM = BOM.encode()
_FLUSH_CHARS = 64 * 1024  # written to the stream in pieces of about this size


class RecordWriter:
    """`write(record)` each record, then `close()`, or use it as a context manager.

    `close()` ends the document (the JSON array, the XML root) and flushes; the stream itself
    stays open for its owner. Leaving the `with` block by an exception flushes what was written
    but does not end the document, so a failed export cannot pass for a complete file.
    """

    format = ""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._binary = _is_binary(stream)
        self._pieces: list[str] = []
        self._size = 0
        self._closed = False

    def write(self, record: Mapping[str, Any]) -> None:
        if self._closed:
            raise ValueError("This writer is closed.")
        if not isinstance(record, Mapping):
            raise TypeError(f"A record is a mapping of field names to values, not {record!r}.")
        self._emit(self._encode(record))

    def close(self) -> None:
        if not self._closed:
            self._emit(self._end())
            self._finish()

    def _finish(self) -> None:
        self._closed = True
        self._flush()
        if callable(getattr(self._stream, "flush", None)):
            self._stream.flush()

    def __enter__(self) -> "RecordWriter":
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None:
            self.close()
        elif not self._closed:
            self._finish()

    def _emit(self, text: str) -> None:
        self._pieces.append(text)
        self._size += len(text)
        if self._size >= _FLUSH_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._pieces:
            text = "".join(self._pieces)
            self._stream.write(text.encode() if self._binary else text)
            self._pieces.clear()
            self._size = 0

    def _encode(self, record: Mapping[str, Any]) -> str:
        raise NotImplementedError

    def _end(self) -> str:
        return ""


class CSVWriter(RecordWriter):
    """A header row, then one row per record: nested values by dotted path, lists "|"-joined,
    None as an empty cell, formula-like cells behind a "'". `bom` starts the file with a UTF-8
    byte-order mark (`BOM`), without which Excel misreads Chinese (and every non-ASCII) text:
    every CSV written for a person goes through here with it. `delimiter` writes another
    dialect (an error report in the uploaded file's own ";" or tab)."""

    format = "csv"

    def __init__(
        self, stream, columns: Iterable[Column], *, bom: bool = False, delimiter: str = ","
    ) -> None:
        super().__init__(stream)
        self._columns = list(columns)
        if not self._columns:
            raise ValueError("A CSV writer needs columns: dotted paths or (path, header) pairs.")
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise ValueError(f"A CSV delimiter is one character other than a quote: {delimiter!r}.")
        self._line = None
        if delimiter != ",":  # the fast line writer speaks commas only
            self._paths = [column_path_and_header(column)[0] for column in self._columns]
            self._buffer = io.StringIO()
            self._line = csv.writer(self._buffer, delimiter=delimiter)
            header = self._cells([column_path_and_header(c)[1] for c in self._columns])
        else:
            header = csv_header_line(self._columns)
        self._emit((BOM if bom else "") + header)

    def _encode(self, record: Mapping[str, Any]) -> str:
        if self._line is None:
            return csv_row_line(record, self._columns)
        return self._cells([value_at(record, path) for path in self._paths])

    def _cells(self, values: list[Any]) -> str:
        """One line in the chosen dialect, cells by the same rules as `csv_row_line`."""
        self._buffer.seek(0)
        self._buffer.truncate()
        self._line.writerow([cell_text(value) for value in values])
        return self._buffer.getvalue()


class JSONWriter(RecordWriter):
    """An array with one record per line (like the API's exports).

    A Decimal is written as a JSON number with its exact digits (12.50 stays 12.50), so the
    reader gives back an equal Decimal; other non-JSON values (dates, UUIDs…) become what the
    API renders (`csv_cells.plain`). Floats that are NaN or infinite are refused.
    """

    format = "json"

    def __init__(self, stream) -> None:
        super().__init__(stream)
        # json cannot write a raw number from `default`; a Decimal goes out as a marked string
        # that is then unquoted. The marker is random per writer, so no value can forge it.
        self._marker = f"\x00{secrets.token_hex(8)}:"
        escaped = re.escape(json.dumps(self._marker)[1:-1])
        self._marked = re.compile(f'"{escaped}([^"]*)"')
        self._has_decimal = False
        self._encoder = json.JSONEncoder(ensure_ascii=False, allow_nan=False, default=self._plain)
        self._separator = "[\n"

    def _plain(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            if not value.is_finite():
                raise ValueError(f"{value} cannot be written as a JSON number.")
            self._has_decimal = True
            return f"{self._marker}{value}"
        return plain(value)

    def _encode(self, record: Mapping[str, Any]) -> str:
        text = self._encoder.encode(record)
        if self._has_decimal:
            text = self._marked.sub(r"\1", text)
            self._has_decimal = False
        separator, self._separator = self._separator, ",\n"
        return separator + text

    def _end(self) -> str:
        return "[\n]\n" if self._separator == "[\n" else "\n]\n"


class XMLWriter(RecordWriter):
    """The API's XML: `<root>` with one `<list-item>` per record, xsi:nil for None."""

    format = "xml"

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self._document = XMLDocument()
        self._emit(self._document.document_start())

    def _encode(self, record: Mapping[str, Any]) -> str:
        return self._document.element(self._document.item_tag_name, record)

    def _end(self) -> str:
        return self._document.document_end()


def open_writer(
    stream,
    format: str,
    *,
    columns: Iterable[Column] | None = None,
    bom: bool = False,
    delimiter: str = ",",
) -> RecordWriter:
    """A writer of `format` ("csv", "json" or "xml") on `stream` (text, or binary: UTF-8).

    `columns` (CSV only, required there) are dotted paths or (path, header) pairs, as in
    `integrations.formats.csv_cells`; JSON and XML write every field. `bom` and `delimiter` are for
    CSV only; `bom` is what a file meant for a person (a spreadsheet) wants.
    """
    if format == "csv":
        if columns is None:
            raise ValueError("A CSV writer needs columns: dotted paths or (path, header) pairs.")
        return CSVWriter(stream, columns, bom=bom, delimiter=delimiter)
    if format not in FORMATS:
        raise ValueError(f"Unknown format {format!r}: use one of {', '.join(FORMATS)}.")
    if columns is not None or bom or delimiter != ",":
        raise ValueError(
            "columns, bom and delimiter apply to CSV only; JSON and XML write whole records."
        )
    return JSONWriter(stream) if format == "json" else XMLWriter(stream)


class TextPieces:
    """A text stream that a streamed response drains between records: a writer fills it (in
    pieces of about 64 KiB), and `drain()` hands what it holds over as UTF-8."""

    mode = "w"

    def __init__(self) -> None:
        self.pieces: list[str] = []

    def write(self, text: str) -> None:
        self.pieces.append(text)

    def drain(self) -> bytes:
        text = "".join(self.pieces)
        self.pieces.clear()
        return text.encode()


def text_sink(stream) -> Callable[[str], Any]:
    """A function writing text to `stream` (text, or binary: UTF-8), for writers that produce
    whole pieces of a document themselves (e.g. ``customers.representation.export_stream``)."""
    if _is_binary(stream):
        return lambda text: stream.write(text.encode())
    return stream.write


def _is_binary(stream) -> bool:
    if isinstance(stream, io.TextIOBase):
        return False
    if isinstance(stream, io.RawIOBase | io.BufferedIOBase):
        return True
    mode = getattr(stream, "mode", None)
    if isinstance(mode, str):
        return "b" in mode
    try:
        stream.write(b"")  # writes nothing; a text stream refuses bytes
    except TypeError:
        return False
    return True
