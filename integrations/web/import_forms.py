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
from integrations.imports.mapping import CUSTOM_PREFIX, field_order
from integrations.models import ENTITY_OF_RESOURCE, FileFormat, ImportJob, Resource

_MODELS = {Resource.CONTACTS: Contact, Resource.COMPANIES: Company, Resource.DEALS: Deal}
# Targets that are not model fields: how a record is linked by another key.
_LINK_LABELS = {
    "company_external_id": _("Company (by external id)"),
    "company_name": _("Company (by name)"),
    "company_domain": _("Company (by domain)"),
    "primary_contact_email": _("Primary contact (by email)"),
    "id": _("CRM id"),
}
_CREATE_RELATED_LABELS = {
    Resource.CONTACTS: _("Create the companies the file names that do not exist yet"),
    Resource.DEALS: _(
        "Create the companies, and the contacts by email, the file names that do not exist yet"
    ),
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


def default_match_key(
    *, resource: str, detected: dict[str, str], may_match_by_email: bool
) -> tuple[str, str]:
    """The key the file can match on, and a sentence saying which and why: the external id
    when a column holds one; else, for contacts, the email when a column holds one (and the
    user may look people up by email); else the external id, which then matches nothing."""
    columns = {target: header for header, target in detected.items()}
    if "external_id" in columns:
        reason = _("Existing records are matched by external id: the column “%(column)s” holds it.")
        return ImportJob.MatchKey.EXTERNAL_ID, reason % {"column": columns["external_id"]}
    if resource == Resource.CONTACTS and "email" in columns:
        if may_match_by_email:
            reason = _(
                "Existing contacts are matched by email: no column holds an external id, and "
                "the column “%(column)s” holds emails."
            )
            return ImportJob.MatchKey.EMAIL, reason % {"column": columns["email"]}
        reason = _(
            "No column holds an external id, and matching by email needs the right to read "
            "personal data: every row becomes a new contact unless it has a CRM id."
        )
        return ImportJob.MatchKey.EXTERNAL_ID, str(reason)
    if resource == Resource.CONTACTS:
        reason = _(
            "No column holds an external id or an email: every row becomes a new record "
            "unless it has a CRM id."
        )
    else:
        reason = _(
            "No column holds an external id: every row becomes a new record unless it has a CRM id."
        )
    return ImportJob.MatchKey.EXTERNAL_ID, str(reason)


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
    create_related = forms.BooleanField(
        required=False,
        help_text=_(
            "Matched by exact name (case aside) or domain; the job lists what it created, and "
            "importing the file again creates nothing more."
        ),
    )

    def __init__(
        self,
        *args: Any,
        resource: str,
        headers: list[str],
        detected: dict,
        names_related: bool = False,
        may_match_by_email: bool = True,
        **kwargs,
    ):
        """`detected`: column → field, from the headers. `names_related`: the file names
        companies (or a deal's contact) as another CRM writes them, which pre-ticks creating
        the missing ones. The match key defaults to what the file can match on."""
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
        self.fields["match_key"].initial, self.match_key_reason = default_match_key(
            resource=resource, detected=detected, may_match_by_email=may_match_by_email
        )
        self.option_names = ["mode", "match_key", "all_or_nothing"]
        if resource in _CREATE_RELATED_LABELS:
            self.fields["create_related"].label = _CREATE_RELATED_LABELS[resource]
            self.fields["create_related"].initial = names_related
            self.option_names.append("create_related")
        else:
            del self.fields["create_related"]
        self.order_fields([*self.column_names, *self.option_names])

    @property
    def column_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.column_names]

    @property
    def option_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.option_names]

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
