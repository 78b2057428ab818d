"""Writes for activities: calls, emails, meetings, notes and tasks logged on the CRM's records.

Each takes the `actor` its door built; ``_write`` (and the delete) report it to
``observers.notify``, the one place field history will hook in.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from customers import events, selectors
from customers.actors import Actor
from customers.models import Activity, Company, Contact, Deal
from customers.representation import ACTIVITY
from customers.services import observers
from customers.services._common import (
    Errors,
    action_of,
    assign,
    blank_to_none,
    reject_unknown_fields,
    resolve_references,
    save,
    upsert_by,
    validate,
)

User = get_user_model()

# What a write may set: the representation's writable fields, and the author, which the door
# sets to its caller (clients cannot write it).
ACTIVITY_FIELDS = frozenset(field.name for field in ACTIVITY.writable) | {"author"}
_LINKS = (("contact", Contact), ("company", Company), ("deal", Deal))


def activity_create(
    *,
    actor: Actor,
    kind: str = "",
    subject: str = "",
    body: str = "",
    due_at: datetime | str | None = None,
    done_at: datetime | str | None = None,
    contact: Contact | int | None = None,
    company: Company | int | None = None,
    deal: Deal | int | None = None,
    author: Any = None,
    external_id: str | None = None,
) -> Activity:
    """Log an activity on at least one of a contact, a company or a deal. When only a contact
    or a deal is given, the activity is also filed under its company, so company timelines
    show everything that happened with its people."""
    data = {
        "kind": kind,
        "subject": subject,
        "body": body,
        "due_at": due_at,
        "done_at": done_at,
        "contact": contact,
        "company": company,
        "deal": deal,
        "author": author,
        "external_id": external_id,
    }
    return _write(Activity(), data, actor=actor)


def activity_update(*, actor: Actor, activity: Activity, data: Mapping[str, Any]) -> Activity:
    return _write(activity, data, actor=actor)


def activity_upsert(*, actor: Actor, data: Mapping[str, Any]) -> tuple[Activity, bool]:
    return upsert_by(
        model=Activity,
        data=data,
        find=selectors.find_activity_by_external_id,
        write=_write,
        actor=actor,
    )


def activity_complete(*, actor: Actor, activity: Activity) -> Activity:
    if activity.done_at is not None:
        return activity
    return _write(activity, {"done_at": timezone.now()}, actor=actor)


@transaction.atomic
def activity_delete(*, actor: Actor, activity: Activity) -> None:
    events.record("activity.deleted", activity)
    observers.notify(actor=actor, entity="activity", action="deleted", records=[activity])
    activity.delete()


@transaction.atomic
def _write(activity: Activity, data: Mapping[str, Any], *, actor: Actor) -> Activity:
    reject_unknown_fields(data, ACTIVITY_FIELDS)
    values = dict(data)
    errors: Errors = {}
    resolve_references(values, (*_LINKS, ("author", User)), errors)
    if "external_id" in values:
        values["external_id"] = blank_to_none(values["external_id"])
    adding = activity._state.adding
    changed = assign(activity, values)

    if activity.company_id is None:
        linked = activity.contact or activity.deal
        if linked is not None and linked.company_id:
            activity.company_id = linked.company_id
    if not errors.keys() & {name for name, _ in _LINKS} and not any(
        getattr(activity, f"{name}_id") for name, _ in _LINKS
    ):
        message = gettext("An activity must be linked to a contact, a company or a deal.")
        errors["contact"] = [message]
    validate(activity, errors=errors)
    save(activity)
    events.record_change(activity, created=adding, changed=changed)
    observers.notify(actor=actor, entity="activity", action=action_of(adding), records=[activity])
    return activity
