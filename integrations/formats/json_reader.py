"""JSON files: an array of objects, or an object wrapping one ({"results": [...]}), streamed.

Numbers keep their exact value: integers are `int`, every other number a `Decimal` (never a
float, so 0.1 and 12.50 arrive as written). Our import validators take Decimal and str alike.

Records are built here from ijson's basic events (no prefixes: ijson's prefixed events hold a
path string per open level, which costs memory with the square of the nesting depth), so each
record's depth, item count and size are checked as it is read (`limits`). A record past a
limit is a `Record.error`; the rest of it is read past without being built.
"""

import codecs
import io
import sys
from collections.abc import Iterator
from decimal import Decimal

import ijson
from django.utils.translation import gettext

from integrations.formats import limits
from integrations.formats.base import FormatError, Record, RecordReader
from integrations.formats.decoding import DecodingRaw
from integrations.formats.source import READ_SIZE, Source

WRAPPER_KEYS = ("records", "results")  # "results" is what our paginated REST API emits
_CHUNK = 64 * 1024
_KINDS = {str: "a string", int: "a number", Decimal: "a number", bool: "true or false"}
_STARTS = frozenset(("start_map", "start_array"))
_ENDS = frozenset(("end_map", "end_array"))
# One token (a string, a number) longer than this cannot be skipped as a record's error: yajl
# holds it whole before handing it over, so the file stops there instead.
_TOKEN_LIMIT = 2 * limits.MAX_RECORD_BYTES + _CHUNK
# ijson's C backend crashes the process (a segmentation fault) on an integer longer than
# Python converts (`sys.get_int_max_str_digits()`, 4,300): such runs of digits are refused
# before ijson sees them.
_DIGIT_MASK = bytes(49 if 48 <= byte <= 57 else 48 for byte in range(256))  # "1" per digit


class JSONReader(RecordReader):
    format = "json"

    def __init__(
        self, source: Source, *, encoding: str | None = None, delimiter: str | None = None
    ) -> None:
        super().__init__(source)
        skip, transcode = _utf8_plan(source, encoding)
        stream = source.stream(skip=skip)
        if transcode:
            stream = io.BufferedReader(DecodingRaw(stream, transcode, read_size=READ_SIZE))
        elif source.sample[skip:].lstrip(b" \t\r\n")[:1] not in (b"[", b"{"):
            raise FormatError(_NOT_RECORDS)
        self._input = _TrackingReader(stream)
        self._count = 0
        self._records = self._read_records()
        self._read_first_record()

    def _read_records(self) -> Iterator[Record]:
        events = ijson.basic_parse(self._input, use_float=False, buf_size=_CHUNK)
        try:
            yield from self._records_in(events)
            for _ in events:  # anything after the records is malformed: yajl says where
                pass
        except ijson.JSONError as exc:
            raise FormatError(self._describe(exc)) from exc

    def _records_in(self, events) -> Iterator[Record]:
        event, _ = next(events)
        if event == "start_array":
            yield from self._items(events)
            return
        if event != "start_map":
            raise FormatError(_NOT_RECORDS)
        for event, value in events:  # the top-level object's keys, up to the records array
            if event != "map_key":
                break
            if value not in WRAPPER_KEYS:
                self._skip_value(events)
                continue
            if next(events)[0] != "start_array":
                raise FormatError(f'"{value}" must be an array of records.')
            yield from self._items(events)
            for event, _ in events:  # the wrapper's other keys, after the records
                if event == "map_key":
                    self._skip_value(events)
            return
        raise FormatError(_NOT_RECORDS)

    def _items(self, events) -> Iterator[Record]:
        for event, value in events:
            if event == "end_array":
                return
            self._count += 1
            if event in _STARTS:
                yield self._build(events, event)
            else:
                kind = _KINDS.get(type(value), "null")
                yield Record(self._count, {}, f"Record {self._count} is {kind}, not an object.")

    def _build(self, events, first: str) -> Record:
        """One record from its first event on, or its error once a limit is passed."""
        number, tracker = self._count, self._input
        tracker.start_record()
        root: dict | list = {} if first == "start_map" else []
        container, key, in_map, stack, items = root, None, first == "start_map", [], 0
        max_items, max_depth = limits.MAX_RECORD_ITEMS, limits.MAX_RECORD_DEPTH
        for event, value in events:  # the hot loop of a JSON import: keep it lean
            if event == "map_key":
                key = value
            elif event == "end_map" or event == "end_array":
                if not stack:
                    break
                container, key, in_map = stack.pop()
            else:
                items += 1
                if items > max_items or tracker.over_limit:
                    self._skip(events, len(stack) + 1)
                    return Record(number, {}, limits.too_large(number))
                if event == "start_map" or event == "start_array":
                    child = {} if event == "start_map" else []
                    if in_map:
                        container[key] = child
                    else:
                        container.append(child)
                    stack.append((container, key, in_map))
                    if len(stack) >= max_depth:
                        self._skip(events, len(stack) + 1)
                        return Record(number, {}, limits.too_deep(number))
                    container, key, in_map = child, None, event == "start_map"
                elif in_map:
                    container[key] = value
                else:
                    container.append(value)
        tracker.end_record()
        if tracker.over_limit:
            return Record(number, {}, limits.too_large(number))
        if type(root) is not dict:
            return Record(number, {}, f"Record {number} is a list, not an object.")
        return Record(number, root)

    def _skip(self, events, depth: int) -> None:
        """Read past the rest of a value `depth` levels deep without building it: memory stays
        that of one token, time that of reading the bytes."""
        tracker = self._input
        for event, _ in events:
            tracker.start_record()  # each token is bounded on its own, not their sum
            if event in _STARTS:
                depth += 1
            elif event in _ENDS:
                depth -= 1
                if not depth:
                    break
        tracker.end_record()

    def _skip_value(self, events) -> None:
        """A value of the wrapper object that is not the records (a count, a next page link)."""
        event, _ = next(events)
        if event not in _STARTS:
            return
        depth = 1
        for event, _ in events:
            if event in _STARTS:
                depth += 1
                if depth > limits.MAX_RECORD_DEPTH:
                    message = gettext(
                        "The JSON around the records is nested more than %(depth)d levels."
                    )
                    raise FormatError(message % {"depth": limits.MAX_RECORD_DEPTH})
            elif event in _ENDS:
                depth -= 1
                if not depth:
                    return

    def _describe(self, exc: Exception) -> str:
        message = exc.args[0] if exc.args else str(exc)
        if isinstance(message, bytes):
            message = message.decode("utf-8", errors="replace")
        summary, _, context = str(message).partition("\n")
        where = self._input.locate(context.partition("\n")[0])
        return f"Malformed JSON {where}: {summary.rstrip('.')}."


class _TrackingReader:
    """Hands ijson the stream chunk by chunk, remembering the last chunk to locate errors, and
    counting the bytes read since the current record started (to a chunk's precision)."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._chunk = b""
        self._chunk_start = 0
        self._lines_before = 0
        self._record_start: int | None = None
        self.over_limit = False
        self._digit_limit = sys.get_int_max_str_digits()
        self._digits_before = 0  # the digits ending the previous chunk

    def start_record(self) -> None:
        self._record_start = self._chunk_start + len(self._chunk)
        self.over_limit = False

    def end_record(self) -> None:
        self._record_start = None

    def read(self, size: int = -1) -> bytes:
        self._lines_before += self._chunk.count(b"\n")
        self._chunk_start += len(self._chunk)
        self._chunk = self._stream.read(size)
        if self._digit_limit:
            self._check_digits(self._chunk)
        if self._record_start is not None:
            read = self._chunk_start + len(self._chunk) - self._record_start
            self.over_limit = read > limits.MAX_RECORD_BYTES + len(self._chunk)
            if read > _TOKEN_LIMIT:
                message = gettext(
                    "A value near byte %(byte)d is longer than %(size)d MB: the file cannot be "
                    "read past it."
                )
                raise FormatError(
                    message % {"byte": self._chunk_start, "size": _TOKEN_LIMIT // (1024 * 1024)}
                )
        return self._chunk

    def _check_digits(self, chunk: bytes) -> None:
        mask = chunk.translate(_DIGIT_MASK)
        leading = len(mask) - len(mask.lstrip(b"1"))
        longest = self._digits_before + leading
        if leading == len(mask):
            self._digits_before = longest
        else:
            self._digits_before = len(mask) - len(mask.rstrip(b"1"))
            if b"1" * self._digit_limit in mask:
                longest = self._digit_limit
        if longest >= self._digit_limit:
            message = gettext(
                "The file holds a number of %(digits)s digits or more near byte %(byte)d: "
                "too long to read."
            )
            raise FormatError(
                message % {"digits": f"{self._digit_limit:,}", "byte": self._chunk_start}
            )

    def locate(self, context: str) -> str:
        """Where yajl's error context (up to 30 bytes either side of column 40) is in the chunk.

        yajl reports an offset in the chunk it was given, which ijson does not pass on, so the
        context is looked up in the chunk; the byte, line and column are then exact.
        """
        chunk, start = self._chunk, self._chunk_start
        if not chunk:
            return f"at the end of the file (byte {start})"
        before, after = context[:40].lstrip(" ").encode(), context[40:].encode()
        flat = chunk.replace(b"\n", b" ").replace(b"\r", b" ")
        found = flat.find(before + after) if context.strip() else -1
        if found < 0:
            return f"between bytes {start} and {start + len(chunk)}"
        offset = max(found + len(before) - 1, 0)  # yajl points just past the bad byte
        line = self._lines_before + chunk.count(b"\n", 0, offset) + 1
        line_start = chunk.rfind(b"\n", 0, offset)
        if line_start < 0 and start > 0:  # the line began in an earlier chunk
            return f"at line {line} (byte {start + offset})"
        return f"at line {line}, column {offset - line_start} (byte {start + offset})"


def _utf8_plan(source: Source, encoding: str | None) -> tuple[int, str | None]:
    """(BOM bytes to skip, encoding to transcode from or None): ijson reads UTF-8 only."""
    name = None
    if encoding:
        try:
            name = codecs.lookup(encoding).name
        except LookupError as exc:
            raise FormatError(f"Unknown encoding {encoding!r}.") from exc
    name = name or source.bom_encoding
    if name in (None, "utf-8", "utf-8-sig"):
        return (len(codecs.BOM_UTF8) if source.bom == codecs.BOM_UTF8 else 0), None
    return 0, name


_NOT_RECORDS = (
    'A JSON file must hold an array of records, or an object with a "records" or "results" array.'
)
