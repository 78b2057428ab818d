"""Building blocks for the customers admin: forms and admins that write through the services,
personal data shown only to those allowed to read it, and search over the blind indexes."""

import copy
import re
from collections.abc import Callable, Iterable, Sequence
from functools import partial, reduce
from operator import or_
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import (
    NON_FIELD_ERRORS,
    FieldDoesNotExist,
    ImproperlyConfigured,
    ValidationError,
)
from django.db import models, router, transaction
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from customers import crypto, pii
from customers.actors import Actor, Door
from customers.validators import validate_phone

Writer = Callable[[models.Model, dict[str, Any]], models.Model]


class _DryRun(Exception):
    """Raised inside the validation savepoint so that the service's writes are rolled back."""


class ServiceModelForm(forms.ModelForm):
    """A ModelForm whose validation and whose save both go through a write service.

    A plain ModelForm validates by copying its input onto the instance and calling
    ``full_clean()``. The services check more than the model can (the blind index behind a
    unique email, tag names, a deal's status following its stage), so ``_post_clean`` instead
    runs the service inside a savepoint that is always rolled back: the form's errors are
    exactly the service's errors, shown next to the fields, and nothing is written. The
    instance stays untouched until ``save()`` runs the service for real (the admin's
    ``save_model``), so the service still sees which values change. ``write`` is attached by
    ``ServiceModelAdmin.get_form``.
    """

    write: Writer

    def service_data(self) -> dict[str, Any]:
        """The service's input: every field when adding, only the changed ones when editing,
        so a change never rewrites values the user did not touch. Tags go by name."""
        names = self.fields if self.instance._state.adding else self.changed_data
        data = {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}
        if "tags" in data:
            data["tags"] = [tag.name for tag in data["tags"]]
        return data

    def _post_clean(self) -> None:
        if self._errors:
            return  # a service run on partial input would only add misleading errors
        using = router.db_for_write(self._meta.model)
        try:
            with transaction.atomic(using=using):
                # A copy: the service assigns onto the instance it is given.
                self.write(copy.copy(self.instance), self.service_data())
                raise _DryRun
        except _DryRun:
            pass
        except ValidationError as error:
            self._add_service_errors(error)

    def _add_service_errors(self, error: ValidationError) -> None:
        for name, field_errors in _error_dict(error).items():
            if name in self.fields:
                self.add_error(name, field_errors)
                continue
            # A rule about a field that is not editable here (hidden PII, a derived status).
            label = "" if name == NON_FIELD_ERRORS else f"{self._label(name)}: "
            messages_ = ValidationError(field_errors).messages
            self.add_error(None, [f"{label}{message}" for message in messages_])

    def _label(self, name: str) -> str:
        try:
            return capfirst(self._meta.model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # a service key that is not a model field ("duplicates")
            return name

    def save(self, commit: bool = True) -> models.Model:
        """``commit=False`` (the admin's ``save_form``) writes nothing; ``commit=True`` runs
        the service, and the instance takes on the saved row (a create returns a new one)."""
        if self.errors:
            raise ValueError("The form did not validate, so it cannot be saved.")
        if commit:
            saved = self.write(self.instance, self.service_data())
            if saved is not self.instance:
                # The admin keeps using its own object (history entry, redirect): adopt the row.
                self.instance.__dict__.update(saved.__dict__)
        return self.instance

    def save_m2m(self) -> None:
        """Tags went to the service with the other fields; writing them again here would be a
        second, unvalidated write."""


def _error_dict(error: ValidationError) -> dict[str, list]:
    if hasattr(error, "error_dict"):
        return error.error_dict
    return {NON_FIELD_ERRORS: error.error_list}


class ServiceModelAdmin(admin.ModelAdmin):
    """A ModelAdmin that reads through a selector and writes only through the services.

    Subclasses implement ``service_create``, ``service_update`` and ``service_delete``.
    """

    form = ServiceModelForm
    #: The selector pages read through (already shaped against N+1); None: the default manager.
    selector: Callable[[], QuerySet] | None = None

    @staticmethod
    def actor(request: HttpRequest) -> Actor:
        """Who the admin's writes are by: the signed-in staff member, through the admin door."""
        return Actor.for_request(request, door=Door.ADMIN)

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> models.Model:
        raise NotImplementedError

    def service_update(
        self, request: HttpRequest, obj: models.Model, data: dict[str, Any]
    ) -> models.Model:
        raise NotImplementedError

    def service_delete(self, request: HttpRequest, obj: models.Model) -> None:
        raise NotImplementedError

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        if self.selector is None:
            return super().get_queryset(request)
        queryset = self.selector()
        ordering = self.get_ordering(request)
        return queryset.order_by(*ordering) if ordering else queryset

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        # modelform_factory built a new class for this request, so the attribute is private to it.
        form_class.write = staticmethod(partial(self._write, request))
        return form_class

    def _write(self, request: HttpRequest, instance: models.Model, data: dict[str, Any]):
        if instance._state.adding:
            return self.service_create(request, data)
        return self.service_update(request, instance, data)

    def save_model(self, request, obj, form, change) -> None:
        form.save()

    def save_related(self, request, form, formsets, change) -> None:
        # No form.save_m2m(): tags were part of the service call in save_model.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)

    def save_formset(self, request, form, formset, change) -> None:
        """Inlines are read-only unless an admin overrides this to save them through a service.

        ``save(commit=False)`` writes nothing; it collects what changed, for the history entry.
        """
        formset.save(commit=False)
        if formset.new_objects or formset.changed_objects or formset.deleted_objects:
            raise ImproperlyConfigured(
                f"{type(self).__name__} has no service to save {formset.model.__name__} inlines."
            )

    def delete_model(self, request, obj) -> None:
        self.service_delete(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic(using=router.db_for_write(self.model)):
            for obj in queryset:
                self.service_delete(request, obj)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        """The form already validated through the service, so a ValidationError here means a
        concurrent change won the race between validation and save; the transaction around
        the view has rolled back, and the user is sent back to the form with the reason."""
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_merge_permission(self, request: HttpRequest) -> bool:
        """A merge rewrites the survivor and deletes the others, so it needs both rights
        (an action's ``permissions`` list is satisfied by any one of them)."""
        return self.has_change_permission(request) and self.has_delete_permission(request)

    def merge_into_oldest(
        self,
        request: HttpRequest,
        queryset: QuerySet,
        merge: Callable[..., models.Model],
    ) -> None:
        """Shared body of the merge actions: the oldest record survives, the others fold in."""
        records = list(queryset.order_by("created_at", "pk"))
        plural = self.model._meta.verbose_name_plural
        if len(records) < 2:
            self.message_user(
                request, _("Select at least two %(items)s to merge.") % {"items": plural}
            )
            return
        primary, *duplicates = records
        try:
            merged = merge(actor=self.actor(request), primary=primary, duplicates=duplicates)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
            return
        names = ", ".join(str(duplicate) for duplicate in duplicates)
        self.log_change(request, merged, f"Merged {names} into this record.")
        self.log_deletions(request, duplicates)
        self.message_user(
            request,
            _("Merged %(count)d %(items)s into “%(primary)s”.")
            % {"count": len(duplicates), "items": plural, "primary": merged},
            messages.SUCCESS,
        )


class PIIAdminMixin:
    """Encrypted personal data shown decrypted only to users with ``customers.view_pii``.

    Everyone else gets masked changelist columns, and on the change form masked read-only
    values in place of the fields, so the plaintext never reaches their browser (not even as
    a form's initial value) and a save never rewrites it. The add form keeps the fields: the
    user is typing the data, and nothing stored is revealed.
    """

    pii_fields: tuple[str, ...] = ()

    def get_list_display(self, request: HttpRequest) -> Sequence:
        shown = pii.can_view_pii(request.user)
        return [
            self._pii_column(name, masked=not shown) if name in self.pii_fields else name
            for name in super().get_list_display(request)
        ]

    def _pii_column(self, name: str, *, masked: bool) -> Callable[[models.Model], Any]:
        def column(obj: models.Model) -> Any:
            value = getattr(obj, name)
            return pii.masked(name, value) if masked else value

        # Not sortable: ordering by ciphertext means nothing.
        description = self.model._meta.get_field(name).verbose_name
        return admin.display(description=description)(column)

    def _hides_pii(self, request: HttpRequest, obj: models.Model | None) -> bool:
        return obj is not None and not pii.can_view_pii(request.user)

    def get_fieldsets(self, request: HttpRequest, obj: models.Model | None = None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._hides_pii(request, obj):
            return fieldsets
        return [
            (title, {**options, "fields": self._masked_names(options["fields"])})
            for title, options in fieldsets
        ]

    def _masked_names(self, fields: Iterable) -> list:
        return [
            self._masked_names(name)
            if isinstance(name, list | tuple)
            else (f"masked_{name}" if name in self.pii_fields else name)
            for name in fields
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None):
        fields = list(super().get_readonly_fields(request, obj))
        if self._hides_pii(request, obj):
            fields += [f"masked_{name}" for name in self.pii_fields]
        return fields

    @admin.display(description=_("email"))
    def masked_email(self, obj: models.Model) -> str | None:
        return pii.mask_email(obj.email)

    @admin.display(description=_("phone"))
    def masked_phone(self, obj: models.Model) -> str | None:
        return pii.mask_phone(obj.phone)

    @admin.display(description=_("address"))
    def masked_address(self, obj: models.Model) -> str | None:
        return pii.mask_address(obj.address)


_EMAIL_LIKE = re.compile(r"[^@\s]+@[^@\s]+")
_MIN_PHONE_DIGITS_TO_SEARCH = 6


def looks_like_email(term: str) -> bool:
    return bool(_EMAIL_LIKE.fullmatch(term))


def looks_like_phone(term: str) -> bool:
    if sum(char.isdigit() for char in term) < _MIN_PHONE_DIGITS_TO_SEARCH:
        return False
    try:
        validate_phone(term)
    except ValidationError:
        return False
    return True


_BLIND_INDEXES = {
    "email": (looks_like_email, crypto.email_index),
    "phone": (looks_like_phone, crypto.phone_index),
}


class BlindIndexSearchMixin:
    """Search over encrypted email and phone: a term shaped like one matches its blind index
    exactly (in addition to the usual text search), one indexed equality, never a decrypt
    and scan. Partial emails or numbers find nothing, by design. Only for staff who may read
    personal data (``pii.check_pii_lookup``); others are told so, and the exact match is not
    tried, whether or not the person exists."""

    blind_index_search: tuple[str, ...] = ()  # of "email", "phone"

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        conditions = [
            Q(**{f"{name}_index": index(term)})
            for name, (looks_like, index) in _BLIND_INDEXES.items()
            if name in self.blind_index_search and term and looks_like(term)
        ]
        if conditions:
            try:
                pii.check_pii_lookup(["q"], allowed=pii.can_view_pii(request.user))
            except ValidationError as error:
                messages.warning(request, " ".join(error.messages))
                return results, may_have_duplicates
            results = results | queryset.filter(reduce(or_, conditions))
        return results, may_have_duplicates


def with_permission(permission: str, action: Callable) -> Callable:
    """A third-party admin action with the permission it never declared: without one, Django
    offers (and runs) an action to anyone who may view the list."""

    def guarded(model_admin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet):
        return action(model_admin, request, queryset)

    guarded.__name__ = action.__name__
    return admin.action(permissions=[permission], description=action.short_description)(guarded)


class ReadOnlyInline(admin.TabularInline):
    """Related records listed on their parent's page; they are edited on their own pages.

    Hidden on the add page, where there is nothing to list yet.
    """

    extra = 0
    can_delete = False
    show_change_link = True

    def get_readonly_fields(self, request: HttpRequest, obj: models.Model | None = None):
        return self.fields

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return obj is not None and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None):
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None):
        return False
