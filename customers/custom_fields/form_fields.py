"""Django form fields for custom field definitions, so every HTML door (the admin, the web UI)
renders and parses them alike: a date picker for a date, a select for a choice, a number input
for a number. A form field only shapes the input; the rule every door shares stays
``types.coerce``, run by the services on save.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.html import escape
from django.utils.translation import gettext_lazy as _

from customers.custom_fields import types
from customers.models import CustomField

Type = CustomField.Type

PREFIX = "cf_"
_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def form_name(definition: CustomField) -> str:
    """The form field's name: prefixed, so a custom field never shadows a built-in one."""
    return f"{PREFIX}{definition.name}"


def label(definition: CustomField) -> str:
    """The label in the active language: the Chinese label for Chinese, when there is one."""
    language = translation.get_language() or ""
    if language.lower().startswith("zh") and definition.label_zh:
        return definition.label_zh
    return definition.label


def build(definition: CustomField) -> forms.Field:
    """The form field for a definition. Its help text is escaped here because Django treats a
    form field's help text as HTML (the admin and the default form templates print it
    ``|safe``): a user-defined ``<script>`` would otherwise run for every staff user who opens
    the form. Labels and choices need no such step, Django escapes them when it renders them."""
    options = {
        "label": label(definition),
        "help_text": escape(definition.help_text),
        "required": definition.required,
    }
    builder = _BUILDERS[definition.type]
    return builder(definition, options)


def _text(definition: CustomField, options: dict) -> forms.Field:
    return forms.CharField(max_length=types.TEXT_MAX_LENGTH, **options)


def _long_text(definition: CustomField, options: dict) -> forms.Field:
    return forms.CharField(
        max_length=types.LONG_TEXT_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}), **options
    )


def _integer(definition: CustomField, options: dict) -> forms.Field:
    low, high = types.INTEGER_RANGE
    return forms.IntegerField(min_value=low, max_value=high, **options)


def _decimal(definition: CustomField, options: dict) -> forms.Field:
    return forms.DecimalField(max_digits=types.DECIMAL_MAX_DIGITS, **options)


def _date(definition: CustomField, options: dict) -> forms.Field:
    widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    return forms.DateField(widget=widget, input_formats=["%Y-%m-%d"], **options)


def _datetime(definition: CustomField, options: dict) -> forms.Field:
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_LOCAL)
    formats = [_DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
    return forms.DateTimeField(widget=widget, input_formats=formats, **options)


def _boolean(definition: CustomField, options: dict) -> forms.Field:
    # Three states: a checkbox cannot tell "no" from "not answered".
    choices = [("", "—"), ("true", _("Yes")), ("false", _("No"))]
    return forms.TypedChoiceField(
        choices=choices, coerce=lambda word: word == "true", empty_value=None, **options
    )


def _choice(definition: CustomField, options: dict) -> forms.Field:
    choices = [("", "—"), *((choice, choice) for choice in definition.choices)]
    return forms.ChoiceField(choices=choices, **options)


def _multi_choice(definition: CustomField, options: dict) -> forms.Field:
    return forms.MultipleChoiceField(
        choices=[(choice, choice) for choice in definition.choices],
        widget=forms.CheckboxSelectMultiple,
        **options,
    )


def _email(definition: CustomField, options: dict) -> forms.Field:
    return forms.EmailField(max_length=254, **options)


def _phone(definition: CustomField, options: dict) -> forms.Field:
    return forms.CharField(max_length=64, widget=forms.TextInput(attrs={"type": "tel"}), **options)


def _url(definition: CustomField, options: dict) -> forms.Field:
    return forms.URLField(max_length=types.URL_MAX_LENGTH, assume_scheme="https", **options)


_BUILDERS = {
    Type.TEXT: _text,
    Type.LONG_TEXT: _long_text,
    Type.INTEGER: _integer,
    Type.DECIMAL: _decimal,
    Type.DATE: _date,
    Type.DATETIME: _datetime,
    Type.BOOLEAN: _boolean,
    Type.CHOICE: _choice,
    Type.MULTI_CHOICE: _multi_choice,
    Type.EMAIL: _email,
    Type.PHONE: _phone,
    Type.URL: _url,
}


def initial(definition: CustomField, stored: Any) -> Any:
    """A stored (decrypted) value as its form field expects it."""
    if stored is None:
        return None
    if definition.type == Type.DATE:
        return date.fromisoformat(stored)
    if definition.type == Type.DATETIME:
        moment = parse_datetime(stored)
        return timezone.localtime(moment) if moment else None
    if definition.type == Type.DECIMAL:
        return Decimal(stored)
    if definition.type == Type.BOOLEAN:
        return "true" if stored else "false"
    return stored


def service_value(definition: CustomField, cleaned: Any) -> Any:
    """A cleaned form value as the services take it; an empty input clears the value."""
    if types.is_empty(cleaned):
        return None
    if isinstance(cleaned, datetime):
        return cleaned
    if isinstance(cleaned, date):
        return cleaned.isoformat()
    if isinstance(cleaned, Decimal):
        return str(cleaned)
    return cleaned


# The definition forms (admin and settings page): choices one per line, the default as text.


def choices_input() -> forms.CharField:
    return forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One choice per line, for choice and multiple-choice fields."),
    )


def default_input() -> forms.CharField:
    return forms.CharField(
        label=_("Default"),
        required=False,
        help_text=_("Typed like an import cell: 12.50, 2026-01-31, true, a|b for several choices."),
    )


def parse_choices(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def choices_as_text(choices: list[str] | None) -> str:
    return "\n".join(choices or [])


def default_as_text(default: Any) -> str:
    """A stored default as the text the service reads back (the service types it)."""
    if default is None:
        return ""
    if isinstance(default, list):
        return "|".join(default)
    if isinstance(default, bool):
        return "true" if default else "false"
    return str(default)
