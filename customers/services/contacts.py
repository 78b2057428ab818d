"""Writes for contacts: create, update, upsert, delete and merge.

Every door calls these; they keep the blind indexes in step with the encrypted email and phone.
Each takes the `actor` its door built; ``_write`` (and the delete and merge) report it to
``observers.notify``, the one place field history will hook in.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import crypto, events, selectors
from customers.actors import Actor
from customers.models import Activity, Company, Contact, Deal
from customers.representation import CONTACT
from customers.services import observers
from customers.services._common import (
    Errors,
    action_of,
    assign,
    blank_to_none,
    check_tag_names,
    merge_custom_values,
    pop_tag_names,
    reject_unknown_fields,
    replace_tags,
    resolve_references,
    save,
    tag_ids,
    tags_from_names,
    upsert_by,
    validate_record,
)

User = get_user_model()

# What a caller may write: the representation's writable fields.
CONTACT_FIELDS = frozenset(field.name for field in CONTACT.writable)
_NULL_WHEN_BLANK = ("email", "phone", "address", "external_id")
_INDEX_ALIASES = {"email_index": "email", "phone_index": "phone"}
# Filled on the surviving contact from the first duplicate that has a value.
_MERGE_FILLED_FIELDS = (
    "first_name",
    "last_name",
    "title",
    "company",
    "email",
    "phone",
    "address",
    "source",
    "owner",
    "external_id",
)

MatchKey = Literal["external_id", "email"]


def contact_create(
    *,
    actor: Actor,
    first_name: str = "",
    last_name: str = "",
    title: str = "",
    company: Company | int | None = None,
    email: str | None = None,
    phone: str | None = None,
    address: str | None = None,
    lifecycle_stage: str = Contact.Lifecycle.LEAD,
    source: str = "",
    owner: Any = None,
    notes: str = "",
    consent_email: bool = False,
    consent_phone: bool = False,
    external_id: str | None = None,
    tags: Iterable[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
) -> Contact:
    data = {
        "first_name": first_name,
        "last_name": last_name,
        "title": title,
        "company": company,
        "email": email,
        "phone": phone,
        "address": address,
        "lifecycle_stage": lifecycle_stage,
        "source": source,
        "owner": owner,
        "notes": notes,
        "consent_email": consent_email,
        "consent_phone": consent_phone,
        "external_id": external_id,
        "tags": tags,
        "custom_fields": custom_fields,
    }
    return _write(Contact(), data, actor=actor)


def contact_update(*, actor: Actor, contact: Contact, data: Mapping[str, Any]) -> Contact:
    """Change the given fields only; fields absent from `data` keep their value."""
    return _write(contact, data, actor=actor)


def contact_upsert(
    *, actor: Actor, data: Mapping[str, Any], match: MatchKey = "external_id"
) -> tuple[Contact, bool]:
    """Update the contact matching `data[match]` (external id, or email through the blind
    index), or create one. Returns (contact, created)."""
    finders = {
        "external_id": selectors.find_contact_by_external_id,
        "email": selectors.find_contact_by_email,
    }
    if match not in finders:
        raise ValidationError(
            {"match": _("Cannot match contacts by %(match)s.") % {"match": repr(match)}}
        )
    return upsert_by(
        model=Contact, data=data, find=finders[match], write=_write, key=match, actor=actor
    )


@transaction.atomic
def contact_delete(*, actor: Actor, contact: Contact) -> None:
    """Delete a contact but keep its history: activities stay, re-linked to its company."""
    if contact.company_id:
        contact.activities.filter(company__isnull=True).update(company_id=contact.company_id)
    events.record("contact.deleted", contact)
    observers.notify(actor=actor, entity="contact", action="deleted", records=[contact])
    contact.delete()


@transaction.atomic
def contact_merge(*, actor: Actor, primary: Contact, duplicates: Sequence[Contact]) -> Contact:
    """Fold duplicates into `primary`: their activities, deals and tags move over, blanks on
    the primary are filled from them, notes are appended, and the duplicates are deleted."""
    duplicates = [dup for dup in duplicates if dup.pk != primary.pk]
    if not duplicates:
        raise ValidationError({"duplicates": _("Name at least one other contact to merge.")})
    duplicate_ids = [dup.pk for dup in duplicates]
    found = Contact.objects.select_for_update().filter(pk__in=duplicate_ids)
    if found.count() != len(set(duplicate_ids)):
        raise ValidationError({"duplicates": _("Some of these contacts no longer exist.")})

    Activity.objects.filter(contact_id__in=duplicate_ids).update(contact=primary)
    Deal.objects.filter(primary_contact_id__in=duplicate_ids).update(primary_contact=primary)
    merged_tags = [tag.name for tag in primary.tags.all()]
    for duplicate in duplicates:
        merged_tags.extend(tag.name for tag in duplicate.tags.all())

    fills: dict[str, Any] = {"tags": merged_tags}
    for name in _MERGE_FILLED_FIELDS:
        if _is_blank(getattr(primary, name)):
            fills[name] = next(
                (getattr(dup, name) for dup in duplicates if not _is_blank(getattr(dup, name))),
                getattr(primary, name),
            )
    notes = [primary.notes, *(dup.notes for dup in duplicates)]
    fills["notes"] = "\n\n".join(note for note in notes if note)
    fills["consent_email"] = primary.consent_email
    fills["consent_phone"] = primary.consent_phone

    # Unique email / external id move over only once their holders are gone.
    merge_custom_values(primary, duplicates)
    for duplicate in duplicates:
        events.record("contact.deleted", duplicate, data={"merged_into": primary.pk})
    observers.notify(actor=actor, entity="contact", action="deleted", records=duplicates)
    found.delete()
    merged = _write(primary, fills, actor=actor)
    events.record("contact.merged", merged, data={"merged_ids": duplicate_ids})
    observers.notify(actor=actor, entity="contact", action="merged", records=[merged])
    return merged


def _is_blank(value: Any) -> bool:
    return value is None or value == ""


@transaction.atomic
def _write(contact: Contact, data: Mapping[str, Any], *, actor: Actor) -> Contact:
    reject_unknown_fields(data, CONTACT_FIELDS)
    values = dict(data)
    tag_names = pop_tag_names(values)
    custom_values = values.pop("custom_fields", None)
    errors: Errors = {}
    resolve_references(values, (("company", Company), ("owner", User)), errors)
    check_tag_names(tag_names, errors)
    for name in _NULL_WHEN_BLANK:
        if name in values:
            values[name] = blank_to_none(values[name])

    adding = contact._state.adding
    custom_before = events.CustomValuesSnapshot(contact)
    changed = assign(contact, values)
    contact.email_index = crypto.email_index(contact.email)
    contact.phone_index = crypto.phone_index(contact.phone)
    if changed & {"consent_email", "consent_phone"}:
        contact.consent_updated_at = timezone.now()

    validate_record(contact, custom_fields=custom_values, aliases=_INDEX_ALIASES, errors=errors)
    tags = tags_from_names(tag_names) if tag_names is not None else None
    tags_before = tag_ids(contact, tags)
    save(contact)
    if replace_tags(contact, tags, before=tags_before):
        changed.add("tags")
    events.record_change(
        contact, created=adding, changed=changed | custom_before.changed_names(contact)
    )
    observers.notify(actor=actor, entity="contact", action=action_of(adding), records=[contact])
    return contact
