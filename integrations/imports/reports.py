"""An import job's rejected rows as its readers may see them: the CSV error report shared by the
REST and the web doors (so both hand out the same file) and the values of each row for the
paginated JSON and XML report.

Rows are stored encrypted (``ImportRowError.values``) and decrypted here. A reader who may not
see PII (no ``view_pii``, or a key without ``pii:read``) gets the columns that feed email,
phone, address or a PII custom field masked like the records (``z***@example.com``), and the
columns no field takes masked whole: nothing vouches that they hold no personal data.

The CSV report is the rejected rows as they were in the file, so a person can correct them and
import the report back: the file's own columns in the file's order, in its delimiter, one line
per rejected row, then two columns of ours last (`import row`: its row number in the file,
the header being row 1; `import errors`: every problem of the row), which an import ignores.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from crm_project.storage_errors import StorageUnavailable, storage_failures
from customers import pii, read_routing
from customers.custom_fields.values import definitions_for, mask
from customers.models import Company, CustomField
from integrations.formats import FormatError, open_reader, open_writer
from integrations.formats.writers import TextPieces
from integrations.imports.mapping import CUSTOM_PREFIX, resolve_mapping
from integrations.models import (
    ENTITY_OF_RESOURCE,
    FileFormat,
    ImportCreatedRecord,
    ImportJob,
    ImportRowError,
)

HIDDEN = "***"
ROW_COLUMN = "import row"
ERRORS_COLUMN = "import errors"
_PROBLEM_SEPARATOR = "; "
# Import targets that are not a record's own PII field but carry one's value: a deal's
# contact named by email is that contact's email.
_PII_KIND_OF_TARGET = {"primary_contact_email": "email"}

RowValues = Callable[[Mapping[str, Any] | None], dict[str, Any]]


def pii_targets(resource: str) -> set[str]:
    """The fields of `resource` whose values are personal data, as row problems name them."""
    definitions = definitions_for(ENTITY_OF_RESOURCE[resource], include_archived=True)
    custom = {f"{CUSTOM_PREFIX}{field.name}" for field in definitions if field.pii}
    return set(pii.PII_FIELDS) | custom


def message_at_rest(
    *, field: str, message: str, values: Mapping[str, Any], pii_targets: set[str]
) -> str:
    """A row problem's message as stored: one about a PII field may quote the bad value
    (``Expected a date as YYYY-MM-DD, got '1990/13/45'.``), which is replaced by ``***``; the
    value itself stays in the row's encrypted values."""
    if field not in pii_targets or not isinstance(values, Mapping):
        return message
    for value in values.values():
        text = str(value).strip() if isinstance(value, str | int | float) else ""
        if len(text) >= 3 and text in message:
            message = message.replace(text, HIDDEN)
    return message


def rejected_rows(job: ImportJob) -> QuerySet[ImportRowError]:
    """The job's rejected rows in file order. A finished job's no longer change: they are
    read from a read replica that already shows the job finished, as here (so holds them
    all); a running job's from the primary."""
    rows = ImportRowError.objects.filter(job=job).order_by("row_number", "id")
    if not job.is_finished:
        return rows
    holding = read_routing.database_holding(job, "status", "finished_at")
    return read_routing.on_database(rows, holding)


def import_error_report_filename(job: ImportJob) -> str:
    return f"import-{job.pk}-errors.csv"


def import_error_report_csv(*, job: ImportJob, can_view_pii: bool, bom: bool) -> Iterator[bytes]:
    """The rejected rows as they were in the file (see the module docstring), `bom` first for a
    spreadsheet. A column the file had but a row lacked (a JSON record without that key, an
    unreadable row) is blank. The columns are read now, the rows as the response streams them:
    memory stays flat."""
    queryset = rejected_rows(job)
    names = file_columns(job)
    taken = set(names)
    row_column, errors_column = (_unused(name, taken) for name in (ROW_COLUMN, ERRORS_COLUMN))
    # Values go under positional paths: a name may contain dots (custom_fields.tier).
    columns = [*((f"value{i}", name) for i, name in enumerate(names))]
    columns += [("row", row_column), ("errors", errors_column)]
    delimiter = job.delimiter if job.format == FileFormat.CSV and len(job.delimiter) == 1 else ","
    shown = report_values(job=job, can_view_pii=can_view_pii)
    return _lines(queryset, names, columns, shown, bom=bom, delimiter=delimiter)


def file_columns(job: ImportJob) -> list[str]:
    """The file's columns in the file's order. Each stored row keeps its values in the order
    they were read (one encrypted JSON text, so on every database): a CSV row carries every
    header column (a short row is padded), so the first one tells them all; JSON and XML
    records may differ, so theirs are merged in the order first seen. When no row could be
    read at all, the stored file's header, if it is still kept."""
    rows = rejected_rows(job)
    names: dict[str, None] = {}
    for values in rows.values_list("values", flat=True).iterator(chunk_size=2000):
        if isinstance(values, Mapping) and values:
            names.update(dict.fromkeys(map(str, values)))
            if job.format == FileFormat.CSV:
                break
    return list(names) or _stored_header(job)


def _stored_header(job: ImportJob) -> list[str]:
    if job.format != FileFormat.CSV or not job.file or job.file_deleted_at is not None:
        return []
    try:
        with storage_failures("reading an import upload's header"), job.file.open("rb") as handle:
            reader = open_reader(
                handle, format="csv", encoding=job.encoding or None, delimiter=job.delimiter or None
            )
            with reader:
                return list(reader.headers or [])
    # gone, never readable or out of reach: the report has our columns only
    except (OSError, FormatError, StorageUnavailable):
        return []


def _unused(name: str, taken: set[str]) -> str:
    """Our column's name, made different from the file's own if the file has one like it."""
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    return candidate


def report_values(*, job: ImportJob, can_view_pii: bool) -> RowValues:
    """A function giving a stored row's values as this reader may see them."""
    if can_view_pii:
        return lambda values: dict(values) if isinstance(values, Mapping) else {}
    return _Masker(job)


class _Masker:
    """Masks one row's values by what each column feeds; a column is classified once."""

    def __init__(self, job: ImportJob) -> None:
        self.resource = job.resource
        self.explicit = dict(job.mapping or {})
        self.definitions = definitions_for(ENTITY_OF_RESOURCE[job.resource], include_archived=True)
        self.by_target: dict[str, CustomField] = {
            f"{CUSTOM_PREFIX}{definition.name}": definition for definition in self.definitions
        }
        self.rules: dict[str, Callable[[Any], Any]] = {}

    def __call__(self, values: Mapping[str, Any] | None) -> dict[str, Any]:
        if not isinstance(values, Mapping):
            return {}
        return {name: self._rule(name)(value) for name, value in values.items()}

    def _rule(self, name: str) -> Callable[[Any], Any]:
        rule = self.rules.get(name)
        if rule is None:
            rule = self.rules[name] = self._classify(name)
        return rule

    def _classify(self, name: str) -> Callable[[Any], Any]:
        target = self._target(name)
        kind = _PII_KIND_OF_TARGET.get(target or "", target)
        if kind in pii.PII_FIELDS:
            return _masked_by(lambda text: pii.masked(kind, text))
        definition = self.by_target.get(target or "")
        if definition is not None and definition.pii:
            return _masked_by(lambda text: mask(definition, text))
        return _shown if target else _masked_by(lambda text: HIDDEN)

    def _target(self, name: str) -> str | None:
        """The field this column feeds, by the job's mapping or the names people use; a column
        that lost to another for the same field (a second email column) still counts as it."""
        try:
            mapping = resolve_mapping(
                resource=self.resource,
                headers=[name],
                definitions=self.definitions,
                explicit={name: self.explicit[name]} if name in self.explicit else None,
            )
        except ValidationError:
            return None
        return mapping.targets.get(name)


def _shown(value: Any) -> Any:
    return value


def _masked_by(masker: Callable[[str], str | None]) -> Callable[[Any], Any]:
    def masked(value: Any) -> Any:
        if value is None or value == "":
            return value
        return masker(value) if isinstance(value, str) else HIDDEN

    return masked


def _lines(
    queryset, names: list[str], columns: list, shown: RowValues, *, bom: bool, delimiter: str
) -> Iterator[bytes]:
    """One line per rejected row: the row's problems are consecutive (ordered by row number)
    and joined into one cell."""
    sink = TextPieces()
    rows = queryset.values_list("row_number", "field", "message", "values")
    with open_writer(sink, FileFormat.CSV, columns=columns, bom=bom, delimiter=delimiter) as out:
        current: dict[str, Any] | None = None
        problems: list[str] = []
        for row_number, field, message, values in rows.iterator(chunk_size=2000):
            if current is not None and current["row"] != row_number:
                out.write({**current, "errors": _PROBLEM_SEPARATOR.join(problems)})
                current, problems = None, []
                if sink.pieces:  # the writer flushes every 64 KiB
                    yield sink.drain()
            if current is None or not any(current[f"value{i}"] for i in range(len(names))):
                values = shown(values)
                current = {"row": row_number}
                current.update({f"value{i}": values.get(name) for i, name in enumerate(names)})
            problems.append(f"{field}: {message}" if field else message)
        if current is not None:
            out.write({**current, "errors": _PROBLEM_SEPARATOR.join(problems)})
    yield sink.drain()


def created_related(records: Iterable[ImportCreatedRecord]) -> list[dict[str, Any]]:
    """The related records a job created (``create_related``), as its report lists them: the
    entity, the id, the first row that named it and, for a company, its name as it is now (one
    query for the page). A contact is listed by id only: all it was created with is an email,
    which is personal data."""
    records = list(records)
    company_ids = [r.record_id for r in records if r.entity == ImportCreatedRecord.Entity.COMPANY]
    names = dict(Company.objects.filter(pk__in=company_ids).values_list("pk", "name"))
    return [
        {
            "entity": record.entity,
            "id": record.record_id,
            "row": record.row_number,
            "name": names.get(record.record_id, "") if record.entity == "company" else "",
        }
        for record in records
    ]
