"""Export the list a user is looking at: `/exports/<resource>/?format=csv|json|xml` with the
list page's own filter parameters (and `ids=1,2,3` for the selected rows only), streamed.

Contacts go through the streaming export (`customers.export_response`), companies and deals
through the bulk export writers (`integrations.formats`): the same rows, columns and cell rules
as the REST API's exports, so a file imports back unchanged. PII is decrypted only for users
who may read it. A CSV starts with the byte-order mark a spreadsheet needs (`?bom=false`
leaves it out: `customers.export_response.wants_bom`).
"""

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from customers import representation, selectors
from customers.custom_fields.values import definitions_for
from customers.export_response import CONTENT_TYPES, stream_contacts, wants_bom
from customers.models import CustomField
from customers.representation import Entity, export_rows
from customers.web import search
from customers.web.filters import (
    CompanyFilterForm,
    ContactFilterForm,
    DealFilterForm,
    ListFilterForm,
)
from integrations.formats import open_writer
from integrations.formats.writers import TextPieces
from integrations.models import FileFormat


@dataclass(frozen=True)
class _Exported:
    entity: str
    permission: str
    selector: Callable[[], QuerySet]
    form: type[ListFilterForm]
    search: Callable[..., QuerySet]
    rows: Callable[..., Iterator[dict[str, Any]]]
    shape: Entity


_RESOURCES = {
    "contacts": _Exported(
        CustomField.Entity.CONTACT,
        "customers.view_contact",
        selectors.contact_list,
        ContactFilterForm,
        search.contact_search,
        export_rows.contact_rows,
        representation.CONTACT,
    ),
    "companies": _Exported(
        CustomField.Entity.COMPANY,
        "customers.view_company",
        selectors.company_list,
        CompanyFilterForm,
        search.company_search,
        export_rows.company_rows,
        representation.COMPANY,
    ),
    "deals": _Exported(
        CustomField.Entity.DEAL,
        "customers.view_deal",
        selectors.deal_list,
        DealFilterForm,
        search.deal_search,
        export_rows.deal_rows,
        representation.DEAL,
    ),
}


@login_required
@require_GET
def export_list(request: HttpRequest, resource: str) -> HttpResponse:
    exported = _RESOURCES.get(resource)
    if exported is None:
        raise Http404("No such list.")
    if not request.user.has_perm(exported.permission):
        raise PermissionDenied
    export_format = request.GET.get("format", FileFormat.CSV)
    if export_format not in FileFormat.values:
        return _bad_request(_("Choose CSV, JSON or XML."))
    try:
        ids = _ids(request.GET.getlist("ids"))
    except ValueError:
        return _bad_request(_("The selection is not a list of record numbers."))
    try:
        bom = wants_bom(request) and export_format == FileFormat.CSV
    except ValidationError as error:
        return _bad_request(" ".join(error.messages))

    definitions = definitions_for(exported.entity)
    form = exported.form(request.GET, user=request.user, definitions=definitions)
    queryset = form.filter(exported.selector())
    if form.errors:  # a filter the list would ignore must not widen an export to everything
        problems = [str(m) for messages in form.errors.values() for m in messages]
        return _bad_request(_("Fix the filters first: %(errors)s") % {"errors": " ".join(problems)})
    can_view_pii = form.actor.may_read_pii
    if form.cleaned_data.get("q"):
        try:
            queryset = exported.search(queryset, form.cleaned_data["q"], actor=form.actor)
        except ValidationError as error:  # an exact PII search by someone who may not
            return _bad_request(" ".join(error.messages))
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)

    columns = exported.shape.csv_columns(definitions)
    if resource == "contacts":
        return stream_contacts(
            queryset,
            export_format=export_format,
            can_view_pii=can_view_pii,
            columns=columns,
            definitions=definitions,
            bom=bom,
        )
    rows = exported.rows(queryset, can_view_pii=can_view_pii, definitions=definitions)
    response = StreamingHttpResponse(
        encoded(rows, export_format, columns, bom=bom), content_type=CONTENT_TYPES[export_format]
    )
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{resource}-{stamp}.{export_format}"'
    return response


def _ids(values: list[str]) -> list[int] | None:
    """`ids=1,2,3` or `ids=1&ids=2`; None when the whole filtered list is wanted."""
    if not values:
        return None
    return [int(part) for value in values for part in value.split(",") if part.strip()]


def encoded(
    rows: Iterable[dict[str, Any]], export_format: str, columns: list, *, bom: bool = False
) -> Iterator[bytes]:
    """The records as a streamed document; `bom` (CSV) starts it with the byte-order mark."""
    sink = TextPieces()
    options = {"columns": columns, "bom": bom} if export_format == FileFormat.CSV else {}
    with open_writer(sink, export_format, **options) as writer:
        for row in rows:
            writer.write(row)
            if sink.pieces:  # the writer flushes its own buffer every 64 KiB
                yield sink.drain()
    yield sink.drain()


def _bad_request(message: str) -> HttpResponse:
    return HttpResponse(message, status=400, content_type="text/plain; charset=utf-8")
