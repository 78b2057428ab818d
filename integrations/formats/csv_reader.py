"""CSV files: encoding and delimiter detected, one record per row, cells as text.

What is malformed, and what it costs (see `limits` for the numbers):

- A quoted value still open at the end of the file swallowed every row after its quote, so
  none of them can be trusted: the file is unreadable (`FormatError`), nothing is imported.
  This is also how an unclosed quote in a cell larger than the cell limit ends.
- A closing quote followed by something other than the delimiter (`"x"y`), a row wider than
  `MAX_CSV_COLUMNS`, a cell larger than `MAX_CSV_CELL_CHARS` or a row larger than
  `MAX_RECORD_BYTES` characters spoils that row only (`Record.error`); reading goes on after
  it (after a quoted value spanning lines, at the line where its quotes balance again).
- A quote inside an unquoted value (`5'10"`, `ab"c`) is kept as text, as spreadsheets do.
- A row with more cells than the header is an error on that row unless the extra cells are
  empty (spreadsheets save a few trailing empty cells); a shorter one is padded with "".
- A header wider than `MAX_CSV_COLUMNS` or longer than `MAX_RECORD_BYTES` is a FormatError.

Lines reach the `csv` module through `_Lines`, which caps the characters of one row, so a
file of one endless line costs the limit in memory, not the file's size.
"""

import codecs
import csv
import io
from collections.abc import Iterator

from django.utils.translation import gettext

from integrations.formats import limits
from integrations.formats.base import FormatError, Record, RecordReader
from integrations.formats.csv_cells import restore
from integrations.formats.decoding import DecodingRaw
from integrations.formats.sniffing import (
    check_text,
    decode_sample,
    detect_delimiter,
    detect_encoding,
)
from integrations.formats.source import READ_SIZE, Source


class CSVReader(RecordReader):
    """Rows as {header: cell} with every cell a string ("" when empty); the caller decides types.

    Cells are as a spreadsheet shows them: dotted headers stay flat, "|"-joined lists stay
    joined (`csv_cells.unflatten`/`split_list` undo that for our own exports), and
    the "'" our exports put before formula-like cells is removed (`csv_cells.restore`). Rows
    with no text at all are skipped (their numbers are not reused). A row shorter than the
    header is padded with ""; a longer one is reported in `Record.error` unless the extra cells
    are empty.
    """

    format = "csv"

    def __init__(
        self, source: Source, *, encoding: str | None = None, delimiter: str | None = None
    ) -> None:
        super().__init__(source)
        skip, encoding = _starting_encoding(source, encoding)
        text = decode_sample(source.sample[skip:], encoding or "ascii", final=source.at_eof)
        check_text(text)
        self.delimiter = delimiter or detect_delimiter(text, final=source.at_eof)
        if len(self.delimiter) != 1:
            raise ValueError(f"A CSV delimiter is one character, not {self.delimiter!r}.")
        self._raw = DecodingRaw(source.stream(skip=skip), encoding, read_size=READ_SIZE)
        self._text = io.TextIOWrapper(io.BufferedReader(self._raw, READ_SIZE), "utf-8", newline="")
        self._lines = _Lines(self._text)
        # strict: an unclosed quote is reported, not silently merged with the rows after it
        self._rows = csv.reader(self._lines, delimiter=self.delimiter, strict=True)
        self._number = 0
        self.headers = self._read_headers()
        self._records = self._read_records()

    @property
    def encoding(self) -> str | None:
        """The detected (or given) encoding: "utf-8", "utf-8-sig" (with a BOM), "gb18030",
        "cp1252", "iso8859-1"…; None while every byte read so far is ASCII, which all of them
        read alike. The first non-ASCII byte decides it, wherever it is; so store only an
        encoding a person chose, not this guess, or a later accent may contradict it."""
        return self._raw.encoding

    def _next_row(self) -> list[str] | None:
        self._number += 1
        self._lines.start_record()
        try:
            return next(self._rows, None)
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"Row {self._number} is not valid UTF-8: the file mixes encodings. Give the "
                "right encoding, or save it again as UTF-8."
            ) from exc
        except csv.Error as exc:
            if str(exc) == "unexpected end of data":
                raise FormatError(_unclosed(self._number, self._lines.record_line)) from exc
            raise

    def _read_headers(self) -> list[str]:
        try:
            row = self._next_row()
        except csv.Error as exc:
            raise FormatError(f"Row 1 (the header) cannot be read: {_explain(exc)}.") from exc
        except _RowTooLarge as exc:
            message = gettext("Row 1 (the header) is longer than %(size)s characters.")
            raise FormatError(message % {"size": f"{limits.MAX_RECORD_BYTES:,}"}) from exc
        if not row or not any(row):
            raise FormatError("Row 1 must be the header naming the columns; it is empty.")
        if len(row) > limits.MAX_CSV_COLUMNS:
            message = gettext(
                "Row 1 (the header) has %(columns)s columns; at most %(limit)s can be imported."
            )
            raise FormatError(
                message % {"columns": f"{len(row):,}", "limit": f"{limits.MAX_CSV_COLUMNS:,}"}
            )
        headers = [restore(name) for name in row]
        while headers and not headers[-1].strip():
            headers.pop()  # spreadsheets often save a few empty columns after the last one
        seen: dict[str, int] = {}
        for position, name in enumerate(headers, start=1):
            if not name.strip():
                raise FormatError(f"Column {position} of the header (row 1) has no name.")
            if name in seen:
                raise FormatError(
                    f"Column {name!r} appears more than once in the header (columns "
                    f"{seen[name]} and {position}); each column needs its own name."
                )
            seen[name] = position
        return headers

    def _read_records(self) -> Iterator[Record]:
        headers, width, lines = self.headers, len(self.headers), self._lines
        for cells, error in self._rows_read():
            if cells is None:
                yield Record(self._number, {}, error, lines.record_line)
                continue
            if len(cells) != width:
                cells, error = self._fit(cells, width)
            joined = "\x00".join(cells)  # one C-level scan instead of a check per cell
            if joined[:1] == "'" or "\x00'" in joined:
                cells = [restore(cell) for cell in cells]
            yield Record(
                self._number, dict(zip(headers, cells, strict=True)), error, lines.record_line
            )

    def count_records(self) -> int:
        """The records iteration would yield, counted without building them; raises the same
        FormatError it would, so a caller can check the whole file before writing anything."""
        count = 0
        for _ in self._rows_read():
            count += 1
        self.close()
        return count

    def _rows_read(self) -> Iterator[tuple[list[str] | None, str | None]]:
        """(cells, None) for each row with text, (None, error) for each row that cannot be
        used at all; `self._number` and `self._lines.record_line` say which row it is."""
        lines = self._lines
        cell_limit, column_limit = limits.MAX_CSV_CELL_CHARS, limits.MAX_CSV_COLUMNS
        while True:
            try:
                cells = self._next_row()
            except (csv.Error, _RowTooLarge) as exc:
                number = self._number
                if isinstance(exc, _RowTooLarge) or "field limit" in str(exc):
                    lines.skip_record(_unclosed(number, lines.record_line))
                    yield None, _too_large(number)
                else:  # the reader goes on at the next line
                    lines.skip_line()
                    yield None, f"Row {number} cannot be read: {_explain(exc)}."
                continue
            if cells is None:
                return
            if not any(cells):
                continue
            if len(cells) > column_limit:
                yield None, _too_wide(self._number, len(cells))
            elif lines.record_chars > cell_limit and max(map(len, cells)) > cell_limit:
                yield None, _too_large(self._number)
            else:
                yield cells, None

    def _fit(self, cells: list[str], width: int) -> tuple[list[str], str | None]:
        if len(cells) < width:
            return cells + [""] * (width - len(cells)), None
        if any(cells[width:]):
            error = f"Row {self._number} has {len(cells)} cells, the header has {width}."
            return cells[:width], error
        return cells[:width], None


class _RowTooLarge(Exception):
    """Raised through the `csv` reader by `_Lines`, which abandons the row being read."""


class _Lines:
    """The text's lines for `csv.reader`, each read with a bound, counted per row.

    `csv.reader` takes a line at a time and asks for more while a quoted value spans lines; the
    characters handed out since `start_record` are the row's size, and past the limit the row
    is abandoned (`_RowTooLarge`). Quotes are counted too: after an abandoned row, reading
    resumes where the quotes balance at a line's end, i.e. after the row's last line.
    """

    def __init__(self, text: io.TextIOBase) -> None:
        self._readline = text.readline
        self._limit = limits.MAX_RECORD_BYTES
        self.line = 0  # lines handed out so far
        self.record_line = 1  # the line the current row starts on
        self.record_chars = 0
        self._quotes = 0
        self._line_ended = True

    def __iter__(self) -> "_Lines":
        return self

    def __next__(self) -> str:
        line = self._readline(self._limit + 1)
        if not line:
            raise StopIteration
        self.line += 1
        self.record_chars += len(line)
        self._quotes += line.count('"')
        if self.record_chars > self._limit:
            self._line_ended = line[-1] in "\r\n"
            raise _RowTooLarge
        return line

    def start_record(self) -> None:
        self.record_line = self.line + 1
        self.record_chars = self._quotes = 0
        self._line_ended = True

    def skip_line(self) -> None:
        """Past the rest of a line the csv reader gave up on (all of it, unless cut short)."""
        while not self._line_ended:
            self._read_piece()

    def skip_record(self, unclosed: str) -> None:
        """Past the rest of an abandoned row: to a line's end where its quotes balance."""
        while self._quotes % 2 or not self._line_ended:
            if not self._read_piece():
                if self._quotes % 2:
                    raise FormatError(unclosed)
                return

    def _read_piece(self) -> str:
        piece = self._readline(self._limit)
        if piece:
            self._line_ended = piece[-1] in "\r\n"
            self.line += self._line_ended
            self._quotes += piece.count('"')
        else:
            self._line_ended = True
        return piece


def _unclosed(number: int, line: int) -> str:
    message = gettext(
        "A quoted value in row %(number)d (line %(line)d) is not closed before the end of the "
        "file: every row after it would be read as part of it. Close the quote and import again."
    )
    return message % {"number": number, "line": line}


def _too_large(number: int) -> str:
    message = gettext(
        "Row %(number)d is longer than %(size)s characters, or one of its cells longer than "
        "%(cell)s."
    )
    return message % {
        "number": number,
        "size": f"{limits.MAX_RECORD_BYTES:,}",
        "cell": f"{limits.MAX_CSV_CELL_CHARS:,}",
    }


def _too_wide(number: int, cells: int) -> str:
    message = gettext("Row %(number)d has %(cells)s cells; at most %(limit)s can be imported.")
    return message % {
        "number": number,
        "cells": f"{cells:,}",
        "limit": f"{limits.MAX_CSV_COLUMNS:,}",
    }


_EXPLANATIONS = {
    "unexpected end of data": "a quoted value is not closed before the end of the file",
}


def _explain(exc: csv.Error) -> str:
    message = str(exc)
    if message.startswith("field larger than field limit"):
        return f"a value is too long ({message}); is a quote left open?"
    if "expected after" in message:
        return f"a closing quote must be followed by the delimiter ({message})"
    return _EXPLANATIONS.get(message, message)


def _starting_encoding(source: Source, encoding: str | None) -> tuple[int, str | None]:
    """(bytes to skip, encoding or None while undecided) from the caller, the BOM or the sample."""
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise FormatError(f"Unknown encoding {encoding!r}.") from exc
        if name in ("utf-8", "utf-8-sig") and source.bom == codecs.BOM_UTF8:
            return len(codecs.BOM_UTF8), "utf-8-sig"
        return 0, name
    if source.bom_encoding == "utf-8-sig":
        return len(source.bom), "utf-8-sig"
    if source.bom_encoding:
        return 0, source.bom_encoding  # the UTF-16/32 decoders read their own BOM
    return 0, detect_encoding(source.sample, final=source.at_eof)
