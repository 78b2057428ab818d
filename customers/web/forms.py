"""Input forms of the UI. A form only shapes the input; the services validate and write, and
their field-keyed errors come back next to the fields (`apply_errors`)."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from customers import pii
from customers.custom_fields import form_fields
from customers.custom_fields.values import definitions_for, plain_values
from customers.models import Activity, Company, Contact, CustomField, Deal, Stage

User = get_user_model()
T = TypeVar("T")


class ServiceForm(forms.Form):
    """A form for one record: built-in fields, then the entity's custom fields by type.

    Users without `view_pii` never get personal data pre-filled: on an existing record its PII
    fields are left out (so they stay unchanged); on a new record they may type them."""

    entity = ""
    pii_fields: tuple[str, ...] = ()

    def __init__(self, *args, user, instance=None, **kwargs) -> None:
        self.instance = instance
        self.user = user
        self.can_view_pii = pii.can_view_pii(user)
        self.definitions = definitions_for(self.entity)
        hide_pii = instance is not None and not self.can_view_pii
        initial = dict(kwargs.pop("initial", None) or {})
        if instance is not None:
            initial = {**self.initial_from(instance), **initial}
            stored = plain_values(instance.custom_fields, self.definitions, can_view_pii=True)
            for definition in self.definitions:
                value = stored.get(definition.name)
                initial[form_fields.form_name(definition)] = form_fields.initial(definition, value)
        super().__init__(*args, initial=initial, **kwargs)
        for definition in self.definitions:
            if hide_pii and definition.pii:
                continue
            self.fields[form_fields.form_name(definition)] = form_fields.build(definition)
        if hide_pii:
            for name in self.pii_fields:
                self.fields.pop(name, None)
        for field in self.fields.values():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs.setdefault("rows", 3)

    def initial_from(self, instance) -> dict[str, Any]:
        return {}

    @property
    def custom_field_names(self) -> list[str]:
        return [name for name in self.fields if name.startswith(form_fields.PREFIX)]

    def service_data(self) -> dict[str, Any]:
        """The cleaned data as the service takes it: custom fields gathered under one key."""
        data: dict[str, Any] = {}
        custom: dict[str, Any] = {}
        by_name = {form_fields.form_name(d): d for d in self.definitions}
        for name, value in self.cleaned_data.items():
            if name in by_name:
                definition = by_name[name]
                custom[definition.name] = form_fields.service_value(definition, value)
            else:
                data[name] = value
        if "tags" in data:
            data["tags"] = _split_tags(data["tags"])
        if custom:
            data["custom_fields"] = custom
        return data

    def apply_errors(self, error: ValidationError) -> None:
        apply_errors(self, error)


def apply_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's errors next to the fields they name; the rest at the top of the form.
    A field the form itself already refused keeps its own message: the service only saw the
    field missing, so what it says about it would mislead."""
    messages: Mapping[str, list[str]] = (
        error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
    )
    refused = set(form.errors)
    for key, texts in messages.items():
        name = key
        if key.startswith("custom_fields."):
            name = form_fields.PREFIX + key.split(".", 1)[1]
        target = name if name in form.fields else None
        if target in refused:
            continue
        for text in texts:
            if target is None and key != NON_FIELD_ERRORS:
                text = f"{key}: {text}"
            form.add_error(target, text)


class _CheckOnly(Exception):
    """Raised inside a transaction to roll back a service call made only for its errors."""


def submit(form: forms.Form, save: Callable[[dict[str, Any]], T]) -> T | None:
    """What `save` (one service call) returned for the form's data, or None with every mistake
    on the form.

    A form parses (a date, a number, a choice from a list); the service holds the rules (a
    unique value, a tag's length, a country code). Stopping at the form would name only the
    parsing mistakes and leave the rest for the next attempt, so when the form refuses some
    fields the service still checks the others, in a transaction rolled back whatever it says:
    one answer names every mistake, as REST and SOAP do, and nothing is written."""
    valid = form.is_valid()
    data = form.service_data() if hasattr(form, "service_data") else dict(form.cleaned_data)
    try:
        with transaction.atomic():
            result = save(data)
            if not valid:
                raise _CheckOnly
    except _CheckOnly:
        return None
    except ValidationError as error:
        apply_errors(form, error)
        return None
    return result


def _as_id(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isdigit() else None


def _split_tags(text: str) -> list[str]:
    return [name.strip() for name in (text or "").split(",") if name.strip()]


def _tags_text(instance) -> str:
    return ", ".join(tag.name for tag in instance.tags.all())


def owner_field() -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        label=_("Owner"),
        required=False,
        queryset=User.objects.filter(is_active=True).order_by("username"),
    )


class CompanyChoiceField(forms.ModelChoiceField):
    def __init__(self, **kwargs) -> None:
        queryset = Company.objects.only("id", "name").order_by("name", "id")
        super().__init__(queryset=queryset, label=_("Company"), required=False, **kwargs)


class ContactInputForm(ServiceForm):
    entity = CustomField.Entity.CONTACT
    pii_fields = ("email", "phone", "address")

    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    title = forms.CharField(label=_("Job title"), max_length=150, required=False)
    company = CompanyChoiceField()
    email = forms.EmailField(label=_("Email"), max_length=254, required=False)
    phone = forms.CharField(
        label=_("Phone"), max_length=64, required=False, widget=forms.TextInput({"type": "tel"})
    )
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea)
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"), choices=Contact.Lifecycle.choices
    )
    source = forms.CharField(label=_("Source"), max_length=100, required=False)
    owner = owner_field()
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )
    notes = forms.CharField(label=_("Notes"), required=False, widget=forms.Textarea)
    consent_email = forms.BooleanField(label=_("Consents to marketing email"), required=False)
    consent_phone = forms.BooleanField(label=_("Consents to calls and SMS"), required=False)

    def initial_from(self, contact: Contact) -> dict[str, Any]:
        names = ["first_name", "last_name", "title", "lifecycle_stage", "source", "notes"]
        initial = {name: getattr(contact, name) for name in names}
        initial.update(
            company=contact.company_id,
            owner=contact.owner_id,
            tags=_tags_text(contact),
            consent_email=contact.consent_email,
            consent_phone=contact.consent_phone,
        )
        if self.can_view_pii:
            initial.update(email=contact.email, phone=contact.phone, address=contact.address)
        return initial


class CompanyInputForm(ServiceForm):
    entity = CustomField.Entity.COMPANY
    pii_fields = ("phone", "address")

    name = forms.CharField(label=_("Name"), max_length=255)
    domain = forms.CharField(label=_("Domain"), max_length=255, required=False)
    industry = forms.CharField(label=_("Industry"), max_length=100, required=False)
    size_band = forms.ChoiceField(
        label=_("Size"), required=False, choices=[("", "—"), *Company.SizeBand.choices]
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter code, e.g. CN or US."),
    )
    phone = forms.CharField(
        label=_("Phone"), max_length=64, required=False, widget=forms.TextInput({"type": "tel"})
    )
    address = forms.CharField(label=_("Address"), required=False, widget=forms.Textarea)
    owner = owner_field()
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    def initial_from(self, company: Company) -> dict[str, Any]:
        initial = {
            name: getattr(company, name) for name in ("name", "domain", "industry", "size_band")
        }
        initial.update(country=company.country, owner=company.owner_id, tags=_tags_text(company))
        if self.can_view_pii:
            initial.update(phone=company.phone, address=company.address)
        return initial


class DealInputForm(ServiceForm):
    entity = CustomField.Entity.DEAL

    name = forms.CharField(label=_("Name"), max_length=255)
    company = CompanyChoiceField()
    primary_contact = forms.ModelChoiceField(
        label=_("Primary contact"), required=False, queryset=Contact.objects.none()
    )
    amount = forms.DecimalField(label=_("Amount"), max_digits=16, decimal_places=2, min_value=0)
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    stage = forms.ModelChoiceField(label=_("Stage"), queryset=Stage.objects.none())
    expected_close_date = forms.DateField(
        label=_("Expected close date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    owner = owner_field()
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stages = Stage.objects.select_related("pipeline").order_by("pipeline", "position", "id")
        self.fields["stage"].queryset = stages
        self.fields["stage"].label_from_instance = lambda stage: str(stage)
        # Contacts can number millions: offer the company's people and the current one only.
        company_id = _as_id(self.data.get("company") or self.initial.get("company"))
        contact_id = _as_id(self.data.get("primary_contact") or self.initial.get("primary_contact"))
        ids = []
        if company_id:
            ids = list(
                Contact.objects.filter(company_id=company_id).values_list("id", flat=True)[:200]
            )
        if contact_id:
            ids.append(contact_id)
        self.fields["primary_contact"].queryset = Contact.objects.filter(pk__in=ids).only(
            "id", "first_name", "last_name"
        )

    def initial_from(self, deal: Deal) -> dict[str, Any]:
        return {
            "name": deal.name,
            "company": deal.company_id,
            "primary_contact": deal.primary_contact_id,
            "amount": deal.amount,
            "currency": deal.currency,
            "stage": deal.stage_id,
            "expected_close_date": deal.expected_close_date,
            "owner": deal.owner_id,
            "tags": _tags_text(deal),
        }


class ActivityInputForm(forms.Form):
    """Logging a call, note or meeting inline on a detail page."""

    kind = forms.ChoiceField(label=_("Kind"), choices=Activity.Kind.choices)
    subject = forms.CharField(label=_("Subject"), max_length=255)
    body = forms.CharField(
        label=_("Details"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    due_at = forms.DateTimeField(
        label=_("Due"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        help_text=_("For a task or a planned call; leave empty for something already done."),
    )


class BulkActionForm(forms.Form):
    ACTIONS = (
        ("assign_owner", _("Assign owner")),
        ("add_tag", _("Add tag")),
        ("export", _("Export selected (CSV)")),
    )
    action = forms.ChoiceField(label=_("Action"), choices=ACTIONS)
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=(), label=_("Selected"))
    owner = owner_field()
    tag = forms.CharField(label=_("Tag"), required=False, max_length=64)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Any id is acceptable here; the view loads only the ones that exist.
        self.fields["ids"].valid_value = lambda value: str(value).isdigit()
        self.fields["ids"].error_messages["required"] = _("Select at least one row.")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("action") == "assign_owner" and not data.get("owner"):
            self.add_error("owner", _("Choose the new owner."))
        if data.get("action") == "add_tag" and not (data.get("tag") or "").strip():
            self.add_error("tag", _("Type the tag to add."))
        return data
