"""Create and edit through the services, with their errors next to the fields; bulk actions."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.web.forms import BulkActionForm, ServiceForm, submit


def edit_page(
    request: HttpRequest,
    *,
    form_class: type[ServiceForm],
    instance: Model | None,
    save: Callable[[dict[str, Any]], Model],
    template: str,
    success_message: str,
    detail_url: str,
    initial: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """GET shows the form; POST saves through `save` (a service call) or shows every error at
    once (see `forms.submit`). The service runs in one transaction, so a refused record leaves
    nothing half-saved."""
    if request.method == "POST":
        form = form_class(request.POST, user=request.user, instance=instance)
        record = submit(form, save)
        if record is not None:
            messages.success(request, success_message)
            return redirect(detail_url, record.pk)
    else:
        form = form_class(user=request.user, instance=instance, initial=initial)
    status = 422 if form.is_bound else 200
    context = {"form": form, "instance": instance, **(extra or {})}
    return render(request, template, context, status=status)


def bulk_action(
    request: HttpRequest,
    *,
    queryset: QuerySet,
    update: Callable[[Model, dict[str, Any]], Model],
    export: Callable[[QuerySet], HttpResponse],
    back: str,
) -> HttpResponse:
    """Assign an owner or add a tag to every selected row in one transaction (all or none),
    or export them. Each row is written by its service, as one edit would be."""
    form = BulkActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _bulk_errors(form))
        return redirect(back)
    selected = queryset.filter(pk__in=form.cleaned_data["ids"])
    action = form.cleaned_data["action"]
    if action == "export":
        return export(selected)
    model = queryset.model
    if not request.user.has_perm(f"{model._meta.app_label}.change_{model._meta.model_name}"):
        raise PermissionDenied
    records = list(selected.prefetch_related("tags"))
    try:
        with transaction.atomic():
            for record in records:
                if action == "assign_owner":
                    update(record, {"owner": form.cleaned_data["owner"]})
                else:
                    names = [tag.name for tag in record.tags.all()]
                    update(record, {"tags": [*names, form.cleaned_data["tag"].strip()]})
    except ValidationError as error:
        messages.error(
            request,
            _("Nothing was changed: %(error)s") % {"error": " ".join(error.messages)},
        )
        return redirect(back)
    messages.success(
        request,
        ngettext("%(count)d record updated.", "%(count)d records updated.", len(records))
        % {"count": len(records)},
    )
    return redirect(back)


def _bulk_errors(form: BulkActionForm) -> str:
    return " ".join(str(message) for errors in form.errors.values() for message in errors)
