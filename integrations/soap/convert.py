"""Records to SOAP types and back: output shaping (PII masked as REST does) and input
gathering (only the elements a client sent, so absent means "unchanged" and nil means null)."""

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from lxml import etree

from customers import pii
from customers.api import list_rows
from customers.api.fields import (
    PIIField,
    drop_unchanged_masked_custom_values,
    drop_unchanged_masked_pii,
)
from customers.custom_fields.values import error_key, plain_values
from customers.models import Company, CustomField, Deal
from integrations.soap import types

# Input element -> service argument, for related records.
_RELATIONS = {"company_id": "company", "owner_id": "owner"}
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
}
_PII_FIELDS = {"contact": pii.PII_FIELDS, "company": ("phone", "address")}


def _masker(can_view_pii: bool):
    return (lambda name, value: value) if can_view_pii else pii.masked


def custom_values_out(
    stored: Mapping[str, Any] | None, definitions: Iterable[CustomField], *, can_view_pii: bool
) -> list[SimpleNamespace]:
    kinds = {field.name: field.type for field in definitions}
    return _custom_entries(plain_values(stored, definitions, can_view_pii=can_view_pii), kinds)


def _custom_entries(values: Mapping[str, Any], kinds: Mapping[str, str]) -> list[SimpleNamespace]:
    """Plain values (decrypted or masked already) as typed entries, every field listed."""
    result = []
    for name, value in values.items():
        entry = SimpleNamespace(name=name, type=kinds[name], value=None, items=None)  # as above
        if isinstance(value, list):
            entry.items = value
        elif isinstance(value, bool):
            entry.value = "true" if value else "false"
        elif value is not None:
            entry.value = str(value)
        result.append(entry)
    return result


def contacts_out(
    rows: Sequence[Mapping[str, Any]], *, can_view_pii: bool, definitions: list[CustomField]
) -> list[SimpleNamespace]:
    """Contacts from ``list_rows.contact_values`` rows, through the REST list's own shaping
    (PII decrypted a page at a time, masked by the same rule), so both doors show one record
    the same way by construction."""
    kinds = {field.name: field.type for field in definitions}
    records = list_rows.contact_page(rows, can_view_pii=can_view_pii, definitions=definitions)
    return [_contact_from_record(record, kinds) for record in records]


def _contact_from_record(record: Mapping[str, Any], kinds: Mapping[str, str]) -> SimpleNamespace:
    """A types.Contact in all but class: spyne only reads attributes, and building a spyne
    ComplexModel costs more than the rest of this function."""
    company, owner = record["company"] or {}, record["owner"] or {}
    return SimpleNamespace(
        id=record["id"],
        external_id=record["external_id"],
        first_name=record["first_name"],
        last_name=record["last_name"],
        full_name=record["full_name"],
        title=record["title"],
        company_id=company.get("id"),
        company_name=company.get("name"),
        email=record["email"],
        phone=record["phone"],
        address=record["address"],
        lifecycle_stage=record["lifecycle_stage"],
        source=record["source"],
        owner_id=owner.get("id"),
        owner_username=owner.get("username"),
        tags=record["tags"],
        custom_fields=_custom_entries(record["custom_fields"], kinds),
        notes=record["notes"],
        consent_email=record["consent_email"],
        consent_phone=record["consent_phone"],
        consent_updated_at=_moment(record["consent_updated_at"]),
        created_at=_moment(record["created_at"]),
        updated_at=_moment(record["updated_at"]),
    )


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


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
