"""The types every codec shares: `Record`, `RecordReader`, `FormatError`."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


class FormatError(ValueError):
    """The file as a whole cannot be read: not the format it claims, hostile, or corrupt.

    Raised by `open_reader` for what the start of the file shows, and during iteration for damage
    found further on (malformed JSON or XML, bytes not valid in the detected encoding); the
    records yielded before it were read correctly. A problem with one record is `Record.error`.
    """


@dataclass(slots=True)
class Record:
    """One record of a file.

    `number` is what a person looking at the file would call it: for CSV the spreadsheet row
    (header = 1, first data row = 2, a quoted value spanning lines still one row); for JSON and
    XML the position in the list (1, 2, 3…). `line` is the text line the record starts on (CSV
    only; it differs from `number` after a value that spans lines). `error` says why the record
    cannot be used as it is; `values` then holds what could be read, possibly nothing.
    """

    number: int
    values: dict[str, Any]
    error: str | None = None
    line: int | None = None


class RecordReader(Iterator[Record]):
    """An iterator of `Record`s over one file, read a chunk at a time.

    Attributes: `format` ("csv", "json" or "xml"); `encoding` and `delimiter` (CSV; None
    otherwise); `headers` (CSV: the header row; JSON and XML: the keys of the first record).
    Use it as a context manager, or call `close()`: a file opened from a path is closed then
    (and when the records run out); a file object handed in is left open for its owner.
    """

    format: str = ""
    delimiter: str | None = None
    headers: list[str]

    def __init__(self, source) -> None:
        self._source = source
        self.headers = []
        self._records: Iterator[Record] = iter(())

    @property
    def encoding(self) -> str | None:
        return None

    def __iter__(self) -> "RecordReader":
        return self

    def __next__(self) -> Record:
        try:
            return next(self._records)
        except StopIteration:
            self.close()
            raise

    def _read_first_record(self) -> None:
        """Read ahead one record: its keys are the headers, and the file's start is checked now,
        so `open_reader` (not the first iteration) raises for a file that cannot be read."""
        first = next(self._records, None)
        if first is not None:
            self.headers = list(first.values)
            self._records = _prepend(first, self._records)

    def count_records(self) -> int:
        """The records left, read to the end (and the reader closed): raises the FormatError
        iteration would, so a caller can check the whole file before writing anything."""
        return sum(1 for _ in self)

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> "RecordReader":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def _prepend(first: Record, rest: Iterator[Record]) -> Iterator[Record]:
    yield first
    yield from rest
