"""Companies: list, detail (its people, deals and timeline), edit, bulk actions."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import pii, representation, selectors
from customers.actors import Actor
from customers.models import Company, CustomField
from customers.representation.export_rows import company_rows
from customers.services import companies
from customers.web import common, exports, listing, records, search
from customers.web.filters import CompanyFilterForm
from customers.web.forms import ActivityInputForm, BulkActionForm, CompanyInputForm

ENTITY = CustomField.Entity.COMPANY
PEOPLE_SHOWN = 50


@common.requires("view_company")
def company_list(request: HttpRequest) -> HttpResponse:
    return common.list_page(
        request,
        queryset=selectors.company_list(),
        form_class=CompanyFilterForm,
        search=search.company_search,
        entity=ENTITY,
        template="web/companies/list.html",
        extra={"bulk_form": BulkActionForm()},
    )


@common.requires("view_company")
def company_detail(
    request: HttpRequest, pk: int, activity_form: ActivityInputForm | None = None
) -> HttpResponse:
    company = get_object_or_404(selectors.company_list(), pk=pk)
    actor = Actor.for_request(request)
    people = (
        selectors.contact_list(actor=actor)
        .filter(company=company)
        .order_by("last_name", "first_name", "id")
    )
    context = {
        "company": company,
        "can_view_pii": pii.can_view_pii(request.user),
        "custom_values": common.custom_values(company, ENTITY, request.user),
        "contacts": list(people[:PEOPLE_SHOWN]),
        "contact_count": people.order_by()[: listing.COUNT_CAP + 1].count(),
        "count_cap": listing.COUNT_CAP,
        "deals": list(selectors.deal_list(actor=actor).filter(company=company)[:50]),
        "activities": common.timeline(company=company),
        "activity_form": activity_form or ActivityInputForm(),
        "activity_url": reverse("web:company-log-activity", args=[company.pk]),
    }
    return render(request, "web/companies/detail.html", context)


@common.requires("add_activity")
@require_POST
def company_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(Company, pk=pk)
    return common.log_activity(
        request,
        link={"company": company},
        redirect_to=reverse("web:company-detail", args=[pk]),
        render_detail=lambda form: company_detail(request, pk, activity_form=form),
    )


@common.requires("add_company")
def company_create(request: HttpRequest) -> HttpResponse:
    return records.edit_page(
        request,
        form_class=CompanyInputForm,
        instance=None,
        save=lambda data: companies.company_create(actor=Actor.for_request(request), **data),
        template="web/record_form.html",
        success_message=_("Company created."),
        extra={"heading": _("New company"), "cancel_url": reverse("web:company-list")},
        detail_url="web:company-detail",
        initial={"owner": request.user.pk},
    )


@common.requires("change_company")
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = get_object_or_404(selectors.company_list(), pk=pk)
    return records.edit_page(
        request,
        form_class=CompanyInputForm,
        instance=company,
        save=lambda data: companies.company_update(
            actor=Actor.for_request(request), company=company, data=data
        ),
        template="web/record_form.html",
        success_message=_("Company saved."),
        extra={
            "heading": _("Edit %(name)s") % {"name": company.name},
            "cancel_url": reverse("web:company-detail", args=[pk]),
        },
        detail_url="web:company-detail",
    )


@common.requires("view_company")
@require_POST
def company_bulk(request: HttpRequest) -> HttpResponse:
    return records.bulk_action(
        request,
        queryset=selectors.company_list(),
        update=lambda company, data: companies.company_update(
            actor=Actor.for_request(request), company=company, data=data
        ),
        export=lambda selected: exports.csv_export(
            request,
            selected,
            rows=company_rows,
            base_columns=representation.COMPANY.csv_columns(),
            entity=ENTITY,
            filename="companies",
        ),
        back=reverse("web:company-list"),
    )
