"""Writes for companies: create, update, upsert, delete and merge.

Each takes the `actor` its door built; ``_write`` (and the delete and merge) report it to
``observers.notify``, the one place field history will hook in.
"""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from customers import crypto, events, selectors
from customers.actors import Actor
from customers.models import Activity, Company, Contact, Deal
from customers.representation import COMPANY
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
COMPANY_FIELDS = frozenset(field.name for field in COMPANY.writable)
_NULL_WHEN_BLANK = ("address", "phone", "external_id")
_MERGE_FILLED_FIELDS = (
    "domain",
    "industry",
    "size_band",
    "country",
    "address",
    "phone",
    "owner",
    "external_id",
)


def company_create(
    *,
    actor: Actor,
    name: str = "",
    domain: str = "",
    industry: str = "",
    size_band: str = "",
    country: str = "",
    address: str | None = None,
    phone: str | None = None,
    owner: Any = None,
    external_id: str | None = None,
    tags: Iterable[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
) -> Company:
    data = {
        "name": name,
        "domain": domain,
        "industry": industry,
        "size_band": size_band,
        "country": country,
        "address": address,
        "phone": phone,
        "owner": owner,
        "external_id": external_id,
        "tags": tags,
        "custom_fields": custom_fields,
    }
    return _write(Company(), data, actor=actor)


def company_update(*, actor: Actor, company: Company, data: Mapping[str, Any]) -> Company:
    return _write(company, data, actor=actor)


def company_upsert(*, actor: Actor, data: Mapping[str, Any]) -> tuple[Company, bool]:
    """Update the company with `data["external_id"]`, or create it. Returns (company, created)."""
    return upsert_by(
        model=Company,
        data=data,
        find=selectors.find_company_by_external_id,
        write=_write,
        actor=actor,
    )


@transaction.atomic
def company_delete(*, actor: Actor, company: Company) -> None:
    """Contacts, deals and activities outlive their company (their link is cleared)."""
    events.record("company.deleted", company)
    observers.notify(actor=actor, entity="company", action="deleted", records=[company])
    company.delete()


@transaction.atomic
def company_merge(*, actor: Actor, primary: Company, duplicates: Sequence[Company]) -> Company:
    """Fold duplicates into `primary`: contacts, deals, activities and tags move over, blanks
    on the primary are filled from the duplicates, which are then deleted."""
    duplicates = [dup for dup in duplicates if dup.pk != primary.pk]
    if not duplicates:
        raise ValidationError({"duplicates": _("Name at least one other company to merge.")})
    duplicate_ids = [dup.pk for dup in duplicates]
    found = Company.objects.select_for_update().filter(pk__in=duplicate_ids)
    if found.count() != len(set(duplicate_ids)):
        raise ValidationError({"duplicates": _("Some of these companies no longer exist.")})

    for model in (Contact, Deal, Activity):
        model.objects.filter(company_id__in=duplicate_ids).update(company=primary)
    merged_tags = [tag.name for tag in primary.tags.all()]
    for duplicate in duplicates:
        merged_tags.extend(tag.name for tag in duplicate.tags.all())
    fills: dict[str, Any] = {"tags": merged_tags}
    for name in _MERGE_FILLED_FIELDS:
        if getattr(primary, name) in (None, ""):
            fills[name] = next(
                (getattr(dup, name) for dup in duplicates if getattr(dup, name) not in (None, "")),
                getattr(primary, name),
            )
    merge_custom_values(primary, duplicates)
    for duplicate in duplicates:
        events.record("company.deleted", duplicate, data={"merged_into": primary.pk})
    observers.notify(actor=actor, entity="company", action="deleted", records=duplicates)
    found.delete()
    merged = _write(primary, fills, actor=actor)
    events.record("company.merged", merged, data={"merged_ids": duplicate_ids})
    observers.notify(actor=actor, entity="company", action="merged", records=[merged])
    return merged


@transaction.atomic
def _write(company: Company, data: Mapping[str, Any], *, actor: Actor) -> Company:
    reject_unknown_fields(data, COMPANY_FIELDS)
    values = dict(data)
    tag_names = pop_tag_names(values)
    custom_values = values.pop("custom_fields", None)
    errors: Errors = {}
    resolve_references(values, (("owner", User),), errors)
    check_tag_names(tag_names, errors)
    for name in _NULL_WHEN_BLANK:
        if name in values:
            values[name] = blank_to_none(values[name])
    if isinstance(values.get("country"), str):
        values["country"] = values["country"].strip().upper()

    adding = company._state.adding
    custom_before = events.CustomValuesSnapshot(company)
    changed = assign(company, values)
    company.phone_index = crypto.phone_index(company.phone)
    validate_record(
        company, custom_fields=custom_values, aliases={"phone_index": "phone"}, errors=errors
    )
    tags = tags_from_names(tag_names) if tag_names is not None else None
    tags_before = tag_ids(company, tags)
    save(company)
    if replace_tags(company, tags, before=tags_before):
        changed.add("tags")
    events.record_change(
        company, created=adding, changed=changed | custom_before.changed_names(company)
    )
    observers.notify(actor=actor, entity="company", action=action_of(adding), records=[company])
    return company


def company_for_name(*, actor: Actor, name: str, create: bool) -> tuple[Company | None, bool]:
    """The company called `name`, compared exactly but for case (the oldest when several
    are), as an import matches one; with `create`, a new one when none is (through
    `company_create`, so with its rules and its event). Returns (company or None, created)."""
    name = name.strip()
    # the exact name too: SQLite's LOWER() folds ASCII letters only
    candidates = (
        Company.objects.annotate(lowered=Lower("name"))
        .filter(Q(lowered=name.lower()) | Q(name=name))
        .order_by("pk")
    )
    found = next((c for c in candidates if c.name.lower() == name.lower()), None)
    if found is not None or not create or not name:
        return found, False
    return company_create(actor=actor, name=name), True
