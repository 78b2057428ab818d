"""Custom fields in the admin: managing their definitions, and editing their values on the
records' change forms, both through the same services as every other door."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

from customers import pii
from customers.admin.base import ServiceModelAdmin, ServiceModelForm
from customers.custom_fields import form_fields
from customers.custom_fields.values import definitions_for, entity_of, error_key, plain_values
from customers.models import CustomField
from customers.services import custom_fields as services

FIELDSET_TITLE = _("Custom fields")
_ERROR_PREFIX = error_key("")


class CustomValuesFormMixin:
    """Typed inputs for the entity's custom fields (added per request by
    ``CustomValuesAdminMixin``), sent to the service as one ``custom_fields`` mapping."""

    custom_definitions: list[CustomField] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance._state.adding:
            stored = {d.name: d.default for d in self.custom_definitions}
        else:
            stored = plain_values(
                self.instance.custom_fields, self.custom_definitions, can_view_pii=True
            )
        for definition in self.custom_definitions:
            name = form_fields.form_name(definition)
            self.initial.setdefault(name, form_fields.initial(definition, stored[definition.name]))

    def service_data(self) -> dict[str, Any]:
        data = super().service_data()
        custom = {}
        for definition in self.custom_definitions:
            name = form_fields.form_name(definition)
            if name not in data:
                continue
            value = form_fields.service_value(definition, data.pop(name))
            if value is not None or not self.instance._state.adding:
                custom[definition.name] = value
        if custom:
            data["custom_fields"] = custom
        return data

    def _add_service_errors(self, error: ValidationError) -> None:
        """``custom_fields.<name>`` errors go next to their input."""
        if hasattr(error, "error_dict"):
            remapped: dict[str, list] = {}
            for key, errors in error.error_dict.items():
                name = form_fields.PREFIX + key.removeprefix(_ERROR_PREFIX)
                if key.startswith(_ERROR_PREFIX) and name in self.fields:
                    key = name
                remapped.setdefault(key, []).extend(errors)
            error = ValidationError(remapped)
        super()._add_service_errors(error)


class CustomValuesAdminMixin:
    """Adds a "Custom fields" fieldset to a record's change form.

    Personal (``pii``) custom fields follow the built-in PII rule: users without
    ``customers.view_pii`` editing a stored record get them masked and read-only, so the
    plaintext never reaches their browser and a save never rewrites it.
    """

    def _definitions(self, request: HttpRequest) -> list[CustomField]:
        cache = request.__dict__.setdefault("_custom_field_definitions", {})
        entity = entity_of(self.model)
        if entity not in cache:
            cache[entity] = definitions_for(entity)
        return cache[entity]

    def _hides_custom_pii(self, request: HttpRequest, obj: Any) -> bool:
        return obj is not None and not pii.can_view_pii(request.user)

    def _editable_definitions(self, request: HttpRequest, obj: Any) -> list[CustomField]:
        definitions = self._definitions(request)
        if self._hides_custom_pii(request, obj):
            return [definition for definition in definitions if not definition.pii]
        return definitions

    def _masked_pii_shown(self, request: HttpRequest, obj: Any) -> bool:
        return self._hides_custom_pii(request, obj) and any(
            definition.pii for definition in self._definitions(request)
        )

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = list(super().get_fieldsets(request, obj))
        names = [form_fields.form_name(d) for d in self._editable_definitions(request, obj)]
        if self._masked_pii_shown(request, obj):
            names.append("masked_custom_fields")
        if not names:
            return fieldsets
        # Before the collapsed system fieldset, which stays last.
        position = next(
            (
                index
                for index, (_title, options) in enumerate(fieldsets)
                if "collapse" in options.get("classes", ())
            ),
            len(fieldsets),
        )
        fieldsets.insert(position, (FIELDSET_TITLE, {"fields": names}))
        return fieldsets

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None):
        fields = list(super().get_readonly_fields(request, obj))
        if self._masked_pii_shown(request, obj):
            fields.append("masked_custom_fields")
        return fields

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs):
        definitions = self._editable_definitions(request, obj)
        base = kwargs.pop("form", self.form)
        attrs: dict[str, Any] = {
            form_fields.form_name(definition): form_fields.build(definition)
            for definition in definitions
        }
        attrs["custom_definitions"] = definitions
        kwargs["form"] = type(base.__name__, (CustomValuesFormMixin, base), attrs)
        return super().get_form(request, obj, change, **kwargs)

    @admin.display(description=_("Personal custom fields"))
    def masked_custom_fields(self, obj: Any) -> str:
        definitions = [d for d in definitions_for(entity_of(self.model)) if d.pii]
        shown = plain_values(obj.custom_fields, definitions, can_view_pii=False)
        return format_html_join(
            "\n",
            "<div>{}: {}</div>",
            ((form_fields.label(d), shown[d.name] or "—") for d in definitions),
        )


class CustomFieldDefinitionForm(ServiceModelForm):
    """Choices one per line and the default as text: the service types both."""

    choices = form_fields.choices_input()
    default = form_fields.default_input()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.instance
        if not field._state.adding:
            self.initial["choices"] = form_fields.choices_as_text(field.choices)
            self.initial["default"] = form_fields.default_as_text(field.default)

    def clean_choices(self) -> list[str]:
        return form_fields.parse_choices(self.cleaned_data.get("choices", ""))

    def clean_default(self) -> str | None:
        return self.cleaned_data.get("default") or None


@admin.register(CustomField)
class CustomFieldAdmin(ServiceModelAdmin):
    form = CustomFieldDefinitionForm
    list_display = ("label", "name", "entity", "type", "required", "pii", "unique", "archived")
    list_filter = ("entity", "type", "pii", "archived_at")
    search_fields = ("name", "label", "label_zh")
    ordering = ("entity", "position", "id")
    actions = ("archive", "restore")
    fieldsets = (
        (None, {"fields": ("entity", "name", "type", "label", "label_zh", "help_text")}),
        (_("Values"), {"fields": ("required", "default", "choices", "pii", "unique", "position")}),
    )

    @admin.display(description=_("archived"), boolean=True, ordering="archived_at")
    def archived(self, obj: CustomField) -> bool:
        return obj.is_archived

    def get_readonly_fields(self, request: HttpRequest, obj: CustomField | None = None):
        # A field's entity and name are how every door and stored value refer to it.
        return ("entity", "name") if obj is not None else ()

    def service_create(self, request: HttpRequest, data: dict[str, Any]) -> CustomField:
        return services.custom_field_create(actor=self.actor(request), **data)

    def service_update(
        self, request: HttpRequest, obj: CustomField, data: dict[str, Any]
    ) -> CustomField:
        return services.custom_field_update(actor=self.actor(request), field=obj, data=data)

    def service_delete(self, request: HttpRequest, obj: CustomField) -> None:
        purged = services.custom_field_delete(actor=self.actor(request), field=obj, purge=True)
        if purged:
            self.message_user(
                request,
                _("%(count)d stored values of “%(field)s” were purged.")
                % {"count": purged, "field": obj.name},
                messages.WARNING,
            )

    def render_delete_form(self, request, context):
        """The confirmation says how many stored values the deletion purges."""
        field = context.get("object")
        if isinstance(field, CustomField):
            context["purge_count"] = services.count_values(field)
        return super().render_delete_form(request, context)

    @admin.action(
        description=_("Archive selected fields (hide them, keep their values)"),
        permissions=["change"],
    )
    def archive(self, request: HttpRequest, queryset) -> None:
        for field in queryset:
            services.custom_field_archive(actor=self.actor(request), field=field)
        self.message_user(request, _("Archived %(count)d fields.") % {"count": len(queryset)})

    @admin.action(description=_("Restore selected fields"), permissions=["change"])
    def restore(self, request: HttpRequest, queryset) -> None:
        for field in queryset:
            services.custom_field_restore(actor=self.actor(request), field=field)
        self.message_user(request, _("Restored %(count)d fields.") % {"count": len(queryset)})
