"""Streaming readers and writers for CSV, JSON and XML files, behind one interface.

    with open_reader(upload) as reader:          # a path or a binary file object
        for record in reader:                    # Record(number, values, error, line)
            ...
    with open_writer(stream, "csv", columns=["id", "company.name"]) as writer:
        writer.write(row)

Used by bulk imports, exports and connectors. Memory stays flat whatever the file's size: only
a sample of the first bytes and the record at hand are held.

The rules every door shares live here too: CSV cells (`csv_cells`), XML elements
(`xml_elements`) and JSON values (`json_values`); the REST renderers and parsers, the export
encoders and SOAP use them. The package imports neither DRF, nor the REST door, nor any model
(`tests/integrations/test_formats_purity.py`).
"""

from integrations.formats.base import FormatError, Record, RecordReader
from integrations.formats.readers import open_reader
from integrations.formats.writers import RecordWriter, open_writer

__all__ = ["FormatError", "Record", "RecordReader", "RecordWriter", "open_reader", "open_writer"]
