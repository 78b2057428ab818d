"""Connections as every door writes them (REST, the web UI): one shape of input (``name``,
``connector``, ``resource``, ``mode``, ``match_key``, ``config``, ``mapping``,
``create_related``, ``schedule`` as ``{"every_minutes": N}``, ``{"crontab": "m h dom mon
dow"}`` or None, ``enabled``), the rules about it that no single door should own (the schedule's
shape, who may match by email, what a secret left out of an edit means), and a dry "test" of a
connection that reads the first page of its source and shows how it would import, writing
nothing.

The stored model, its secrets, the rules every write meets (the admin's included: the
configuration, the crontab line, URLs to non-public addresses) and its celery beat entry are
``integrations.services.sync``'s.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from itertools import islice
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers import pii
from customers.custom_fields.values import definitions_for
from integrations.connectors import ConnectorError
from integrations.connectors.base import DELETE_MARKER, flatten
from integrations.imports import reports as import_reports
from integrations.imports.mapping import resolve_mapping
from integrations.imports.rows import ChunkLookups, clean_own_values, resolve_references
from integrations.imports.services import plain_record
from integrations.models import ENTITY_OF_RESOURCE, Connection, ImportJob, SyncRun
from integrations.services import sync

FIELDS = {
    "name",
    "connector",
    "resource",
    "mode",
    "match_key",
    "config",
    "mapping",
    "create_related",
    "schedule",
    "enabled",
}
TEST_RECORDS = 20  # what a test shows: one page of most sources
MAX_TEST_RECORDS = 100
MAX_EVERY_MINUTES = 366 * 24 * 60


# Schedules


def schedule_from(value: Any) -> sync.Schedule | None:
    """``{"every_minutes": N}``, ``{"crontab": "m h dom mon dow"}`` (UTC) or None as the
    service's Schedule (which checks a crontab line field by field); a ValidationError keyed
    ``schedule`` otherwise."""
    if value is None:
        return None
    if not isinstance(value, Mapping) or len(value) != 1 or value.keys() - _SCHEDULE_KEYS:
        raise _schedule_error(
            _('Give {"every_minutes": N}, {"crontab": "m h dom mon dow"} or null.')
        )
    if "every_minutes" in value:
        minutes = value["every_minutes"]
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            raise _schedule_error(_("every_minutes must be a whole number of minutes."))
        if not 1 <= minutes <= MAX_EVERY_MINUTES:
            raise _schedule_error(
                _("every_minutes must be between 1 and %(most)d.") % {"most": MAX_EVERY_MINUTES}
            )
        return sync.Schedule(every_seconds=minutes * 60)
    line = value["crontab"]
    if not isinstance(line, str):
        raise _schedule_error(
            _("crontab must be text: minute hour day-of-month month day-of-week.")
        )
    return sync.Schedule(crontab=" ".join(line.split()))  # checked field by field there


_SCHEDULE_KEYS = {"every_minutes", "crontab"}


def schedule_data(connection: Connection) -> dict[str, Any] | None:
    """The connection's schedule in the shape ``schedule_from`` takes (an interval set in
    seconds in the admin shows as a fraction of minutes)."""
    every_seconds, crontab = sync.schedule_parts(connection)
    if crontab is not None:
        return {"crontab": crontab}
    if every_seconds is None:
        return None
    minutes = every_seconds // 60 if every_seconds % 60 == 0 else round(every_seconds / 60, 3)
    return {"every_minutes": minutes}


def secret_keys(connection: Connection) -> list[str]:
    """The secret configuration keys stored; their values are never shown by any door."""
    return sync.public_secret_keys(connection)


def _schedule_error(message: str) -> ValidationError:
    return ValidationError({"schedule": [message]})


# Writes


def connection_create(
    *, actor: Any, data: Mapping[str, Any], may_look_up_pii: bool | None = None
) -> Connection:
    """A new connection run as `actor` (its runs import as them). Every refusal comes at once,
    field by field (``config.<key>`` for a configuration key), and then nothing is stored.

    `may_look_up_pii`: matching by email looks people up by personal data, so it needs the
    right to (default: the actor's; an API door passes its key's)."""
    _check_fields(data)
    refusals = _refusals(data, actor=actor, may_look_up_pii=may_look_up_pii, current=None)

    def write(schedule: sync.Schedule | None) -> Connection:
        return sync.connection_create(
            name=data.get("name") or "",
            connector=data.get("connector") or "",
            config=data.get("config") or {},
            resource=data.get("resource") or "",
            mode=data.get("mode") or ImportJob.Mode.UPSERT,
            match_key=data.get("match_key") or ImportJob.MatchKey.EXTERNAL_ID,
            mapping=data.get("mapping") or {},
            create_related=bool(data.get("create_related", False)),
            schedule=schedule,
            enabled=data.get("enabled", True),
            user=actor,
        )

    return _write_checked(write, data.get("schedule"), has_schedule=True, refusals=refusals)


def connection_update(
    *,
    actor: Any,
    connection: Connection,
    data: Mapping[str, Any],
    may_look_up_pii: bool | None = None,
) -> Connection:
    """Change the keys given (a PATCH). In ``config``, a secret key left out, or sent back as
    the placeholder, keeps its stored value; a secret sent as null is removed. The other keys
    of ``config`` are replaced as a whole. The connector cannot change: its configuration
    would mean nothing to another one."""
    _check_fields(data)
    if "connector" in data and data["connector"] != connection.connector:
        raise ValidationError(
            {"connector": [_("A connection's connector cannot change; create a new one.")]}
        )
    refusals = _refusals(data, actor=actor, may_look_up_pii=may_look_up_pii, current=connection)
    changes = {key: value for key, value in data.items() if key not in {"connector", "schedule"}}
    if "config" in changes and isinstance(changes["config"], Mapping):
        kept = dict.fromkeys(sync.public_secret_keys(connection), sync.SECRET_PLACEHOLDER)
        changes["config"] = {**kept, **changes["config"]}

    def write(schedule: sync.Schedule | None) -> Connection:
        values = dict(changes)
        if "schedule" in data:
            values["schedule"] = schedule
        return sync.connection_update(connection=connection, data=values)

    has_schedule = "schedule" in data
    return _write_checked(write, data.get("schedule"), has_schedule=has_schedule, refusals=refusals)


def connection_delete(*, connection: Connection) -> None:
    """The connection, its runs and its celery beat entry."""
    sync.connection_delete(connection=connection)


def connection_run(*, connection: Connection) -> SyncRun:
    """A run queued now, returned ``queued`` (see ``sync.sync_run_queue`` for what is refused
    and why)."""
    return sync.sync_run_queue(connection)


def _check_fields(data: Mapping[str, Any]) -> None:
    unknown = sorted(set(data) - FIELDS)
    if unknown:
        raise ValidationError({name: [_("Unknown field.")] for name in unknown})


def _check_email_match(
    data: Mapping[str, Any],
    *,
    actor: Any,
    may_look_up_pii: bool | None,
    current: Connection | None,
) -> None:
    """Whoever sets a connection to match by email must be allowed to look people up by it
    (the same rule and message as an import's ``match_key``); an edit that keeps it so is
    judged by the creator's rights alone (``sync``), as every run is."""
    email = ImportJob.MatchKey.EMAIL
    if data.get("match_key") != email or actor is None:
        return
    if current is not None and current.match_key == email:
        return
    allowed = pii.can_view_pii(actor) if may_look_up_pii is None else may_look_up_pii
    pii.check_pii_lookup(["match_key"], allowed=allowed)


def _check_contact_email_mapping(
    data: Mapping[str, Any], *, actor: Any, may_look_up_pii: bool | None, current: Connection | None
) -> None:
    """A mapping naming deals' contacts by email looks people up by it too: the same right,
    as an import's mapping (``imports.import_create``) needs; an edit keeping it so is judged
    as `_check_email_match` judges one."""
    mapping = data.get("mapping")
    if actor is None or not isinstance(mapping, Mapping):
        return
    if "primary_contact_email" not in mapping.values():
        return
    if current is not None and "primary_contact_email" in (current.mapping or {}).values():
        return
    allowed = pii.can_view_pii(actor) if may_look_up_pii is None else may_look_up_pii
    pii.check_pii_lookup(["mapping"], allowed=allowed)


def _refusals(
    data: Mapping[str, Any],
    *,
    actor: Any,
    may_look_up_pii: bool | None,
    current: Connection | None,
) -> list[ValidationError]:
    found = []
    for check in (
        lambda: _check_email_match(
            data, actor=actor, may_look_up_pii=may_look_up_pii, current=current
        ),
        lambda: _check_contact_email_mapping(
            data, actor=actor, may_look_up_pii=may_look_up_pii, current=current
        ),
    ):
        try:
            check()
        except ValidationError as error:
            found.append(error)
    return found


def _write_checked(
    write: Callable[[sync.Schedule | None], Connection],
    schedule: Any,
    *,
    has_schedule: bool,
    refusals: list[ValidationError],
) -> Connection:
    """Write, with every refusal reported together (the schedule's, this module's and the
    sync service's): the write is tried, and rolled back, even when something else was
    refused, to find its own errors."""
    refusals = list(refusals)
    parsed = None
    if has_schedule:
        try:
            parsed = schedule_from(schedule)
        except ValidationError as error:
            refusals.append(error)
    try:
        with transaction.atomic():
            connection = write(parsed)
            if refusals:
                raise _Refused
    except (ValidationError, _Refused) as error:
        if isinstance(error, ValidationError):
            refusals.append(error)
        merged: dict[str, list] = {}
        for each in refusals:
            for name, messages in _as_dict(each).items():
                if name not in merged:  # the first refusal of a field says it (no repeats)
                    merged[name] = messages
        raise ValidationError(merged) from None
    return connection


class _Refused(Exception):
    """Undoes a write that other refusals already doomed."""


def _as_dict(error: ValidationError) -> dict[str, list]:
    return error.update_error_dict({})


# A dry run of the source


@dataclass
class TestRecord:
    number: int
    values: dict[str, Any]  # as the source gave it, nested objects as dotted keys
    mapped: dict[str, Any]  # our field → the value it would get
    errors: dict[str, list[str]] = field(default_factory=dict)  # field ("" whole record)
    deletion: str | None = None  # the external_id the source says was deleted


@dataclass
class ConnectionTest:
    records: list[TestRecord]
    mapping: dict[str, str]  # source field → our field
    ignored: list[str]  # source fields no field takes
    more: bool  # the source had more records than were read
    error: str = ""  # the source could not be read (nothing else is then set)


def connection_test(
    *, connection: Connection, limit: int = TEST_RECORDS, can_view_pii: bool = False
) -> ConnectionTest:
    """Read the first `limit` records of the source, from the beginning (no cursor), and show
    how the next run would map and check them: per record, the fields it would fill and its
    errors (values that do not parse, references to records that do not exist). Nothing is
    written: no run, no import job, no record, no cursor, and the source is not acknowledged
    (a drop folder's files stay where they are). A source that cannot be read is the
    result's `error`, not an exception: it is what the test found.

    Without `can_view_pii` the values that feed email, phone, address or a PII custom field are
    masked like the records, and source fields no field takes read ``***``; a mapping that
    names deals' contacts by email is the result's `error` (the lookup would tell who exists),
    as an import refuses it."""
    limit = max(1, min(limit, MAX_TEST_RECORDS))
    try:
        connector = sync.connector_for(connection)
        fetch = connector.fetch(None)
        try:
            read = list(islice(fetch, limit + 1))
        finally:
            fetch.close()
    except (ConnectorError, ValidationError) as error:
        return ConnectionTest(records=[], mapping={}, ignored=[], more=False, error=_text(error))
    more = len(read) > limit
    read = read[:limit]
    flat = [
        plain_record(flatten(record.values)) if isinstance(record.values, Mapping) else {}
        for record in read
    ]
    definitions = definitions_for(ENTITY_OF_RESOURCE[connection.resource])
    headers = list(dict.fromkeys(key for values in flat for key in values))
    try:
        mapping = resolve_mapping(
            resource=connection.resource,
            headers=headers,
            definitions=definitions,
            explicit=connection.mapping,
        )
        if "primary_contact_email" in mapping.targets.values():
            # a contact found or not by each email would tell who exists (as imports refuse)
            pii.check_pii_lookup(["mapping"], allowed=can_view_pii)
    except ValidationError as error:
        return ConnectionTest(records=[], mapping={}, ignored=[], more=more, error=_text(error))
    rows = []
    for record, values in zip(read, flat, strict=True):
        mapped = {
            mapping.targets[key]: value for key, value in values.items() if key in mapping.targets
        }
        row = clean_own_values(
            resource=connection.resource, number=record.number, mapped=mapped, original=values
        )
        deletion = None
        if record.error:
            row.fail("", record.error)
        elif values.get(DELETE_MARKER):
            deletion = str(values.get("external_id") or "")
            if not deletion:
                row.fail("", _("A deletion without an external_id."))
        rows.append((record, values, mapped, row, deletion))
    lookups = ChunkLookups.for_rows([row.references for *_, row, _deletion in rows])
    by_name = {definition.name: definition for definition in definitions}
    shown = _shown_values(connection, can_view_pii)
    hidden = set() if can_view_pii else import_reports.pii_targets(connection.resource)
    records = []
    for record, values, mapped, row, deletion in rows:
        if deletion is None:
            resolve_references(row, lookups, by_name)
        errors = {
            name: [
                import_reports.message_at_rest(
                    field=name, message=message, values=values, pii_targets=hidden
                )
                for message in messages
            ]
            for name, messages in row.errors.items()
        }
        records.append(
            TestRecord(
                number=record.number,
                values=shown(values),
                mapped=shown(mapped),
                errors={} if deletion else errors,
                deletion=deletion,
            )
        )
    return ConnectionTest(
        records=records, mapping=mapping.targets, ignored=mapping.ignored, more=more
    )


def _shown_values(connection: Connection, can_view_pii: bool) -> Callable[[Any], dict]:
    """The error report's masking rule (by what each column feeds), applied to the preview."""
    columns = SimpleNamespace(resource=connection.resource, mapping=connection.mapping or {})
    return import_reports.report_values(job=columns, can_view_pii=can_view_pii)


def _text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            return "; ".join(
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            )
        return " ".join(error.messages)
    return str(error)
