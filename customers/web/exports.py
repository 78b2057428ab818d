"""'Export selected' for companies and deals: the API's CSV columns and cell rules, streamed,
with the byte-order mark a spreadsheet needs (a person clicked it: always)."""

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.utils import timezone

from customers import pii
from customers.custom_fields.values import definitions_for
from customers.export_response import CONTENT_TYPES
from customers.web.list_export import encoded


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
    content = encoded(records, "csv", columns, bom=True)
    response = StreamingHttpResponse(content, content_type=CONTENT_TYPES["csv"])
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{filename}-{stamp}.csv"'
    return response
