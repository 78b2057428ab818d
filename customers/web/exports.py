"""'Export selected' for companies and deals: the API's CSV columns and cell rules, streamed."""

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from customers import pii
from customers.api.csv_cells import csv_header_line, csv_row_line
from customers.custom_fields.values import definitions_for


def csv_export(
    request: HttpRequest,
    selected: QuerySet,
    *,
    rows: Callable[..., Iterator[dict[str, Any]]],
    base_columns: list,
    entity: str,
    filename: str,
) -> StreamingHttpResponse:
    definitions = definitions_for(entity)
    columns = [*base_columns, *((f"custom_fields.{d.name}", d.name) for d in definitions)]
    records = rows(
        selected.order_by("pk"),
        can_view_pii=pii.can_view_pii(request.user),
        definitions=definitions,
    )

    def lines() -> Iterator[bytes]:
        yield csv_header_line(columns).encode()
        for record in records:
            yield csv_row_line(record, columns).encode()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
