"""Contacts: the list (search, filters, sorting, keyset pages, bulk actions), detail, edit."""

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from customers import pii, representation, selectors
from customers.actors import Actor
from customers.custom_fields.values import definitions_for
from customers.export_response import stream_contacts
from customers.models import Contact, CustomField
from customers.services import contacts
from customers.web import common, records, search
from customers.web.filters import ContactFilterForm
from customers.web.forms import ActivityInputForm, BulkActionForm, ContactInputForm

ENTITY = CustomField.Entity.CONTACT


@common.requires("view_contact")
def contact_list(request: HttpRequest) -> HttpResponse:
    return common.list_page(
        request,
        queryset=selectors.contact_list(),
        form_class=ContactFilterForm,
        search=search.contact_search,
        entity=ENTITY,
        template="web/contacts/list.html",
        extra={"bulk_form": BulkActionForm()},
    )


@common.requires("view_contact")
def contact_detail(
    request: HttpRequest, pk: int, activity_form: ActivityInputForm | None = None
) -> HttpResponse:
    contact = get_object_or_404(selectors.contact_list(), pk=pk)
    context = {
        "contact": contact,
        "can_view_pii": pii.can_view_pii(request.user),
        "custom_values": common.custom_values(contact, ENTITY, request.user),
        "deals": list(selectors.deal_list().filter(primary_contact=contact)[:50]),
        "activities": common.timeline(contact=contact),
        "activity_form": activity_form or ActivityInputForm(),
        "activity_url": reverse("web:contact-log-activity", args=[contact.pk]),
    }
    return render(request, "web/contacts/detail.html", context)


@common.requires("add_activity")
@require_POST
def contact_log_activity(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact, pk=pk)
    return common.log_activity(
        request,
        link={"contact": contact},
        redirect_to=reverse("web:contact-detail", args=[pk]),
        render_detail=lambda form: contact_detail(request, pk, activity_form=form),
    )


@common.requires("add_contact")
def contact_create(request: HttpRequest) -> HttpResponse:
    initial = {"owner": request.user.pk}
    if request.GET.get("company", "").isdigit():
        initial["company"] = int(request.GET["company"])
    return records.edit_page(
        request,
        form_class=ContactInputForm,
        instance=None,
        save=lambda data: contacts.contact_create(actor=Actor.for_request(request), **data),
        template="web/record_form.html",
        success_message=_("Contact created."),
        extra={"heading": _("New contact"), "cancel_url": reverse("web:contact-list")},
        detail_url="web:contact-detail",
        initial=initial,
    )


@common.requires("change_contact")
def contact_edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(selectors.contact_list(), pk=pk)
    return records.edit_page(
        request,
        form_class=ContactInputForm,
        instance=contact,
        save=lambda data: contacts.contact_update(
            actor=Actor.for_request(request), contact=contact, data=data
        ),
        template="web/record_form.html",
        success_message=_("Contact saved."),
        extra={
            "heading": _("Edit %(name)s") % {"name": contact},
            "cancel_url": reverse("web:contact-detail", args=[pk]),
        },
        detail_url="web:contact-detail",
    )


@common.requires("view_contact")
@require_POST
def contact_bulk(request: HttpRequest) -> HttpResponse:
    return records.bulk_action(
        request,
        queryset=selectors.contact_list(),
        update=lambda contact, data: contacts.contact_update(
            actor=Actor.for_request(request), contact=contact, data=data
        ),
        export=lambda selected: _export(request, selected),
        back=reverse("web:contact-list"),
    )


def _export(request: HttpRequest, selected: QuerySet) -> HttpResponse:
    """The API's streaming CSV (same columns, formula cells neutralised), PII as the user may
    see it."""
    definitions = definitions_for(ENTITY)
    columns = representation.CONTACT.csv_columns(definitions)
    return stream_contacts(
        selected.order_by("pk"),
        export_format="csv",
        can_view_pii=pii.can_view_pii(request.user),
        columns=columns,
        definitions=definitions,
        bom=True,  # a person's file: with the mark Excel needs for Chinese
    )
