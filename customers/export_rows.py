"""Contacts as plain dicts for streaming exports, shaped like the REST representation.

Built from ``values_list`` in chunks (one query for the rows, one for their tags per chunk)
instead of a serializer per row: exports run at tens of thousands of rows a second with flat
memory, whatever the row count.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from customers import pii
from customers.custom_fields.values import plain_values
from customers.models import Contact, CustomField, format_full_name

_CONTACT_VALUES = (
    "id",
    "external_id",
    "first_name",
    "last_name",
    "title",
    "company_id",
    "company__name",
    "email",
    "phone",
    "address",
    "lifecycle_stage",
    "source",
    "owner_id",
    "owner__username",
    "notes",
    "consent_email",
    "consent_phone",
    "consent_updated_at",
    "created_at",
    "updated_at",
    "custom_fields",
)


def iso(value: datetime | None) -> str | None:
    """The same text DRF renders for a datetime ('Z' for UTC)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def contact_rows(
    queryset: QuerySet[Contact],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField] = (),
    chunk_size: int = 2000,
) -> Iterator[dict[str, Any]]:
    rows = queryset.prefetch_related(None).order_by("pk").values_list(*_CONTACT_VALUES)
    # Chunks by primary key (keyset): each is a short query, so memory stays flat and no
    # server-side cursor is held open for the whole export.
    last_pk = 0
    while True:
        chunk = list(rows.filter(pk__gt=last_pk)[:chunk_size])
        if not chunk:
            return
        last_pk = chunk[-1][0]
        tags = _tags_by_contact([row[0] for row in chunk])
        for row in chunk:
            yield _contact_dict(row, tags.get(row[0], []), can_view_pii, definitions)


def _tags_by_contact(contact_ids: list[int]) -> dict[int, list[str]]:
    through = Contact.tags.through
    tags: dict[int, list[str]] = defaultdict(list)
    pairs = (
        through.objects.filter(contact_id__in=contact_ids)
        .order_by("tag__name")
        .values_list("contact_id", "tag__name")
    )
    for contact_id, name in pairs:
        tags[contact_id].append(name)
    return tags


def _contact_dict(
    row: tuple, tags: list[str], can_view_pii: bool, definitions: Sequence[CustomField]
) -> dict[str, Any]:
    (
        pk,
        external_id,
        first_name,
        last_name,
        title,
        company_id,
        company_name,
        email,
        phone,
        address,
        lifecycle_stage,
        source,
        owner_id,
        owner_username,
        notes,
        consent_email,
        consent_phone,
        consent_updated_at,
        created_at,
        updated_at,
        custom_values,
    ) = row
    if not can_view_pii:
        email, phone, address = (
            pii.mask_email(email),
            pii.mask_phone(phone),
            pii.mask_address(address),
        )
    return {
        "id": pk,
        "external_id": external_id,
        "first_name": first_name,
        "last_name": last_name,
        "full_name": format_full_name(first_name, last_name),
        "title": title,
        "company": {"id": company_id, "name": company_name} if company_id else None,
        "email": email,
        "phone": phone,
        "address": address,
        "lifecycle_stage": lifecycle_stage,
        "source": source,
        "owner": {"id": owner_id, "username": owner_username} if owner_id else None,
        "tags": tags,
        "notes": notes,
        "consent_email": consent_email,
        "consent_phone": consent_phone,
        "consent_updated_at": iso(consent_updated_at),
        "created_at": iso(created_at),
        "updated_at": iso(updated_at),
        "custom_fields": plain_values(custom_values, definitions, can_view_pii=can_view_pii),
    }
