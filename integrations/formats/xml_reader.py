"""XML files: our REST layout (`<root><list-item>…`) or any repeated-element layout, streamed.

Each record element is converted by the element rules the REST API shares (`xml_elements`): xsi:nil
is None, an empty element "", `list-item` children a list, `type="list"`/`type="object"` an
empty list/object; leaves stay strings. A DTD is refused outright (defusedxml), which rules out
entity expansion ("billion laughs") and external entities (XXE) before any record is read.

Each record's depth, element count and size are checked as expat reports it (`limits`): a
record past a limit is a `Record.error`, and the rest of it is read past without being built.
"""

from collections.abc import Iterator
from xml.etree.ElementTree import Element, TreeBuilder
from xml.etree.ElementTree import ParseError as XMLSyntaxError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from integrations.formats import limits
from integrations.formats.base import FormatError, Record, RecordReader
from integrations.formats.source import Source
from integrations.formats.xml_elements import LIST_ITEM_TAG, local_name, xml_value

_CHUNK = 64 * 1024
WRAPPER_TAGS = ("results", "records")  # a page of our REST API: <root><results><list-item>…
PAGE_METADATA_TAGS = ("count", "next", "previous")  # skipped beside a wrapper, in <root>


class XMLReader(RecordReader):
    """Records are the root element's children (or those of a `<results>`/`<records>` child of
    the root that holds `list-item`s: a REST page, whose `count`/`next`/`previous` are skipped).

    The document is fed to the parser a chunk at a time; after each chunk the records completed
    so far are converted and removed from the tree, so memory holds one chunk and one record.
    """

    format = "xml"

    def __init__(
        self, source: Source, *, encoding: str | None = None, delimiter: str | None = None
    ) -> None:
        super().__init__(source)
        self._stream = source.stream()  # expat reads the BOM and the XML declaration itself
        try:
            self._parser = _BoundedParser(
                holds_records=self._holds_records,
                target=TreeBuilder(),
                encoding=encoding,
                forbid_dtd=True,
                forbid_entities=True,
                forbid_external=True,
            )
        except LookupError as exc:
            raise FormatError(f"Unknown encoding {encoding!r}.") from exc
        self._root: Element | None = None
        self._wrapper: Element | None = None
        self._count = 0
        self._fed = 0
        self._capture_root()
        self._records = self._read_records()
        self._read_first_record()

    def _capture_root(self) -> None:
        """Keep the root element, which the tree builder only hands out at the very end.

        The parser's start handler is wrapped for the first element only, then put back: no
        per-element cost (unlike iterparse's events, about a third of the parse time here).
        """
        expat = self._parser.parser
        start = expat.StartElementHandler

        def first_start(*args):
            self._root = element = start(*args)
            expat.StartElementHandler = start
            return element

        expat.StartElementHandler = first_start

    def _read_records(self) -> Iterator[Record]:
        while True:
            chunk = self._stream.read(_CHUNK)
            self._parse(chunk)
            self._fed += len(chunk)
            self._parser.check_size(self._fed)
            yield from self._completed_records(final=not chunk)
            if not chunk:
                return

    def _parse(self, chunk: bytes) -> None:
        try:
            if chunk:
                self._parser.feed(chunk)
            else:
                self._parser.close()
        except DefusedXmlException as exc:
            raise FormatError(
                "XML with a DOCTYPE, entity declarations or external references is not accepted."
            ) from exc
        except XMLSyntaxError as exc:
            line, column = exc.position
            reason = str(exc).partition(":")[0]
            raise FormatError(
                f"Malformed XML at line {line}, column {column + 1}: {reason}."
            ) from exc
        except (LookupError, ValueError) as exc:
            raise FormatError(f"The XML file cannot be decoded: {exc}.") from exc

    def _completed_records(self, *, final: bool) -> Iterator[Record]:
        root = self._root
        if root is None:
            return
        children = list(root)
        growing = None if final or not children else children.pop()  # may not be complete yet
        skipped = PAGE_METADATA_TAGS if local_name(root) == "root" else ()
        for child in children:
            if self._holds_records(child):
                yield from self._records_in(child, final=True)
            elif local_name(child) not in skipped:
                yield self._record(child)
        del root[: len(children)]
        if growing is not None and self._holds_records(growing):
            yield from self._records_in(growing, final=False)

    def _holds_records(self, element: Element) -> bool:
        if element is self._wrapper:
            return True
        if local_name(element) in WRAPPER_TAGS and element.get("type") == "list":
            return True
        if (
            local_name(element) in WRAPPER_TAGS
            and len(element)
            and local_name(element[0]) == LIST_ITEM_TAG
        ):
            self._wrapper = element
            return True
        return False

    def _records_in(self, wrapper: Element, *, final: bool) -> Iterator[Record]:
        items = list(wrapper) if final else list(wrapper)[:-1]
        for item in items:
            yield self._record(item)
        del wrapper[: len(items)]

    def _record(self, element: Element) -> Record:
        self._count += 1
        number = self._count
        if (rejected := self._parser.rejected.pop(element, None)) is not None:
            return Record(number, {}, rejected(number))
        try:
            value = xml_value(element)
        except FormatError as exc:
            return Record(number, {}, f"Record {number}: {exc}")
        if isinstance(value, dict):
            return Record(number, value)
        error = f"Record {number} (<{local_name(element)}>) has {_kind(value)} instead of fields."
        return Record(number, {}, error)


class _BoundedParser(DefusedXMLParser):
    """The defused parser, counting the depth and elements of the record being read.

    Records are the root's children (depth 2), or a wrapper's items (depth 3). Past a limit
    the record is marked rejected and the parser stops building: deeper elements and all text
    are dropped until the record's end tag, whose ancestors already built are closed as usual.
    Memory is that of the record up to the limit; the time that of reading the bytes.
    """

    def __init__(self, *, holds_records, **options) -> None:
        super().__init__(**options)
        self._holds_records = holds_records
        self.rejected: dict[Element, object] = {}  # record -> its error message, by number
        self._depth = 0
        self._record: Element | None = None  # the record being read, until its end tag
        self._record_depth = 0
        self._record_start = 0  # its first byte
        self._items = 0
        self._skipping = False  # past a limit: nothing is built up to the record's end tag
        self._unbuilt = 0  # elements open in the file that were not built
        self._level2: Element | None = None
        self._level2_holds: bool | None = None  # whether it is a wrapper of records

    def _start(self, tag, attr_list):
        depth = self._depth = self._depth + 1
        if self._skipping:
            self._unbuilt += 1
            return None
        if self._record is not None and depth > self._record_depth:
            self._items += 1
            if depth - self._record_depth >= limits.MAX_RECORD_DEPTH:
                return self._reject(limits.too_deep)
            if self._items > limits.MAX_RECORD_ITEMS:
                return self._reject(limits.too_large)
        element = super()._start(tag, attr_list)
        if depth == 3 and self._level2_holds is None:  # decided at the wrapper's first child
            self._level2_holds = self._holds_records(self._level2)
        if depth == 2 or (depth == 3 and self._level2_holds):
            if depth == 2:
                self._level2, self._level2_holds = element, None
            self._record, self._record_depth, self._items = element, depth, 0
            self._record_start = self.parser.CurrentByteIndex
        return element

    def _end(self, tag):
        depth = self._depth
        self._depth = depth - 1
        if self._unbuilt:
            self._unbuilt -= 1
            return None
        element = super()._end(tag)
        if depth == self._record_depth and self._record is not None:
            self._record = None
            if self._skipping:
                self._skipping = False
                self.parser.CharacterDataHandler = self.target.data
        return element

    def check_size(self, fed: int) -> None:
        """After each chunk: a record still open past the size limit is rejected."""
        if (
            self._record is not None
            and not self._skipping
            and fed - self._record_start > limits.MAX_RECORD_BYTES
        ):
            self._reject(limits.too_large)
            self._unbuilt = 0  # every element open now was built

    def _reject(self, message) -> None:
        """The record is an error from here on; the element being started is not built."""
        self.rejected[self._record] = message
        self._skipping, self._unbuilt = True, 1
        self.parser.CharacterDataHandler = None


def _kind(value) -> str:
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "xsi:nil"
    return "text" if value else "nothing"
