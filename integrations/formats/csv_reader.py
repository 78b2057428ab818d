"""CSV files: encoding and delimiter detected, one record per row, cells as text."""

import codecs
import csv
import io
from collections.abc import Iterator

from customers.api.csv_cells import restore
from integrations.formats.base import FormatError, Record, RecordReader
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
    joined (`customers.api.csv_cells.unflatten`/`split_list` undo that for our own exports), and
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
        # strict: an unclosed quote is reported, not silently merged with the rows after it
        self._rows = csv.reader(self._text, delimiter=self.delimiter, strict=True)
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
        try:
            return next(self._rows, None)
        except UnicodeDecodeError as exc:
            raise FormatError(
                f"Row {self._number} is not valid UTF-8: the file mixes encodings. Give the "
                "right encoding, or save it again as UTF-8."
            ) from exc

    def _read_headers(self) -> list[str]:
        try:
            row = self._next_row()
        except csv.Error as exc:
            raise FormatError(f"Row 1 (the header) cannot be read: {_explain(exc)}.") from exc
        if not row or not any(row):
            raise FormatError("Row 1 must be the header naming the columns; it is empty.")
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
        headers, width, rows = self.headers, len(self.headers), self._rows
        while True:
            line = rows.line_num + 1
            try:
                cells = self._next_row()
            except csv.Error as exc:  # the reader goes on at the next line
                error = f"Row {self._number} cannot be read: {_explain(exc)}."
                yield Record(self._number, {}, error, line)
                continue
            if cells is None:
                return
            if not any(cells):
                continue
            error = None
            if len(cells) != width:
                cells, error = self._fit(cells, width)
            joined = "\x00".join(cells)  # one C-level scan instead of a check per cell
            if joined[:1] == "'" or "\x00'" in joined:
                cells = [restore(cell) for cell in cells]
            yield Record(self._number, dict(zip(headers, cells, strict=True)), error, line)

    def _fit(self, cells: list[str], width: int) -> tuple[list[str], str | None]:
        if len(cells) < width:
            return cells + [""] * (width - len(cells)), None
        if any(cells[width:]):
            error = f"Row {self._number} has {len(cells)} cells, the header has {width}."
            return cells[:width], error
        return cells[:width], None


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
