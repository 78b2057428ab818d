"""Forms of the import wizard: the upload, then the column mapping and the run options."""

from collections import Counter
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from customers.custom_fields import form_fields
from customers.custom_fields.values import definitions_for
from customers.models import Company, Contact, Deal
from integrations.models import ENTITY_OF_RESOURCE, FileFormat, ImportJob, Resource
from integrations.services.import_mapping import CUSTOM_PREFIX, field_order

_MODELS = {Resource.CONTACTS: Contact, Resource.COMPANIES: Company, Resource.DEALS: Deal}
# Targets that are not model fields: how a record is linked by another key.
_LINK_LABELS = {
    "company_external_id": _("Company (by external id)"),
    "company_name": _("Company (by name)"),
    "id": _("CRM id"),
}
IGNORE = ""


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("File"),
        help_text=_(
            "CSV (UTF-8, GB18030 or Latin-1; comma, semicolon or tab separated), "
            "a JSON array or XML."
        ),
    )
    resource = forms.ChoiceField(label=_("Import into"), choices=Resource.choices)
    format = forms.ChoiceField(
        label=_("Format"),
        required=False,
        choices=[("", _("Detect from the file")), *FileFormat.choices],
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is %(size)s; imports take at most %(limit)s.")
                % {
                    "size": filesizeformat(upload.size),
                    "limit": filesizeformat(settings.IMPORT_MAX_BYTES),
                }
            )
        return upload


def target_choices(resource: str) -> list[tuple[str, str]]:
    """Every field a column can fill, built-in ones first, then the custom fields."""
    model = _MODELS[resource]
    choices = [(IGNORE, _("— do not import —"))]
    for name in field_order(resource):
        choices.append((name, _target_label(model, name)))
    for definition in definitions_for(ENTITY_OF_RESOURCE[resource]):
        label = _("%(label)s (custom field)") % {"label": form_fields.label(definition)}
        choices.append((f"{CUSTOM_PREFIX}{definition.name}", label))
    return choices


def _target_label(model, name: str) -> str:
    if name in _LINK_LABELS:
        return str(_LINK_LABELS[name])
    try:
        return str(model._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:
        return name


class ImportMappingForm(forms.Form):
    """One select per column of the file, pre-filled with the detected field, then the run's
    options. Which button was pressed decides between a dry run and the real import."""

    mode = forms.ChoiceField(
        label=_("Mode"), choices=ImportJob.Mode.choices, initial=ImportJob.Mode.UPSERT
    )
    match_key = forms.ChoiceField(label=_("Match existing records by"), choices=())
    all_or_nothing = forms.BooleanField(
        label=_("All or nothing: import nothing if any row is invalid"), required=False
    )

    def __init__(self, *args: Any, resource: str, headers: list[str], detected: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.headers = headers
        choices = target_choices(resource)
        self.column_names = []
        for index, header in enumerate(headers):
            name = f"column_{index}"
            self.fields[name] = forms.ChoiceField(
                label=header, choices=choices, required=False, initial=detected.get(header, IGNORE)
            )
            self.column_names.append(name)
        match_keys = ImportJob.MatchKey.choices
        if resource != Resource.CONTACTS:
            match_keys = [(k, v) for k, v in match_keys if k != ImportJob.MatchKey.EMAIL]
        self.fields["match_key"].choices = match_keys
        self.order_fields([*self.column_names, "mode", "match_key", "all_or_nothing"])

    @property
    def column_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.column_names]

    @property
    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("mode", "match_key", "all_or_nothing")]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = Counter(data.get(name) for name in self.column_names)
        for name in self.column_names:
            target = data.get(name)
            if target and chosen[target] > 1:
                self.add_error(name, _("Another column already fills this field."))
        if not any(data.get(name) for name in self.column_names) and not self.errors:
            raise forms.ValidationError(_("Choose a field for at least one column."))
        return data

    def mapping(self) -> dict[str, str | None]:
        """Every column explicitly: its field, or None to leave it out."""
        return {
            header: self.cleaned_data.get(name) or None
            for header, name in zip(self.headers, self.column_names, strict=True)
        }
