"""Deals: list, detail, edit, bulk actions, and moving a deal to another stage."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import pii, representation, selectors
from customers.actors import Actor
from customers.models import CustomField, Deal
from customers.representation.export_rows import deal_rows
from customers.services import deals
from customers.web import board, common, exports, records, search
from customers.web.filters import DealFilterForm
from customers.web.forms import ActivityInputForm, BulkActionForm, DealInputForm

ENTITY = CustomField.Entity.DEAL


@common.requires("view_deal")
def deal_list(request: HttpRequest) -> HttpResponse:
    return common.list_page(
        request,
        queryset=selectors.deal_list(),
        form_class=DealFilterForm,
        search=search.deal_search,
        entity=ENTITY,
        template="web/deals/list.html",
        extra={"bulk_form": BulkActionForm()},
    )


@common.requires("view_deal")
def deal_detail(
    request: HttpRequest, pk: int, activity_form: ActivityInputForm | None = None
) -> HttpResponse:
    deal = get_object_or_404(selectors.deal_list(), pk=pk)
    context = {
        "deal": deal,
        "can_view_pii": pii.can_view_pii(request.user),
        "custom_values": common.custom_values(deal, ENTITY, request.user),
        "stages": list(deal.stage.pipeline.stages.order_by("position", "id")),
        "activities": common.timeline(deal=deal),
        "activity_form": activity_form or ActivityInputForm(),
        "activity_url": reverse("web:deal-log-activity", args=[deal.pk]),
    }
    return render(request, "web/deals/detail.html", context)


@common.requires("add_activity")
@require_POST
def deal_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(Deal, pk=pk)
    return common.log_activity(
        request,
        link={"deal": deal},
        redirect_to=reverse("web:deal-detail", args=[pk]),
        render_detail=lambda form: deal_detail(request, pk, activity_form=form),
    )


@common.requires("add_deal")
def deal_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user.pk, "amount": "0", "currency": _default_currency()}
    for name in ("company", "primary_contact"):
        if request.GET.get(name, "").isdigit():
            initial[name] = int(request.GET[name])
    pipeline = selectors.default_pipeline()
    first = selectors.first_stage(pipeline=pipeline) if pipeline else None
    if first:
        initial["stage"] = first.pk
    return records.edit_page(
        request,
        form_class=DealInputForm,
        instance=None,
        save=lambda data: deals.deal_create(actor=Actor.for_request(request), **data),
        template="web/record_form.html",
        success_message=_("Deal created."),
        extra={"heading": _("New deal"), "cancel_url": reverse("web:deal-list")},
        detail_url="web:deal-detail",
        initial=initial,
    )


@common.requires("change_deal")
def deal_edit(request: HttpRequest, pk: int) -> HttpResponse:
    deal = get_object_or_404(selectors.deal_list(), pk=pk)
    return records.edit_page(
        request,
        form_class=DealInputForm,
        instance=deal,
        save=lambda data: deals.deal_update(actor=Actor.for_request(request), deal=deal, data=data),
        template="web/record_form.html",
        success_message=_("Deal saved."),
        extra={
            "heading": _("Edit %(name)s") % {"name": deal.name},
            "cancel_url": reverse("web:deal-detail", args=[pk]),
        },
        detail_url="web:deal-detail",
    )


@common.requires("change_deal")
@require_POST
def deal_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a deal to a stage through the same service (and rules) as the API. Answers JSON to
    the board's script, or redirects back for a plain form post."""
    deal = get_object_or_404(Deal.objects.select_related("stage__pipeline"), pk=pk)
    wants_json = "application/json" in request.headers.get("Accept", "")
    try:
        deal = deals.deal_move_to_stage(
            actor=Actor.for_request(request), deal=deal, stage=request.POST.get("stage", "")
        )
    except ValidationError as error:
        message = _("The deal was not moved: %(error)s") % {"error": " ".join(error.messages)}
        if wants_json:
            return JsonResponse({"message": message}, status=400)
        messages.error(request, message)
        return redirect(_back(request))
    message = _("“%(deal)s” moved to %(stage)s.") % {"deal": deal.name, "stage": deal.stage.name}
    if wants_json:
        columns = board.column_totals(deal.stage.pipeline)
        return JsonResponse({"message": message, "columns": columns})
    messages.success(request, message)
    return redirect(_back(request))


@common.requires("view_deal")
@require_POST
def deal_bulk(request: HttpRequest) -> HttpResponse:
    return records.bulk_action(
        request,
        queryset=selectors.deal_list(),
        update=lambda deal, data: deals.deal_update(
            actor=Actor.for_request(request), deal=deal, data=data
        ),
        export=lambda selected: exports.csv_export(
            request,
            selected,
            rows=deal_rows,
            base_columns=representation.DEAL.csv_columns(),
            entity=ENTITY,
            filename="deals",
        ),
        back=reverse("web:deal-list"),
    )


def _back(request: HttpRequest) -> str:
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return reverse("web:deal-board")


def _default_currency() -> str:
    return settings.DEFAULT_CURRENCY
