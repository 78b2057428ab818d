"""Writes for deals: create, update, upsert, move between stages, delete.

A deal's status follows its stage: a deal in a "won" stage is won. Setting only the status
moves the deal to the first stage of its pipeline with that outcome.

Each write takes the `actor` its door built; ``_write`` (and the delete) report it to
``observers.notify``, the one place field history will hook in.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import events, selectors
from customers.actors import Actor
from customers.models import Company, Contact, Deal, Stage
from customers.representation import DEAL
from customers.services import observers
from customers.services._common import (
    Errors,
    action_of,
    assign,
    blank_to_none,
    check_tag_names,
    pop_tag_names,
    reject_unknown_fields,
    replace_tags,
    resolve,
    resolve_references,
    save,
    tag_ids,
    tags_from_names,
    upsert_by,
    validate_record,
)
from customers.services.rules import StagesOfOneDeal, apply_deal_status, no_default_stage

User = get_user_model()

# What a caller may write: the representation's writable fields.
DEAL_FIELDS = frozenset(field.name for field in DEAL.writable)


def deal_create(
    *,
    actor: Actor,
    name: str = "",
    stage: Stage | int | None = None,
    amount: Decimal | str | int = Decimal("0"),
    currency: str | None = None,
    company: Company | int | None = None,
    primary_contact: Contact | int | None = None,
    expected_close_date: date | str | None = None,
    status: str | None = None,
    owner: Any = None,
    external_id: str | None = None,
    tags: Iterable[str] = (),
    custom_fields: Mapping[str, Any] | None = None,
) -> Deal:
    """Create a deal; without a stage it starts in the default pipeline's first open stage."""
    data = {
        "name": name,
        "stage": stage,
        "amount": amount,
        "currency": currency or settings.DEFAULT_CURRENCY,
        "company": company,
        "primary_contact": primary_contact,
        "expected_close_date": expected_close_date,
        "owner": owner,
        "external_id": external_id,
        "tags": tags,
        "custom_fields": custom_fields,
    }
    if status is not None:
        data["status"] = status
    return _write(Deal(), data, actor=actor)


def deal_update(*, actor: Actor, deal: Deal, data: Mapping[str, Any]) -> Deal:
    return _write(deal, data, actor=actor)


def deal_upsert(*, actor: Actor, data: Mapping[str, Any]) -> tuple[Deal, bool]:
    """Update the deal with `data["external_id"]`, or create it. Returns (deal, created)."""
    return upsert_by(
        model=Deal,
        data=data,
        find=selectors.find_deal_by_external_id,
        write=_write,
        create_defaults={"currency": settings.DEFAULT_CURRENCY},
        actor=actor,
    )


def deal_move_to_stage(*, actor: Actor, deal: Deal, stage: Stage | int) -> Deal:
    return _write(deal, {"stage": stage}, actor=actor)


@transaction.atomic
def deal_delete(*, actor: Actor, deal: Deal) -> None:
    """Activities logged on the deal are kept (their link is cleared)."""
    events.record("deal.deleted", deal)
    observers.notify(actor=actor, entity="deal", action="deleted", records=[deal])
    deal.delete()


@transaction.atomic
def _write(deal: Deal, data: Mapping[str, Any], *, actor: Actor) -> Deal:
    reject_unknown_fields(data, DEAL_FIELDS)
    values = dict(data)
    tag_names = pop_tag_names(values)
    custom_values = values.pop("custom_fields", None)
    status = values.pop("status", None)
    errors: Errors = {}
    references = (("company", Company), ("primary_contact", Contact), ("owner", User))
    resolve_references(values, references, errors)
    check_tag_names(tag_names, errors)
    if "external_id" in values:
        values["external_id"] = blank_to_none(values["external_id"])
    if isinstance(values.get("currency"), str):
        values["currency"] = values["currency"].strip().upper()
    stage_given = values.get("stage") not in (None, "")
    if "stage" in values or deal._state.adding:
        try:
            values["stage"] = _stage_for(deal, values.get("stage"))
        except ValidationError as error:
            values.pop("stage", None)
            error.update_error_dict(errors)

    adding = deal._state.adding
    custom_before = events.CustomValuesSnapshot(deal)
    previous_stage_id = deal.stage_id
    previous_status = deal.status if not adding else None
    changed = assign(deal, values)
    if "stage" not in errors:  # a status is checked against the stage
        try:
            _apply_status(deal, requested=status, stage_given=stage_given)
        except ValidationError as error:
            error.update_error_dict(errors)
    if deal.status != previous_status:
        deal.closed_at = None if deal.status == Deal.Status.OPEN else timezone.now()

    validate_record(deal, custom_fields=custom_values, errors=errors)
    if deal.status != previous_status and not adding:
        changed.add("status")
    tags = tags_from_names(tag_names) if tag_names is not None else None
    tags_before = tag_ids(deal, tags)
    save(deal)
    if replace_tags(deal, tags, before=tags_before):
        changed.add("tags")
    events.record_change(deal, created=adding, changed=changed | custom_before.changed_names(deal))
    if not adding and deal.stage_id != previous_stage_id:
        stages = {"from_stage": previous_stage_id, "to_stage": deal.stage_id}
        events.record("deal.stage_changed", deal, data={**stages, "status": deal.status})
    observers.notify(actor=actor, entity="deal", action=action_of(adding), records=[deal])
    return deal


def _stage_for(deal: Deal, requested: Any) -> Stage:
    stage = resolve(Stage, requested, field="stage")
    if stage is not None:
        return stage
    if not deal._state.adding:
        raise ValidationError({"stage": _("A deal must stay in a stage.")})
    pipeline = selectors.default_pipeline()
    stage = selectors.first_stage(pipeline=pipeline) if pipeline else None
    if stage is None:
        raise no_default_stage()
    return stage


def _apply_status(deal: Deal, *, requested: str | None, stage_given: bool) -> None:
    """The rule the import follows too (``rules.apply_deal_status``), with this deal's stage."""
    stages = StagesOfOneDeal(deal.stage)
    apply_deal_status(deal, requested=requested, stage_given=stage_given, stages=stages)
    if deal.stage_id in stages.found:
        deal.stage = stages.found[deal.stage_id]
