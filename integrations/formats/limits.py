"""How deep and how large one record of an imported file may be: the readers' bounds, in one place.

A file is read a record at a time, so these bound what one record can cost, whatever the file's
size: a record past a limit is reported as that record's error (`Record.error`) and skipped
without being built, and the records after it are read as usual. The numbers are far above any
real CRM record and far below what would hurt a worker:

- `MAX_RECORD_DEPTH` 32: nested JSON arrays/objects or XML elements inside one record (the
  record itself is level 1). Our own exports nest 3 levels (a record, its custom fields or a
  related record, a list); 32 also keeps every recursive walk of a record (flattening, JSON
  encoding of a rejected row) far below Python's recursion limit of 1,000. Nesting of the
  file around the records (a wrapper object or element) is bounded by the same number.
- `MAX_RECORD_BYTES` 1 MiB: the text of one record in the file (bytes for JSON and XML, the
  characters of its lines for CSV). A contact with a long note is a few KB.
- `MAX_RECORD_ITEMS` 10,000: the values, keys and elements of one JSON or XML record; in
  Python a tiny item (`[]`, `<a/>`) costs ~50 times its bytes in the file, so 1 MiB alone
  would still allow ~50 MB of objects.
- `MAX_CSV_COLUMNS` 1,000: cells in one CSV row, and columns in the header (a CRM export
  with every custom field is well under 100). A wider header makes the file unreadable.
- `MAX_CSV_CELL_CHARS` 128 KiB: one CSV cell (the `csv` module's own default field limit,
  which also stops a stray opening quote from swallowing the rest of a large file).

They are constants, not settings: raising them trades a worker's memory for files no CRM
produces, and lowering them only rejects records these already would.
"""

from django.utils.translation import gettext as _

MAX_RECORD_DEPTH = 32
MAX_RECORD_BYTES = 1024 * 1024
MAX_RECORD_ITEMS = 10_000
MAX_CSV_COLUMNS = 1_000
MAX_CSV_CELL_CHARS = 128 * 1024


def too_deep(number: int) -> str:
    return _("Record %(number)d is nested more than %(depth)d levels deep.") % {
        "number": number,
        "depth": MAX_RECORD_DEPTH,
    }


def too_large(number: int) -> str:
    return _(
        "Record %(number)d is larger than %(size)s KB or holds more than %(items)s values."
    ) % {
        "number": number,
        "size": f"{MAX_RECORD_BYTES // 1024:,}",
        "items": f"{MAX_RECORD_ITEMS:,}",
    }
