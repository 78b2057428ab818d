"""`open_reader`: one entry point for CSV, JSON and XML files, the format sniffed if not given."""

import codecs

from integrations.formats.base import FormatError, RecordReader
from integrations.formats.csv_reader import CSVReader
from integrations.formats.json_reader import JSONReader
from integrations.formats.sniffing import check_not_binary, sniff_format
from integrations.formats.source import Source
from integrations.formats.xml_reader import XMLReader

READERS: dict[str, type[RecordReader]] = {"csv": CSVReader, "json": JSONReader, "xml": XMLReader}


def open_reader(
    source, *, format: str | None = None, encoding: str | None = None, delimiter: str | None = None
) -> RecordReader:
    """Records from `source`, a path or a binary file object (seekable or not), read lazily.

    `format` ("csv", "json", "xml") is sniffed from the first bytes when not given (`[`/`{` is
    JSON, `<` XML, else the file name's extension, else CSV). `encoding` and `delimiter` override
    detection (`delimiter` is for CSV only). Raises FormatError at once for a file that cannot
    be read (empty, binary, hostile XML, a bad CSV header…); see `RecordReader` and `Record`.
    """
    if format is not None and format not in READERS:
        raise ValueError(f"Unknown format {format!r}: use one of {', '.join(READERS)}.")
    opened = Source(source)
    try:
        if not opened.sample[len(opened.bom) :].strip():
            raise FormatError("The file is empty.")
        check_not_binary(opened.sample, opened.bom_encoding or _codec_name(encoding))
        chosen = format or sniff_format(opened.sample, opened.name, opened.bom_encoding)
        return READERS[chosen](opened, encoding=encoding, delimiter=delimiter)
    except BaseException:
        opened.close()
        raise


def _codec_name(encoding: str | None) -> str | None:
    try:
        return codecs.lookup(encoding).name if encoding else None
    except LookupError as exc:
        raise FormatError(f"Unknown encoding {encoding!r}.") from exc
