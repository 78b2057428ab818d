"""Write one chunk of clean rows: match, dedupe, validate together, then bulk insert/update.

One query finds the chunk's existing records (by id, external id or the email blind index), one
checks its unique values against the database, and bulk operations write it. The caller wraps a
chunk in a transaction, so a chunk commits whole or not at all; running the same chunk again
finds its own rows and leaves them alone (unchanged) instead of inserting twice.

Records are model instances without ``Model.__init__`` (their ``__dict__`` filled directly from
``values()`` or the field defaults): the model's own rules run on them, at a fraction of the
cost. A row equal to the stored record (plaintext compared, never ciphertext) is *unchanged*:
counted as such and not written, so ``updated_at`` keeps its meaning.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import TextField
from django.db.models.base import ModelState
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import crypto, events
from customers.actors import Actor
from customers.crypto import StrictEncryptedFieldMixin, decrypt_many
from customers.custom_fields.values import CustomValuesApplier, decrypt
from customers.models import Contact, CustomField, Deal, Tag
from customers.services import observers
from customers.services._common import tags_from_names
from customers.services.rules import (
    RequiredValues,
    StageTable,
    apply_deal_status,
    check_contact_identifiable,
    no_default_stage,
)
from integrations.imports.bulk_sql import (
    column_in,
    insert_links,
    insert_returning_pks,
    update_fields,
)
from integrations.imports.encryption import NO_TOKENS, Tokens
from integrations.imports.rows import MODELS, CleanRow

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
    unchanged: int = 0
    skipped: int = 0
    failed: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    # row number -> id of each record created, when the caller asked (want_ids)
    created_ids: dict[int, int] = field(default_factory=dict)
    # related records created for the rows (create_related): (entity, id, first row number)
    related_created: list[tuple[str, int, int]] = field(default_factory=list)

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
    changed: set[str] = field(default_factory=set)  # the fields an update must write
    tags_changed: bool = False
    stage_before: int | None = None  # a deal's stage before this chunk, for stage_changed


def write_chunk(
    *,
    resource: str,
    rows: Sequence[CleanRow],
    mode: str,
    match_key: str,
    definitions: Sequence[CustomField],
    tokens: Tokens = NO_TOKENS,
    want_ids: bool = False,
    actor: Actor,
) -> ChunkResult:
    """`actor`: who the chunk writes as, reported to ``observers.notify`` with the chunk's
    records (one call per action, not per row). `tokens`: the chunk's PII encrypted ahead of
    time (see imports.encryption). `want_ids`: fill ``created_ids`` (the records an import creates
    for the rows that name them).

    A row whose match key repeats an earlier row's (the same email, compared as the blind
    index compares it, or the same external id) is skipped as "Same email as row N": the
    earlier row is written, and every row of the file is counted once, as written, unchanged,
    skipped or failed (a corrected error report holds a row once per problem, so a repeat
    is not itself a failure)."""
    model = MODELS[resource]
    result = ChunkResult()
    valid = []
    for row in rows:
        if row.errors:
            result.fail(row, row.errors)
        else:
            valid.append(row)
    keys = [_match_value(row, match_key) for row in valid]
    existing = _existing(model, valid, set(keys), match_key)
    stored_tags = _stored_tags(model, valid, existing)
    stages = StageTable.load() if model is Deal else None
    new_record = _Blank(model)
    custom_values = CustomValuesApplier(definitions)
    required = RequiredValues(model)

    planned: dict[Any, _Planned] = {}  # match key -> the record this chunk writes for it
    unkeyed: list[_Planned] = []
    for row, key in zip(valid, keys, strict=True):
        earlier = planned.get(key) if key is not None else None
        if earlier is not None:
            message = _("Same %(field)s as row %(row)s.")
            result.skip(row, message % {"field": key[0], "row": earlier.row.number}, key[0])
            continue
        instance = existing.get(key) if key is not None else None
        if instance is None and mode == "update":
            result.skip(row, _("No existing record matches this row."), match_key)
            continue
        if instance is not None and mode == "insert":
            result.skip(row, _("A record with this key already exists."), match_key)
            continue
        created = instance is None
        instance = instance if instance is not None else new_record()
        plan = _Planned(
            row=row, instance=instance, created=created, stage_before=_stage_of(instance)
        )
        try:
            plan.changed = _apply(
                instance,
                row,
                created=created,
                custom_values=custom_values,
                required=required,
                stages=stages,
            )
        except ValidationError as error:
            result.fail(row, error.message_dict)
            continue
        if row.tags is not None and not created:
            tag_keys = {Tag.key_for(name) for name in row.tags}
            plan.tags_changed = tag_keys != stored_tags.get(instance.pk, set())
        if key is None:
            unkeyed.append(plan)
        else:
            planned[key] = plan
    plans = _drop_unique_conflicts(model, [*planned.values(), *unkeyed], result, match_key)
    writes = [plan for plan in plans if plan.created or plan.changed or plan.tags_changed]
    _save(model, writes, tokens)
    _record_events(model, writes)
    _notify(actor, model, writes)
    if want_ids:
        result.created_ids = {plan.row.number: plan.instance.pk for plan in plans if plan.created}
    for plan in plans:
        if plan.created:
            result.created += 1
        elif plan.changed or plan.tags_changed:
            result.updated += 1
        else:
            result.unchanged += 1
    return result


def rows_kept_out(
    *, resource: str, rows: Sequence[CleanRow], mode: str, match_key: str
) -> set[int]:
    """The numbers of the `rows` `write_chunk` skips for their match key whatever their values:
    a key an earlier row writes, a key a record has ("insert"), none has ("update"). An
    import creates no related record (``create_related``) for these rows."""
    keyed = [(row, _match_value(row, match_key)) for row in rows if not row.errors]
    keys = {key for _, key in keyed if key is not None}
    found: set = set()
    if keys and mode != "upsert":
        ids = {value for kind, value in keys if kind == "id"}
        values = {value for kind, value in keys if kind != "id"}
        column = "email_index" if match_key == "email" else "external_id"
        query = models.Q(pk__in=ids)
        if values:
            query |= models.Q(column_in(MODELS[resource], column, list(values)))
        for pk, value in MODELS[resource]._default_manager.filter(query).values_list("pk", column):
            found.add(("id", pk))
            if value:
                found.add((match_key, value))
    out: set[int] = set()
    written: set = set()
    for row, key in keyed:
        repeated = key is not None and key in written
        if repeated or (mode == "insert") == (key in found) and mode != "upsert":
            out.add(row.number)
        elif key is not None:
            written.add(key)
    return out


def _match_value(row: CleanRow, match_key: str) -> Any:
    """The chosen match key first; our own `id` column only for rows without one (a
    re-imported export of records that have no external id)."""
    if match_key == "email":
        if row.email_index is None:  # computed where the row was prepared, when it was
            row.email_index = crypto.email_index(row.values.get("email"))
        index = row.email_index
        if index:
            return ("email", index)
    elif row.values.get("external_id"):
        return ("external_id", row.values["external_id"])
    if row.record_id is not None:
        return ("id", row.record_id)
    return None


class _Blank:
    """New records: a model instance with the fields' defaults, without ``Model.__init__``."""

    def __init__(self, model: type[models.Model]) -> None:
        self.model = model
        self.fixed: dict[str, Any] = {}
        self.fresh: list[tuple[str, Any]] = []  # callable defaults ({}, []): one per record
        for model_field in model._meta.concrete_fields:
            if model_field.has_default() and callable(model_field.default):
                self.fresh.append((model_field.attname, model_field.default))
            else:
                self.fixed[model_field.attname] = model_field.get_default()

    def __call__(self) -> models.Model:
        instance = self.model.__new__(self.model)
        state = instance.__dict__
        state.update(self.fixed)
        for attname, default in self.fresh:
            state[attname] = default()
        state["_state"] = ModelState()
        return instance


def _loaded(model: type[models.Model], values: dict[str, Any]) -> models.Model:
    instance = model.__new__(model)
    instance.__dict__.update(values)
    state = ModelState()
    state.adding, state.db = False, "default"
    instance.__dict__["_state"] = state
    return instance


def _existing(
    model: type[models.Model], rows: Sequence[CleanRow], keys: set, match_key: str
) -> dict:
    """The chunk's matched records, with the columns an update may write or compare; PII is
    decrypted only for the encrypted fields some row of the chunk brings."""
    keys.discard(None)
    ids = {value for kind, value in keys if kind == "id"}
    values = {value for kind, value in keys if kind != "id"}
    found: dict[Any, models.Model] = {}
    query = models.Q(pk__in=ids)
    column = "email_index" if match_key == "email" else "external_id"
    if values:
        query |= models.Q(column_in(model, column, list(values)))
    if not ids and not values:
        return found
    touched = {name for row in rows for name in row.values}
    plain, encrypted = [], []
    for model_field in model._meta.concrete_fields:
        if not isinstance(model_field, StrictEncryptedFieldMixin):
            plain.append(model_field.attname)
        elif model_field.name in touched:
            encrypted.append(model_field.attname)
    # PII as its stored tokens, decrypted for the whole chunk in one call below: the field's
    # own from_db_value opens one token at a time at ~4x the cost.
    tokens = {f"{attname}_token": Cast(attname, TextField()) for attname in encrypted}
    queryset = model._default_manager.filter(query).order_by().annotate(**tokens)
    records = list(queryset.values(*plain, *tokens))
    _decrypt_in_place(model, records, encrypted)
    for stored in records:
        instance = _loaded(model, stored)
        found[("id", instance.pk)] = instance
        key_value = stored.get(column)
        if key_value:
            found[(match_key, key_value)] = instance
    return found


def _decrypt_in_place(
    model: type[models.Model], records: list[dict[str, Any]], attnames: Sequence[str]
) -> None:
    """Replace each record's ``<attname>_token`` by the plaintext under ``<attname>``."""
    if not attnames or not records:
        return
    aliases = [f"{attname}_token" for attname in attnames]
    tokens = [record.pop(alias) for record in records for alias in aliases]
    what = f"a {model._meta.verbose_name}'s PII"
    plaintexts = iter(decrypt_many(tokens, settings.FIELD_ENCRYPTION_KEYS, what=what))
    for record in records:
        for attname in attnames:
            record[attname] = next(plaintexts)


def _stored_tags(
    model: type[models.Model], rows: Sequence[CleanRow], existing: dict
) -> dict[int, set[str]]:
    """The tag keys of matched records, when the chunk brings tags: to tell unchanged rows."""
    if not existing or not any(row.tags is not None for row in rows):
        return {}
    through = model.tags.through
    owner_column = f"{model._meta.model_name}_id"
    pks = {instance.pk for instance in existing.values()}
    tags: dict[int, set[str]] = {}
    links = through.objects.filter(column_in(through, owner_column, list(pks))).values_list(
        owner_column, "tag__name_key"
    )
    for owner, key in links:
        tags.setdefault(owner, set()).add(key)
    return tags


_DERIVED = {
    "contact": ("email_index", "phone_index", "consent_updated_at"),
    "company": ("phone_index",),
    "deal": ("status", "closed_at", "stage_id", "currency"),
}


def _apply(
    instance: models.Model,
    row: CleanRow,
    *,
    created: bool,
    custom_values: CustomValuesApplier,
    required: RequiredValues,
    stages: StageTable | None,
) -> set[str]:
    """Set the row's values on `instance` with the model's rules; return the names of the
    fields whose value differs from before (all of them don't matter for a new record)."""
    state = instance.__dict__
    values = row.values
    status = None
    if isinstance(instance, Deal):
        values = dict(values)
        status = values.pop("status", None)
    # a new record is written whole: no need to know what changed
    watched = () if created else [*values, *_DERIVED[instance._meta.model_name]]
    before = {name: state.get(name) for name in watched}
    before_consent = (
        (instance.consent_email, instance.consent_phone) if isinstance(instance, Contact) else None
    )
    state.update(values)
    errors: dict[str, list[str]] = {}
    if isinstance(instance, Contact):
        if "email" in values:
            instance.email_index = row.email_index or crypto.email_index(instance.email)
        if "phone" in values:
            instance.phone_index = row.phone_index or crypto.phone_index(instance.phone)
        if (instance.consent_email, instance.consent_phone) != before_consent or (
            created and (instance.consent_email or instance.consent_phone)
        ):
            instance.consent_updated_at = timezone.now()
        check_contact_identifiable(instance, errors)
    elif isinstance(instance, Deal):
        stage_given = values.get("stage_id") is not None
        _apply_deal_stage(
            instance, status, created=created, stage_given=stage_given, stages=stages, errors=errors
        )
    required.check(instance, errors)
    if not isinstance(instance, Contact) and "phone" in values:
        instance.phone_index = row.phone_index or crypto.phone_index(instance.phone)
    changed = {name for name in watched if state.get(name) != before[name]}
    if created and not custom_values.active and not row.custom:
        pass  # nothing to validate or fill; the new record's custom values stay {}
    elif created or changed or _custom_differs(instance, row.custom, custom_values):
        if instance.custom_fields is None:
            instance.custom_fields, instance.custom_index = {}, {}
        # a new record's event names no fields: only an update needs the before state
        custom_before = None if created else events.CustomValuesSnapshot(instance)
        try:
            custom_values.apply(instance, row.custom or None)
        except ValidationError as error:
            errors.update(error.message_dict)
        else:
            # the columns to write, and (for the change feed) the custom fields by name
            changed |= {"custom_fields", "custom_index"}
            if custom_before is not None:
                names = custom_before.changed_names(instance)
                changed |= {CUSTOM_PREFIX + name for name in names}
    if errors:
        raise ValidationError(errors)
    return changed


def _custom_differs(
    instance: models.Model, incoming: dict[str, Any], custom_values: CustomValuesApplier
) -> bool:
    """Whether `incoming` custom values change the stored ones, compared as plaintext (a PII
    value is encrypted with a fresh IV each time, so its ciphertext always differs)."""
    if not incoming:
        return False
    stored = instance.custom_fields or {}
    for name, raw in incoming.items():
        definition = custom_values.active.get(name)
        if definition is None:
            return True  # applying reports it
        try:
            value = custom_values.coercers[name](raw)
        except ValidationError:
            return True
        old = stored.get(name)
        if definition.pii and old is not None:
            old = decrypt(old, name=name)
            value = None if value is None else str(value)
        if value != old:
            return True
    return False


def _apply_deal_stage(
    deal: Deal,
    status: str | None,
    *,
    created: bool,
    stage_given: bool,
    stages: StageTable,
    errors: dict[str, list[str]],
) -> None:
    """The services' stage and status rules (``rules.apply_deal_status``) on the chunk's
    stage table; what stays here is the bulk path's own bookkeeping (currency, closed_at)."""
    if created and not deal.currency:
        deal.currency = settings.DEFAULT_CURRENCY
    if deal.stage_id is None:
        deal.stage_id = stages.default_open
        if deal.stage_id is None:
            no_default_stage().update_error_dict(errors)
            return
    before = deal.status
    try:
        apply_deal_status(deal, requested=status or None, stage_given=stage_given, stages=stages)
    except ValidationError as error:
        error.update_error_dict(errors)
        return
    if deal.status != before or created:
        deal.closed_at = None if deal.status == Deal.Status.OPEN else timezone.now()


def _drop_unique_conflicts(
    model: type[models.Model], plans: list[_Planned], result: ChunkResult, match_key: str
) -> list[_Planned]:
    """Unique values (external id, a contact's email) must not collide with other records,
    in the database or in this chunk; colliding rows fail with the field named. The match
    key's own column needs no query: a row bringing a stored value was matched to its owner."""
    columns = ["external_id"] + (["email_index"] if model is Contact else [])
    kept = plans
    for column in columns:
        check_database = column != ("email_index" if match_key == "email" else "external_id")
        claimed: dict[Any, _Planned] = {}
        for plan in kept:
            value = getattr(plan.instance, column)
            if value:
                claimed.setdefault(value, plan)
        taken = (
            dict(
                model._default_manager.filter(column_in(model, column, list(claimed)))
                .order_by()
                .values_list(column, "pk")
            )
            if claimed and check_database
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
                if clash_in_chunk:
                    message = _("Same %(field)s as row %(row)s.")
                    message %= {"field": field_name, "row": owner.row.number}
                else:
                    message = _("Same %(field)s as another record.") % {"field": field_name}
                result.fail(plan.row, {field_name: [message]})
            else:
                survivors.append(plan)
        kept = survivors
    return kept


def _record_events(model: type[models.Model], plans: list[_Planned]) -> None:
    """The chunk's outbox events, in bulk and in the chunk's transaction: one per record
    created, one per record updated naming the fields (custom ones by name) that changed."""
    entity = model._meta.model_name
    events.record_many(f"{entity}.created", [plan.instance for plan in plans if plan.created])
    updated = [plan for plan in plans if not plan.created]
    events.record_many(
        f"{entity}.updated",
        [plan.instance for plan in updated],
        changed=[_public_names(plan) for plan in updated],
    )

    moved = [
        plan
        for plan in updated
        if isinstance(plan.instance, Deal) and plan.instance.stage_id != plan.stage_before
    ]
    events.record_many(
        "deal.stage_changed",
        [plan.instance for plan in moved],
        data=[
            {
                "from_stage": plan.stage_before,
                "to_stage": plan.instance.stage_id,
                "status": plan.instance.status,
            }
            for plan in moved
        ],
    )


def _notify(actor: Actor, model: type[models.Model], plans: list[_Planned]) -> None:
    entity = model._meta.model_name
    for action, created in (("created", True), ("updated", False)):
        records = [plan.instance for plan in plans if plan.created is created]
        observers.notify(actor=actor, entity=entity, action=action, records=records)


def _stage_of(instance: models.Model) -> int | None:
    return instance.stage_id if isinstance(instance, Deal) else None


# Columns written alongside a change that are not fields a reader knows.
_INTERNAL = {"custom_fields", "custom_index", "email_index", "phone_index", "consent_updated_at"}
CUSTOM_PREFIX = "custom_fields."


def _public_names(plan: _Planned) -> list[str]:
    names = {
        name.removeprefix(CUSTOM_PREFIX).removesuffix("_id")
        for name in plan.changed
        if name not in _INTERNAL
    }
    return sorted(names | ({"tags"} if plan.tags_changed else set()))


def _save(model: type[models.Model], plans: list[_Planned], tokens: Tokens) -> None:
    creates = [plan.instance for plan in plans if plan.created]
    # a new set of tags is a change too: updated_at moves (exports "updated since" see it)
    updates = [plan for plan in plans if not plan.created and (plan.changed or plan.tags_changed)]
    insert_returning_pks(model, creates, tokens)
    if updates:
        now = timezone.now()
        names = {"updated_at"}
        for plan in updates:
            plan.instance.updated_at = now
            names |= {name for name in plan.changed if not name.startswith(CUSTOM_PREFIX)}
        update_fields(model, [plan.instance for plan in updates], sorted(names), tokens)
    _save_tags(
        model,
        [
            plan
            for plan in plans
            if plan.row.tags is not None and (plan.created or plan.tags_changed)
        ],
    )


def _save_tags(model: type[models.Model], plans: list[_Planned]) -> None:
    if not plans:
        return
    names = {name for plan in plans for name in plan.row.tags}
    tags = {tag.name_key: tag.pk for tag in tags_from_names(names)} if names else {}
    through = model.tags.through
    owner_column = f"{model._meta.model_name}_id"
    touched = [plan.instance.pk for plan in plans if not plan.created]
    if touched:
        through.objects.filter(**{f"{owner_column}__in": touched}).delete()
    keys = {name: Tag.key_for(name) for name in names}
    links = [(plan.instance.pk, tags[keys[name]]) for plan in plans for name in plan.row.tags]
    new_owners = {plan.instance.pk for plan in plans if plan.created}
    insert_links(through, owner_column, links, new_owners=new_owners)
