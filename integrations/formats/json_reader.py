"""JSON files: an array of objects, or an object wrapping one ({"results": [...]}), streamed.

Numbers keep their exact value: integers are `int`, every other number a `Decimal` (never a
float, so 0.1 and 12.50 arrive as written). Our import validators take Decimal and str alike.
"""

import codecs
import io
from collections.abc import Iterator
from decimal import Decimal

import ijson

from integrations.formats.base import FormatError, Record, RecordReader
from integrations.formats.decoding import DecodingRaw
from integrations.formats.source import READ_SIZE, Source

WRAPPER_KEYS = ("records", "results")  # "results" is what our paginated REST API emits
_CHUNK = 64 * 1024
_KINDS = {str: "a string", int: "a number", Decimal: "a number", bool: "true or false"}


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
        self._input = _TrackingReader(stream)
        self._count = 0
        prefix = None if transcode else _records_prefix(source.sample[skip:], final=source.at_eof)
        self._records = self._read_records(prefix)
        self._read_first_record()

    def _read_records(self, prefix: str | None) -> Iterator[Record]:
        try:
            if prefix is None:  # the wrapper key is not in the sample: find it event by event
                items = _items_after_wrapper(ijson.parse(self._input, use_float=False))
            else:
                items = ijson.items(self._input, prefix, use_float=False, buf_size=_CHUNK)
            for item in items:
                self._count += 1
                if isinstance(item, dict):
                    yield Record(self._count, item)
                else:
                    kind = "a list" if isinstance(item, list) else _KINDS.get(type(item), "null")
                    yield Record(self._count, {}, f"Record {self._count} is {kind}, not an object.")
        except ijson.JSONError as exc:
            raise FormatError(self._describe(exc)) from exc

    def _describe(self, exc: Exception) -> str:
        message = exc.args[0] if exc.args else str(exc)
        if isinstance(message, bytes):
            message = message.decode("utf-8", errors="replace")
        summary, _, context = str(message).partition("\n")
        where = self._input.locate(context.partition("\n")[0])
        return f"Malformed JSON {where}: {summary.rstrip('.')}."


class _TrackingReader:
    """Hands ijson the stream chunk by chunk, remembering the last chunk to locate errors."""

    def __init__(self, stream) -> None:
        self._stream = stream
        self._chunk = b""
        self._chunk_start = 0
        self._lines_before = 0

    def read(self, size: int = -1) -> bytes:
        self._lines_before += self._chunk.count(b"\n")
        self._chunk_start += len(self._chunk)
        self._chunk = self._stream.read(size)
        return self._chunk

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


def _records_prefix(body: bytes, *, final: bool) -> str | None:
    """ijson's prefix for the records, found in the sample; None when the sample cannot tell."""
    first = body.lstrip(b" \t\r\n")[:1]
    if first == b"[":
        return "item"
    if first != b"{":
        raise FormatError(_NOT_RECORDS)
    events = ijson.parse(io.BytesIO(body), use_float=False)
    try:
        for prefix, event, value in events:
            if prefix == "" and event == "map_key" and value in WRAPPER_KEYS:
                if next(events)[1] != "start_array":
                    raise FormatError(f'"{value}" must be an array of records.')
                return f"{value}.item"
    except ijson.JSONError:
        return None  # cut by the sample's end, or malformed: the full read says where
    raise FormatError(_NOT_RECORDS)


_NOT_RECORDS = (
    'A JSON file must hold an array of records, or an object with a "records" or "results" array.'
)


def _items_after_wrapper(events) -> Iterator:
    """Top-level events are skipped up to the records array; ijson then builds its items."""
    for prefix, event, value in events:
        if prefix == "" and event == "start_array":
            yield from ijson.items(events, "item")
            return
        if prefix == "" and event == "map_key" and value in WRAPPER_KEYS:
            if next(events)[1] != "start_array":
                raise FormatError(f'"{value}" must be an array of records.')
            yield from ijson.items(events, f"{value}.item")
            return
        if prefix == "" and event not in ("start_map", "map_key"):
            break  # a scalar document, or the end of an object without records
    raise FormatError(_NOT_RECORDS)
