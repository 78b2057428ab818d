"""The contact list's read path: a page of ``values()`` rows shaped exactly as
``ContactOutputSerializer`` renders a contact, key order included.

A list page is the API's hottest request. Building a model instance per row and asking a
serializer field per cell cost more than everything else in it together; plain rows plus one
query for the page's tags give the same document at a fraction of the CPU. Single records
(retrieve, writes) keep the serializer, and a test holds the two to the same output.
PII (built-in and custom) arrives encrypted and is decrypted a page at a time
(``customers.bulk_decrypt``: one AES call instead of a Fernet object per value).
"""

import functools
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, tzinfo
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from customers import pii, selectors
from customers.bulk_decrypt import decrypt_many
from customers.custom_fields.values import mask
from customers.models import Contact, CustomField, format_full_name

# What a contact row needs; the ordering fields a cursor reads (id, names, times) are among them.
CONTACT_VALUES = (
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


_CIPHERTEXT = {name: f"{name}_token" for name in pii.PII_FIELDS}


def contact_values() -> QuerySet:
    """``selectors.contact_list()`` as plain rows for the filters and the paginator to narrow
    (relations by join, tags separately, PII as the stored tokens).

    Building this queryset (24 columns, three casts) cost about as much as running it, so it is
    built once per process and each request gets a clone.
    """
    return _values_template().all()


@functools.cache
def _values_template() -> QuerySet:
    tokens = {alias: Cast(name, TextField()) for name, alias in _CIPHERTEXT.items()}
    names = [_CIPHERTEXT.get(name, name) for name in CONTACT_VALUES]
    return selectors.contact_list().prefetch_related(None).annotate(**tokens).values(*names)


def contact_page(
    rows: Sequence[dict[str, Any]],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField],
    fields: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Each row as the serializer renders it; `fields` (``?fields=``) keeps only those keys.
    The rows (fresh from ``values()``) are consumed."""
    active = [field for field in definitions if not field.is_archived]
    tags = _tag_names([row["id"] for row in rows])
    _decrypt(rows, [field.name for field in active if field.pii])
    shape_custom = _custom_shaper(active, can_view_pii)
    zone = timezone.get_current_timezone()
    records = [
        _contact(row, tags.get(row["id"], []), can_view_pii, shape_custom, zone) for row in rows
    ]
    if fields:
        wanted = set(fields)
        records = [
            {key: value for key, value in record.items() if key in wanted} for record in records
        ]
    return records


def _tag_names(ids: list[int]) -> dict[int, list[str]]:
    """Tag names per contact, in the tags' own order (by name) as a prefetch gives them.

    One plain SQL statement: the ORM took ten times as long to build this query (50 ids
    through the foreign key's lookup machinery) as the database took to answer it.
    """
    if not ids:
        return {}
    link = Contact.tags.through._meta
    contact_id, tag_id = (link.get_field(name).column for name in ("contact", "tag"))
    tag = link.get_field("tag").related_model._meta
    q = connection.ops.quote_name
    sql = (
        f"SELECT link.{q(contact_id)}, tag.{q(tag.get_field('name').column)} "
        f"FROM {q(link.db_table)} link JOIN {q(tag.db_table)} tag "
        f"ON tag.{q(tag.pk.column)} = link.{q(tag_id)} "
        f"WHERE link.{q(contact_id)} IN ({', '.join(['%s'] * len(ids))}) "
        f"ORDER BY tag.{q(tag.get_field('name').column)}"
    )
    names: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for record_id, name in cursor.fetchall():
            names[record_id].append(name)
    return names


def _decrypt(rows: Sequence[dict[str, Any]], pii_names: Sequence[str]) -> None:
    """Every token of the page (built-in and custom PII) decrypted in one call, in place."""
    tokens: list[str | None] = []
    for row in rows:
        tokens.extend([row.pop(alias) for alias in _CIPHERTEXT.values()])
        if pii_names and row["custom_fields"]:
            tokens.extend([row["custom_fields"].get(name) for name in pii_names])
    plaintexts = iter(decrypt_many(tokens, settings.FIELD_ENCRYPTION_KEYS, what="a contact's PII"))
    for row in rows:
        for name in _CIPHERTEXT:
            row[name] = next(plaintexts)
        if pii_names and row["custom_fields"]:
            custom = row["custom_fields"]
            for name in pii_names:
                plaintext = next(plaintexts)
                if plaintext is not None:
                    custom[name] = plaintext


def _custom_shaper(
    active: Sequence[CustomField], can_view_pii: bool
) -> Callable[[Mapping[str, Any] | None], dict[str, Any]]:
    """``plain_values`` for already decrypted values: every active field (None when unset),
    PII masked for callers who may not read it."""
    names = [field.name for field in active]
    masked = [] if can_view_pii else [field for field in active if field.pii]

    def shape(values: Mapping[str, Any] | None) -> dict[str, Any]:
        values = values or {}
        result = {name: values.get(name) for name in names}
        for field in masked:
            if result[field.name] is not None:
                result[field.name] = mask(field, result[field.name])
        return result

    return shape


def _time(value: datetime | None, zone: tzinfo) -> str | None:
    """DRF's DateTimeField output: ISO 8601 in the current time zone, 'Z' for UTC."""
    if not value:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _contact(
    row: Mapping[str, Any],
    tags: list[str],
    can_view_pii: bool,
    shape_custom: Callable[[Mapping[str, Any] | None], dict[str, Any]],
    zone: tzinfo,
) -> dict[str, Any]:
    email, phone, address = row["email"], row["phone"], row["address"]
    if not can_view_pii:
        email, phone, address = (
            pii.mask_email(email),
            pii.mask_phone(phone),
            pii.mask_address(address),
        )
    company_id, owner_id = row["company_id"], row["owner_id"]
    return {
        "id": row["id"],
        "external_id": row["external_id"],
        "first_name": row["first_name"],
        "last_name": row["last_name"],
        "full_name": format_full_name(row["first_name"], row["last_name"]),
        "title": row["title"],
        "company": None if company_id is None else {"id": company_id, "name": row["company__name"]},
        "email": email,
        "phone": phone,
        "address": address,
        "lifecycle_stage": row["lifecycle_stage"],
        "source": row["source"],
        "owner": None if owner_id is None else {"id": owner_id, "username": row["owner__username"]},
        "tags": tags,
        "custom_fields": shape_custom(row["custom_fields"]),
        "notes": row["notes"],
        "consent_email": row["consent_email"],
        "consent_phone": row["consent_phone"],
        "consent_updated_at": _time(row["consent_updated_at"], zone),
        "created_at": _time(row["created_at"], zone),
        "updated_at": _time(row["updated_at"], zone),
    }
