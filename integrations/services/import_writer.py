"""Write one chunk of clean rows: match, dedupe, validate together, then bulk insert/update.

One query finds the chunk's existing records (by id, external id or the email blind index), one
checks its unique values against the database, and bulk operations write it. The caller wraps a
chunk in a transaction, so a chunk commits whole or not at all; running the same chunk again
finds its own rows and updates them instead of inserting twice.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from customers import crypto, selectors
from customers.custom_fields.values import apply_custom_values
from customers.models import Contact, CustomField, Deal, Stage
from customers.services._common import tags_from_names
from integrations.services.bulk_sql import insert_returning_pks, update_fields
from integrations.services.import_rows import MODELS, CleanRow

_BULK_BATCH = 1000


@dataclass
class RowProblem:
    number: int
    field: str
    message: str
    values: dict[str, Any]


@dataclass
class ChunkResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    def fail(self, row: CleanRow, errors: Mapping[str, Sequence[str]]) -> None:
        self.failed += 1
        for name, messages in errors.items():
            for message in messages:
                self.problems.append(RowProblem(row.number, name, message, row.original))

    def skip(self, row: CleanRow, message: str, name: str = "") -> None:
        self.skipped += 1
        self.problems.append(RowProblem(row.number, name, message, row.original))


@dataclass
class _Planned:
    row: CleanRow
    instance: models.Model
    created: bool


def write_chunk(
    *,
    resource: str,
    rows: Sequence[CleanRow],
    mode: str,
    match_key: str,
    definitions: Sequence[CustomField],
) -> ChunkResult:
    model = MODELS[resource]
    result = ChunkResult()
    valid = []
    for row in rows:
        if row.errors:
            result.fail(row, row.errors)
        else:
            valid.append(row)
    existing = _existing(model, valid, match_key)
    stages = _StageTable.load() if model is Deal else None

    planned: dict[Any, _Planned] = {}  # match key -> the record this chunk writes for it
    unkeyed: list[_Planned] = []
    for row in valid:
        key = _match_value(row, match_key)
        earlier = planned.get(key) if key is not None else None
        if earlier is not None and mode == "insert":
            result.skip(row, f"Duplicate of row {earlier.row.number} in this file.")
            continue
        instance = earlier.instance if earlier else existing.get(key) if key is not None else None
        if instance is None and mode == "update":
            result.skip(row, "No existing record matches this row.", match_key)
            continue
        if instance is not None and earlier is None and mode == "insert":
            result.skip(row, "A record with this key already exists.", match_key)
            continue
        created = instance is None if earlier is None else earlier.created
        instance = instance if instance is not None else model()
        try:
            _apply(instance, row, created=created, definitions=definitions, stages=stages)
        except ValidationError as error:
            result.fail(row, error.message_dict)
            continue
        plan = _Planned(row=row, instance=instance, created=created)
        if key is None:
            unkeyed.append(plan)
        else:
            planned[key] = plan  # a later row with the same key merges into the same record
    plans = _drop_unique_conflicts(model, [*planned.values(), *unkeyed], result)
    _save(model, plans)
    for plan in plans:
        if plan.created:
            result.created += 1
        else:
            result.updated += 1
    return result


def _match_value(row: CleanRow, match_key: str) -> Any:
    """The chosen match key first; our own `id` column only for rows without one (a
    re-imported export of records that have no external id)."""
    if match_key == "email":
        index = crypto.email_index(row.values.get("email"))
        if index:
            return ("email", index)
    elif row.values.get("external_id"):
        return ("external_id", row.values["external_id"])
    if row.record_id is not None:
        return ("id", row.record_id)
    return None


def _existing(model: type[models.Model], rows: Sequence[CleanRow], match_key: str) -> dict:
    keys = {_match_value(row, match_key) for row in rows}
    keys.discard(None)
    ids = {value for kind, value in keys if kind == "id"}
    values = {value for kind, value in keys if kind != "id"}
    found: dict[Any, models.Model] = {}
    query = models.Q(pk__in=ids)
    column = "email_index" if match_key == "email" else "external_id"
    if values:
        query |= models.Q(**{f"{column}__in": values})
    if not ids and not values:
        return found
    for instance in model._default_manager.filter(query):
        found[("id", instance.pk)] = instance
        key_value = getattr(instance, column, None)
        if key_value:
            found[(match_key, key_value)] = instance
    return found


def _apply(
    instance: models.Model,
    row: CleanRow,
    *,
    created: bool,
    definitions: Sequence[CustomField],
    stages: "_StageTable | None",
) -> None:
    values = dict(row.values)
    status = values.pop("status", None) if isinstance(instance, Deal) else None
    before_consent = (
        (instance.consent_email, instance.consent_phone) if isinstance(instance, Contact) else None
    )
    for name, value in values.items():
        setattr(instance, name, value)
    errors: dict[str, list[str]] = {}
    if isinstance(instance, Contact):
        instance.email_index = crypto.email_index(instance.email)
        instance.phone_index = crypto.phone_index(instance.phone)
        if (instance.consent_email, instance.consent_phone) != before_consent or (
            created and (instance.consent_email or instance.consent_phone)
        ):
            instance.consent_updated_at = timezone.now()
        if not (instance.first_name or instance.last_name or instance.email or instance.phone):
            errors["first_name"] = ["A contact needs a name, an email or a phone number."]
    elif isinstance(instance, Deal):
        _apply_deal_stage(instance, status, created=created, stages=stages, errors=errors)
    elif not getattr(instance, "name", None):
        errors["name"] = ["This field cannot be blank."]
    if hasattr(instance, "phone_index") and not isinstance(instance, Contact):
        instance.phone_index = crypto.phone_index(instance.phone)
    if created and hasattr(instance, "custom_fields") and instance.custom_fields is None:
        instance.custom_fields, instance.custom_index = {}, {}
    if hasattr(instance, "custom_fields"):
        try:
            apply_custom_values(instance, row.custom or None, definitions=definitions)
        except ValidationError as error:
            errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    row.values = values  # what this row wrote: the fields a bulk update must touch


def _apply_deal_stage(
    deal: Deal,
    status: str | None,
    *,
    created: bool,
    stages: "_StageTable",
    errors: dict[str, list[str]],
) -> None:
    if created and not deal.currency:
        deal.currency = settings.DEFAULT_CURRENCY
    if deal.stage_id is None:
        deal.stage_id = stages.default_open
        if deal.stage_id is None:
            errors["stage"] = ["No stage given and no pipeline with an open stage."]
            return
    outcome = stages.outcome[deal.stage_id]
    if status and status != outcome:
        if status not in Deal.Status.values:
            errors["status"] = [f"{status!r} is not one of {Deal.Status.values}."]
            return
        target = stages.first_with_outcome(deal.stage_id, status)
        if target is None:
            errors["status"] = [f"The deal's pipeline has no {status} stage."]
            return
        deal.stage_id, outcome = target, status
    if deal.status != outcome or created:
        deal.closed_at = None if outcome == Deal.Status.OPEN else timezone.now()
    deal.status = outcome


class _StageTable:
    """All stages in memory (a CRM has tens): a deal's status follows its stage's outcome."""

    def __init__(self, stages: list[Stage]) -> None:
        self.outcome = {stage.pk: stage.outcome for stage in stages}
        self.pipeline = {stage.pk: stage.pipeline_id for stage in stages}
        self.ordered = sorted(stages, key=lambda stage: (stage.position, stage.pk))
        pipeline = selectors.default_pipeline()
        first = selectors.first_stage(pipeline=pipeline) if pipeline else None
        self.default_open = first.pk if first else None

    @classmethod
    def load(cls) -> "_StageTable":
        return cls(list(Stage.objects.all()))

    def first_with_outcome(self, stage_id: int, outcome: str) -> int | None:
        pipeline = self.pipeline[stage_id]
        return next(
            (s.pk for s in self.ordered if s.pipeline_id == pipeline and s.outcome == outcome),
            None,
        )


def _drop_unique_conflicts(
    model: type[models.Model], plans: list[_Planned], result: ChunkResult
) -> list[_Planned]:
    """Unique values (external id, a contact's email) must not collide with other records,
    in the database or in this chunk; colliding rows fail with the field named."""
    columns = ["external_id"] + (["email_index"] if model is Contact else [])
    kept = plans
    for column in columns:
        claimed: dict[Any, _Planned] = {}
        for plan in kept:
            value = getattr(plan.instance, column)
            if value:
                claimed.setdefault(value, plan)
        taken = (
            dict(
                model._default_manager.filter(**{f"{column}__in": list(claimed)}).values_list(
                    column, "pk"
                )
            )
            if claimed
            else {}
        )
        field_name = "email" if column == "email_index" else column
        survivors = []
        for plan in kept:
            value = getattr(plan.instance, column)
            owner = claimed.get(value) if value else None
            clash_in_db = value in taken and taken[value] != plan.instance.pk
            clash_in_chunk = owner is not None and owner is not plan
            if clash_in_db or clash_in_chunk:
                other = f"row {owner.row.number}" if clash_in_chunk else "another record"
                result.fail(plan.row, {field_name: [f"Same {field_name} as {other}."]})
            else:
                survivors.append(plan)
        kept = survivors
    return kept


def _save(model: type[models.Model], plans: list[_Planned]) -> None:
    creates = [plan.instance for plan in plans if plan.created]
    updates = [plan for plan in plans if not plan.created]
    insert_returning_pks(model, creates)
    if updates:
        now = timezone.now()
        fields = {"updated_at"}
        for plan in updates:
            plan.instance.updated_at = now
            fields.update(plan.row.values)
        fields.update(_derived_fields(model))
        update_fields(model, [plan.instance for plan in updates], sorted(fields))
    _save_tags(model, [plan for plan in plans if plan.row.tags is not None])


def _derived_fields(model: type[models.Model]) -> set[str]:
    derived = {"custom_fields", "custom_index"}
    if model is Contact:
        derived |= {"email_index", "phone_index", "consent_updated_at"}
    elif model is Deal:
        derived |= {"status", "closed_at", "stage_id"}
    else:
        derived |= {"phone_index"}
    return {name.removesuffix("_id") if name.endswith("_id") else name for name in derived}


def _save_tags(model: type[models.Model], plans: list[_Planned]) -> None:
    if not plans:
        return
    names = {name for plan in plans for name in plan.row.tags}
    tags = {tag.name.lower(): tag for tag in tags_from_names(names)} if names else {}
    through = model.tags.through
    owner_column = f"{model._meta.model_name}_id"
    touched = [plan.instance.pk for plan in plans if not plan.created]
    if touched:
        through.objects.filter(**{f"{owner_column}__in": touched}).delete()
    links = [
        through(**{owner_column: plan.instance.pk, "tag_id": tags[name.lower()].pk})
        for plan in plans
        for name in plan.row.tags
    ]
    through.objects.bulk_create(links, batch_size=_BULK_BATCH, ignore_conflicts=True)
