"""Streaming readers and writers for CSV, JSON and XML files, behind one interface.

    with open_reader(upload) as reader:          # a path or a binary file object
        for record in reader:                    # Record(number, values, error, line)
            ...
    with open_writer(stream, "csv", columns=["id", "company.name"]) as writer:
        writer.write(row)

Used by bulk imports, exports and connectors. Memory stays flat whatever the file's size: only
a sample of the first bytes and the record at hand are held.
"""

from integrations.formats.base import FormatError, Record, RecordReader
from integrations.formats.readers import open_reader
from integrations.formats.writers import RecordWriter, open_writer

__all__ = ["FormatError", "Record", "RecordReader", "RecordWriter", "open_reader", "open_writer"]
