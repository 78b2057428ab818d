"""Records to SOAP types and back: output shaping (PII masked as REST does) and input
gathering (only the elements a client sent, so absent means "unchanged" and nil means null)."""

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError
from lxml import etree

from customers import pii
from customers.api.fields import (
    PIIField,
    drop_unchanged_masked_custom_values,
    drop_unchanged_masked_pii,
)
from customers.custom_fields.values import error_key, plain_values
from customers.models import Company, Contact, CustomField, Deal
from integrations.soap import types

# Input element -> service argument, for related records.
_RELATIONS = {
    "company_id": "company",
    "owner_id": "owner",
    "primary_contact_id": "primary_contact",
    "stage_id": "stage",
}
WRITABLE = {
    "contact": [
        "external_id",
        "first_name",
        "last_name",
        "title",
        "company_id",
        "email",
        "phone",
        "address",
        "lifecycle_stage",
        "source",
        "owner_id",
        "tags",
        "custom_fields",
        "notes",
        "consent_email",
        "consent_phone",
    ],
    "company": [
        "external_id",
        "name",
        "domain",
        "industry",
        "size_band",
        "country",
        "phone",
        "address",
        "owner_id",
        "tags",
        "custom_fields",
    ],
    "deal": [
        "external_id",
        "name",
        "company_id",
        "primary_contact_id",
        "amount",
        "currency",
        "stage_id",
        "status",
        "expected_close_date",
        "owner_id",
        "tags",
        "custom_fields",
    ],
}
_PII_FIELDS = {"contact": pii.PII_FIELDS, "company": ("phone", "address"), "deal": ()}


def _masker(can_view_pii: bool):
    return (lambda name, value: value) if can_view_pii else pii.masked


def custom_values_out(
    stored: Mapping[str, Any] | None, definitions: Iterable[CustomField], *, can_view_pii: bool
) -> list[types.CustomFieldValue]:
    kinds = {field.name: field.type for field in definitions}
    values = plain_values(stored, definitions, can_view_pii=can_view_pii)
    result = []
    for name, value in values.items():
        entry = types.CustomFieldValue(name=name, type=kinds[name])
        if isinstance(value, list):
            entry.items = value
        elif isinstance(value, bool):
            entry.value = "true" if value else "false"
        elif value is not None:
            entry.value = str(value)
        result.append(entry)
    return result


def contact_out(
    contact: Contact, *, can_view_pii: bool, definitions: list[CustomField]
) -> types.Contact:
    show = _masker(can_view_pii)
    return types.Contact(
        id=contact.pk,
        external_id=contact.external_id,
        first_name=contact.first_name,
        last_name=contact.last_name,
        full_name=contact.full_name,
        title=contact.title,
        company_id=contact.company_id,
        company_name=contact.company.name if contact.company_id else None,
        email=show("email", contact.email),
        phone=show("phone", contact.phone),
        address=show("address", contact.address),
        lifecycle_stage=contact.lifecycle_stage,
        source=contact.source,
        owner_id=contact.owner_id,
        owner_username=contact.owner.get_username() if contact.owner_id else None,
        tags=[tag.name for tag in contact.tags.all()],
        custom_fields=custom_values_out(
            contact.custom_fields, definitions, can_view_pii=can_view_pii
        ),
        notes=contact.notes,
        consent_email=contact.consent_email,
        consent_phone=contact.consent_phone,
        consent_updated_at=contact.consent_updated_at,
        created_at=contact.created_at,
        updated_at=contact.updated_at,
    )


def company_out(
    company: Company, *, can_view_pii: bool, definitions: list[CustomField]
) -> types.Company:
    show = _masker(can_view_pii)
    return types.Company(
        id=company.pk,
        external_id=company.external_id,
        name=company.name,
        domain=company.domain,
        industry=company.industry,
        size_band=company.size_band,
        country=company.country,
        phone=show("phone", company.phone),
        address=show("address", company.address),
        owner_id=company.owner_id,
        owner_username=company.owner.get_username() if company.owner_id else None,
        tags=[tag.name for tag in company.tags.all()],
        custom_fields=custom_values_out(
            company.custom_fields, definitions, can_view_pii=can_view_pii
        ),
        created_at=company.created_at,
        updated_at=company.updated_at,
    )


def deal_out(deal: Deal, *, can_view_pii: bool, definitions: list[CustomField]) -> types.Deal:
    return types.Deal(
        id=deal.pk,
        external_id=deal.external_id,
        name=deal.name,
        company_id=deal.company_id,
        company_name=deal.company.name if deal.company_id else None,
        primary_contact_id=deal.primary_contact_id,
        amount=deal.amount,
        currency=deal.currency,
        pipeline_id=deal.stage.pipeline_id,
        pipeline_name=deal.stage.pipeline.name,
        stage_id=deal.stage_id,
        stage_name=deal.stage.name,
        status=deal.status,
        expected_close_date=deal.expected_close_date,
        closed_at=deal.closed_at,
        owner_id=deal.owner_id,
        owner_username=deal.owner.get_username() if deal.owner_id else None,
        tags=[tag.name for tag in deal.tags.all()],
        custom_fields=custom_values_out(deal.custom_fields, definitions, can_view_pii=can_view_pii),
        created_at=deal.created_at,
        updated_at=deal.updated_at,
    )


def sent_elements(body: etree._Element | None, argument: str) -> set[str]:
    """Local names of the child elements the client sent inside the `argument` element."""
    if body is None:
        return set()
    for element in body:
        if isinstance(element.tag, str) and etree.QName(element).localname == argument:
            return {etree.QName(child).localname for child in element if isinstance(child.tag, str)}
    return set()


def record_input(
    record: Any,
    *,
    entity: str,
    sent: set[str],
    definitions: list[CustomField],
    can_view_pii: bool,
    instance: Any = None,
) -> dict[str, Any]:
    """The service's `data` for the writable elements the client sent. A caller without PII
    access may send back what it read: a masked value means "unchanged"."""
    data: dict[str, Any] = {}
    for name in WRITABLE[entity]:
        if name not in sent:
            continue
        value = getattr(record, name, None)
        if name == "tags":
            value = list(value or [])
        elif name == "custom_fields":
            value = custom_values_in(value or [], definitions)
        data[_RELATIONS.get(name, name)] = value
    if not can_view_pii:
        data = drop_unchanged_masked_pii(
            data,
            instance=instance,
            fields={name: PIIField(pii_kind=name) for name in _PII_FIELDS[entity]},
        )
        if "custom_fields" in data:
            data["custom_fields"] = drop_unchanged_masked_custom_values(
                data["custom_fields"], instance=instance, definitions=definitions
            )
    return data


def custom_values_in(
    entries: Iterable[types.CustomFieldValue], definitions: Iterable[CustomField]
) -> dict[str, Any]:
    """name -> raw value for the services, which check each against its definition."""
    kinds = {field.name: field.type for field in definitions}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for entry in entries:
        name = (entry.name or "").strip()
        if entry.type and name in kinds and entry.type != kinds[name]:
            errors[error_key(name)] = f"This field's type is {kinds[name]}, not {entry.type}."
            continue
        values[name] = list(entry.items) if entry.items else entry.value
    if errors:
        raise ValidationError(errors)
    return values
