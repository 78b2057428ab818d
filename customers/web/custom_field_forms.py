"""The custom field definition form of the settings area. It only shapes the input: choices
one per line, the default as text typed like an import cell; the service types and checks
both (and refuses a type change that stored values would not survive)."""

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.custom_fields import form_fields
from customers.models import CustomField


class CustomFieldInputForm(forms.Form):
    entity = forms.ChoiceField(label=_("Record type"), choices=CustomField.Entity.choices)
    name = forms.CharField(
        label=_("Name"),
        max_length=64,
        help_text=_(
            "How imports, exports and the API refer to the field: lower-case letters, digits "
            "and underscores. It cannot be changed later."
        ),
    )
    label = forms.CharField(label=_("Label"), max_length=100)
    label_zh = forms.CharField(label=_("Chinese label"), max_length=100, required=False)
    type = forms.ChoiceField(label=_("Type"), choices=CustomField.Type.choices)
    choices = form_fields.choices_input()
    default = form_fields.default_input()
    help_text = forms.CharField(label=_("Help text"), max_length=500, required=False)
    position = forms.IntegerField(label=_("Position"), min_value=0, required=False)
    required = forms.BooleanField(label=_("Required"), required=False)
    pii = forms.BooleanField(label=_("Personal data (encrypted, masked)"), required=False)
    unique = forms.BooleanField(label=_("Unique"), required=False)

    def __init__(self, *args: Any, instance: CustomField | None = None, **kwargs: Any) -> None:
        self.instance = instance
        if instance is not None:
            kwargs.setdefault("initial", _initial(instance))
        super().__init__(*args, **kwargs)
        if instance is not None:  # how every door and stored value refer to the field
            del self.fields["entity"], self.fields["name"]

    def clean_choices(self) -> list[str]:
        return form_fields.parse_choices(self.cleaned_data.get("choices", ""))

    def clean_default(self) -> str | None:
        return self.cleaned_data.get("default") or None

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        if data.get("position") is None:
            data.pop("position", None)
        return data


def _initial(field: CustomField) -> dict[str, Any]:
    return {
        "label": field.label,
        "label_zh": field.label_zh,
        "type": field.type,
        "choices": form_fields.choices_as_text(field.choices),
        "default": form_fields.default_as_text(field.default),
        "help_text": field.help_text,
        "position": field.position,
        "required": field.required,
        "pii": field.pii,
        "unique": field.unique,
    }
