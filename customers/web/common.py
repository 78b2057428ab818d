"""What every screen shares: permission checks, list pages, custom field values, activities."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from customers import pii
from customers.actors import Actor
from customers.custom_fields import form_fields
from customers.custom_fields.values import definitions_for, plain_values
from customers.models import Activity, CustomField
from customers.services import activities
from customers.web import listing
from customers.web.filters import ListFilterForm
from customers.web.forms import ActivityInputForm, apply_errors, submit

LIST_CUSTOM_COLUMNS = 3  # custom fields shown as list columns (the first by position)
TIMELINE_LENGTH = 50
SEARCH_MATCH_CAP = 2000  # matches a search pages through; more asks for a narrower search


def requires(permission: str) -> Callable:
    """Signed in (else to the login page) and holding `customers.<permission>` (else 403)."""

    def decorate(view: Callable) -> Callable:
        @login_required
        @wraps(view)
        def guarded(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not request.user.has_perm(f"customers.{permission}"):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def list_page(
    request: HttpRequest,
    *,
    queryset: QuerySet,
    form_class: type[ListFilterForm],
    search: Callable[..., QuerySet],
    entity: str,
    template: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    definitions = definitions_for(entity)
    form = form_class(request.GET, user=request.user, definitions=definitions)
    queryset = form.filter(queryset)
    search_capped = False
    can_view_pii = pii.can_view_pii(request.user)
    if form.values.get("q"):
        try:
            queryset, search_capped = _search_matches(
                queryset, search, form.values["q"], actor=form.actor
            )
        except ValidationError as error:  # an exact PII search by someone who may not
            apply_errors(form, error)
            queryset = queryset.none()
    try:
        page = listing.paginate(
            queryset,
            sort=form.chosen_sort,
            after=request.GET.get("after", ""),
            before=request.GET.get("before", ""),
            size=listing.PAGE_SIZE,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        page = listing.paginate(queryset, sort=form.chosen_sort)
    columns = [d for d in definitions if d.type != CustomField.Type.LONG_TEXT][:LIST_CUSTOM_COLUMNS]
    for row in page.rows:
        values = plain_values(row.custom_fields, columns, can_view_pii=can_view_pii)
        row.custom_cells = [values.get(d.name) for d in columns]
    context = {
        "form": form,
        "page": page,
        "custom_columns": [form_fields.label(d) for d in columns],
        "can_view_pii": can_view_pii,
        "search_capped": search_capped,
        "search_cap": SEARCH_MATCH_CAP,
        **(extra or {}),
    }
    return render(request, template, context)


def _search_matches(
    queryset: QuerySet, search: Callable[..., QuerySet], term: str, *, actor: Actor
) -> tuple[QuerySet, bool]:
    """The first SEARCH_MATCH_CAP matches in table order, then sorted and paged. Walking a
    name index until a page of rare substring matches turns up read 200k rows at a million
    contacts (1.6 s); collecting matches in table order stops as soon as there are enough."""
    ids = list(
        search(queryset, term, actor=actor)
        .order_by()
        .values_list("pk", flat=True)[: SEARCH_MATCH_CAP + 1]
    )
    return queryset.filter(pk__in=ids[:SEARCH_MATCH_CAP]), len(ids) > SEARCH_MATCH_CAP


def custom_values(record, entity: str, user) -> list[tuple[str, Any]]:
    """(label, value) of every active custom field, PII masked for users without view_pii."""
    definitions = definitions_for(entity)
    values = plain_values(record.custom_fields, definitions, can_view_pii=pii.can_view_pii(user))
    return [(form_fields.label(d), values.get(d.name)) for d in definitions]


def timeline(**link) -> list[Activity]:
    return list(
        Activity.objects.filter(**link)
        .select_related("author", "contact", "deal")
        .order_by("-created_at", "-id")[:TIMELINE_LENGTH]
    )


def log_activity(
    request: HttpRequest,
    *,
    link: dict[str, Any],
    redirect_to: str,
    render_detail: Callable[[ActivityInputForm], HttpResponse],
) -> HttpResponse:
    """Log a call, note or meeting on a record. With htmx only the activity panel comes back;
    without JavaScript the page reloads. Bad input shows the form again with its errors."""
    form = ActivityInputForm(request.POST)
    logged = submit(
        form,
        lambda data: activities.activity_create(
            actor=Actor.for_request(request), **data, **link, author=request.user
        ),
    )
    if logged is not None:
        if is_htmx(request):
            key, record = next(iter(link.items()))
            return render(
                request,
                "web/_activity_panel.html",
                {
                    "activity_form": ActivityInputForm(),
                    "activities": timeline(**{key: record}),
                    "activity_url": request.path,
                    "logged": True,
                },
            )
        messages.success(request, _("Activity logged."))
        return redirect(redirect_to)
    if is_htmx(request):
        key, record = next(iter(link.items()))
        return render(
            request,
            "web/_activity_panel.html",
            {
                "activity_form": form,
                "activities": timeline(**{key: record}),
                "activity_url": request.path,
            },
        )  # 200: htmx swaps only successful responses, and the errors are in the panel
    response = render_detail(form)
    response.status_code = 422
    return response
