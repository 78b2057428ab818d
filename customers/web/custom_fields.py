"""Custom field settings (managers): define, edit, archive, restore and delete the fields of
contacts, companies and deals, all through `customers.services.custom_fields`."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from customers.actors import Actor
from customers.models import CustomField
from customers.services import custom_fields as services
from customers.web.custom_field_forms import CustomFieldInputForm
from customers.web.exchange_common import requires_perm
from customers.web.forms import submit

MANAGE = "customers.change_customfield"
# What the service needs of a new field: blank where the form refused the input, so that the
# service still names what else is wrong (the form's own message stays on the blank field).
_BLANK_DEFINITION = {"entity": "", "name": "", "label": "", "type": ""}


@requires_perm(MANAGE)
def custom_field_list(request: HttpRequest) -> HttpResponse:
    fields = CustomField.objects.order_by("entity", "position", "id")
    groups = [
        (label, [field for field in fields if field.entity == entity])
        for entity, label in CustomField.Entity.choices
    ]
    return render(request, "web/custom_fields/list.html", {"groups": groups})


@requires_perm("customers.add_customfield")
def custom_field_new(request: HttpRequest) -> HttpResponse:
    initial = {"entity": request.GET.get("entity", "")}
    form = CustomFieldInputForm(request.POST or None, initial=initial)
    if request.method == "POST":
        field = submit(
            form,
            lambda data: services.custom_field_create(
                actor=Actor.for_request(request), **{**_BLANK_DEFINITION, **data}
            ),
        )
        if field is not None:
            messages.success(
                request, _("The field “%(label)s” was added.") % {"label": field.label}
            )
            return redirect("web:custom-field-list")
    status = 422 if form.is_bound else 200
    return render(request, "web/custom_fields/form.html", {"form": form}, status=status)


@requires_perm(MANAGE)
def custom_field_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A type or choice change that stored values would not survive is refused by the service
    with the number of records in the way; it shows next to the field and nothing changes."""
    field = get_object_or_404(CustomField, pk=pk)
    form = CustomFieldInputForm(request.POST or None, instance=field)
    if request.method == "POST":
        saved = submit(
            form,
            lambda data: services.custom_field_update(
                actor=Actor.for_request(request), field=field, data=data
            ),
        )
        if saved is not None:
            messages.success(
                request, _("The field “%(label)s” was saved.") % {"label": field.label}
            )
            return redirect("web:custom-field-list")
    field.refresh_from_db()  # a refused update leaves its values on the instance
    context = {"form": form, "field": field}
    status = 422 if form.is_bound else 200
    return render(request, "web/custom_fields/form.html", context, status=status)


@requires_perm(MANAGE)
@require_POST
def custom_field_archive(request: HttpRequest, pk: int) -> HttpResponse:
    field = services.custom_field_archive(
        actor=Actor.for_request(request), field=get_object_or_404(CustomField, pk=pk)
    )
    messages.success(
        request, _("“%(label)s” is archived: hidden, its values kept.") % {"label": field.label}
    )
    return redirect("web:custom-field-list")


@requires_perm(MANAGE)
@require_POST
def custom_field_restore(request: HttpRequest, pk: int) -> HttpResponse:
    field = services.custom_field_restore(
        actor=Actor.for_request(request), field=get_object_or_404(CustomField, pk=pk)
    )
    messages.success(request, _("“%(label)s” is back in use.") % {"label": field.label})
    return redirect("web:custom-field-list")


@requires_perm("customers.delete_customfield")
def custom_field_delete(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks, saying how many stored values would go; POST deletes, and needs the purge box
    ticked when values exist (the service refuses otherwise)."""
    field = get_object_or_404(CustomField, pk=pk)
    error = ""
    if request.method == "POST":
        try:
            purged = services.custom_field_delete(
                actor=Actor.for_request(request), field=field, purge=bool(request.POST.get("purge"))
            )
        except ValidationError:
            error = _("Tick the box to delete the stored values too.")
        else:
            messages.success(
                request,
                ngettext(
                    "The field was deleted with %(count)d stored value.",
                    "The field was deleted with %(count)d stored values.",
                    purged,
                )
                % {"count": purged},
            )
            return redirect("web:custom-field-list")
    context = {"field": field, "holding": services.count_values(field), "error": error}
    return render(request, "web/custom_fields/delete.html", context, status=422 if error else 200)
