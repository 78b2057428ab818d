"""An import job's error report as CSV: every rejected row with the file's own values, shared by
the REST and the web doors so both hand out the same file."""

from collections.abc import Iterator

from customers.api.csv_cells import csv_header_line, csv_row_line
from integrations.models import ImportJob, ImportRowError
from integrations.services.import_mapping import report_column_order


def import_error_report_filename(job: ImportJob) -> str:
    return f"import-{job.pk}-errors.csv"


def import_error_report_csv(*, job: ImportJob) -> Iterator[bytes]:
    """Row, field, message, then a column per value the rows carried, headed by the file's own
    column name (so a corrected file imports as it is). The columns are read now, the rows as
    the response streams them: memory stays flat."""
    queryset = ImportRowError.objects.filter(job=job)
    names = report_column_order(
        resource=job.resource, headers=_value_names(queryset), explicit=job.mapping
    )
    # Values go under positional paths: a name may contain dots (custom_fields.tier).
    columns = ["row", "field", "message", *((f"value{i}", name) for i, name in enumerate(names))]
    return _lines(queryset, names, columns)


def _lines(queryset, names: list[str], columns: list) -> Iterator[bytes]:
    yield csv_header_line(columns).encode()
    rows = queryset.order_by("row_number", "id").values_list(
        "row_number", "field", "message", "values"
    )
    for row_number, field, message, values in rows.iterator(chunk_size=2000):
        record = {"row": row_number, "field": field, "message": message}
        values = values if isinstance(values, dict) else {}
        record.update({f"value{i}": values.get(name) for i, name in enumerate(names)})
        yield csv_row_line(record, columns).encode()


def _value_names(queryset) -> Iterator[str]:
    for values in queryset.order_by("row_number", "id").values_list("values", flat=True):
        if isinstance(values, dict):
            yield from values
