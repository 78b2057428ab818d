"""Connections and their scheduled runs: a connector fetches what changed since the saved
cursor, the records go through the bulk import pipeline (the same validation, dedupe, chunked
upsert and per-row report as an uploaded file), and the cursor moves on only once they are
committed.

A run spools the fetched records to a JSON file and runs an ``ImportJob`` on it, so a worker
killed mid-import is recovered by the import's own checkpoint (``recover_stalled_imports``);
the next scheduled run then completes the sync run from its finished job. Re-running a sync
creates no duplicates: the import upserts.
"""

import json
import logging
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from celery.schedules import ParseException, crontab_parser
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from crm_project.storage_errors import StorageUnavailable
from customers import pii, selectors
from customers.actors import Actor
from customers.services import companies, contacts, deals
from integrations import queueing
from integrations.connectors import Connector, ConnectorError, connector_class
from integrations.connectors.base import DELETE_MARKER, flatten
from integrations.formats import Record
from integrations.imports import services as imports
from integrations.imports.mapping import field_order
from integrations.models import (
    FINISHED_STATUSES,
    Connection,
    ImportJob,
    JobStatus,
    Resource,
    SyncRun,
)
from integrations.services.connection_addresses import check_config_addresses
from integrations.services.exchange_files import private_folder

logger = logging.getLogger(__name__)

SYNC_TASK = "integrations.sync_connection"
MAX_SOURCE_ERRORS = 1000
SECRET_PLACEHOLDER = "********"
EDITABLE = {
    "name",
    "config",
    "mapping",
    "resource",
    "mode",
    "match_key",
    "create_related",
    "enabled",
    "schedule",
}
Status = SyncRun.Status


@dataclass(frozen=True)
class Schedule:
    """Every `every_seconds`, or on a crontab line (``"*/15 * * * *"``, in UTC)."""

    every_seconds: int | None = None
    crontab: str | None = None

    def __post_init__(self) -> None:
        if (self.every_seconds is None) == (self.crontab is None):
            raise ValidationError({"schedule": _("Give either every_seconds or crontab.")})
        if self.every_seconds is not None and self.every_seconds < 10:
            raise ValidationError({"schedule": _("Run at most every 10 seconds.")})
        if self.crontab is not None:
            check_crontab(self.crontab)


# crontab fields in order: (name, largest value + 1 or the count, smallest value)
_CRONTAB_FIELDS = (
    (gettext_lazy("minute"), 60, 0),
    (gettext_lazy("hour"), 24, 0),
    (gettext_lazy("day of month"), 31, 1),
    (gettext_lazy("month"), 12, 1),
    (gettext_lazy("day of week"), 7, 0),
)


def check_crontab(line: str) -> None:
    """A crontab line checked field by field with celery's own parser, whichever door wrote
    it (REST, the UI, the admin), so beat never meets a line it refuses."""
    parts = line.split() if isinstance(line, str) else []
    if len(parts) != len(_CRONTAB_FIELDS):
        raise ValidationError(
            {
                "schedule": _(
                    "A crontab line has five fields: minute hour day-of-month month day-of-week."
                )
            }
        )
    for (name, size, smallest), part in zip(_CRONTAB_FIELDS, parts, strict=True):
        try:
            crontab_parser(size, smallest).parse(part)
        except (ParseException, ValueError):
            raise ValidationError(
                {
                    "schedule": _("The crontab's %(field)s field “%(value)s” is not valid.")
                    % {"field": name, "value": part}
                }
            ) from None


# Connections


@transaction.atomic
def connection_create(
    *,
    name: str,
    connector: str,
    config: Mapping[str, Any],
    resource: str,
    mode: str = ImportJob.Mode.UPSERT,
    match_key: str = ImportJob.MatchKey.EXTERNAL_ID,
    mapping: Mapping[str, str | None] | None = None,
    schedule: Schedule | None = None,
    enabled: bool = True,
    user: Any = None,
    create_related: bool = False,
) -> Connection:
    """`create_related`: its runs create the companies (and deals' contacts) the records name
    when none matches, as a file import with that option does."""
    connection = Connection(created_by=user, connector=connector, create_related=create_related)
    _assign(connection, {"name": name, "resource": resource, "mode": mode})
    _assign(connection, {"match_key": match_key, "mapping": dict(mapping or {})})
    _set_config(connection, config)
    connection.enabled = enabled
    _validate(connection)
    connection.save()
    _apply_schedule(connection, schedule)
    return connection


@transaction.atomic
def connection_update(*, connection: Connection, data: Mapping[str, Any]) -> Connection:
    """Change the given keys. In ``config``, a secret key sent back as the placeholder the
    API shows keeps its stored value."""
    unknown = sorted(set(data) - EDITABLE)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in unknown})
    _assign(connection, {k: v for k, v in data.items() if k not in {"config", "schedule"}})
    if "config" in data:
        _set_config(connection, data["config"], keep=stored_config(connection))
    _validate(connection)
    connection.save()
    if "schedule" in data or "enabled" in data:
        schedule = data["schedule"] if "schedule" in data else connection_schedule(connection)
        _apply_schedule(connection, schedule)
    return connection


@transaction.atomic
def connection_delete(*, connection: Connection) -> None:
    if connection.schedule_id:
        connection.schedule.delete()
    connection.delete()


def stored_config(connection: Connection) -> dict[str, Any]:
    """The connector's configuration, secrets included (for running it, never for showing)."""
    secrets = json.loads(connection.secrets) if connection.secrets else {}
    return {**connection.config, **secrets}


def public_config(connection: Connection) -> dict[str, Any]:
    """The configuration to show: secret keys present but masked."""
    secrets = json.loads(connection.secrets) if connection.secrets else {}
    return {**connection.config, **dict.fromkeys(secrets, SECRET_PLACEHOLDER)}


def public_secret_keys(connection: Connection) -> list[str]:
    """The names of the secret keys stored (their values are never shown)."""
    return sorted(json.loads(connection.secrets)) if connection.secrets else []


def connector_for(connection: Connection) -> Connector:
    """The connection's connector, configured with its secrets; ValidationError when the
    stored configuration is no longer valid (a drop folder outside the roots since)."""
    return _connector_class(connection.connector)(stored_config(connection))


def _assign(connection: Connection, values: Mapping[str, Any]) -> None:
    for name, value in values.items():
        setattr(connection, name, value)


def _set_config(
    connection: Connection, config: Mapping[str, Any], *, keep: Mapping[str, Any] | None = None
) -> None:
    connector = _connector_class(connection.connector)
    if isinstance(config, Mapping) and keep:
        config = {
            key: keep.get(key) if value == SECRET_PLACEHOLDER else value
            for key, value in config.items()
        }
    checked = connector.validate_config(config)
    check_config_addresses(checked)
    secret_keys = connector.secret_keys()
    connection.config = {k: v for k, v in checked.items() if k not in secret_keys}
    secrets = {k: v for k, v in checked.items() if k in secret_keys}
    connection.secrets = json.dumps(secrets) if secrets else None


def _connector_class(name: str) -> type[Connector]:
    return connector_class(name)


def _validate(connection: Connection) -> None:
    errors: dict[str, str] = {}
    if connection.resource not in Resource.values:
        errors["resource"] = _("Use one of: %(choices)s.") % {"choices": ", ".join(Resource.values)}
    if connection.mode not in ImportJob.Mode.values:
        errors["mode"] = _("Use one of: %(choices)s.") % {
            "choices": ", ".join(ImportJob.Mode.values)
        }
    if connection.match_key not in ImportJob.MatchKey.values:
        errors["match_key"] = _("Use one of: %(choices)s.") % {
            "choices": ", ".join(ImportJob.MatchKey.values)
        }
    elif (
        connection.match_key == ImportJob.MatchKey.EMAIL
        and connection.resource != Resource.CONTACTS
    ):
        errors["match_key"] = _("Only contacts can be matched by email.")
    elif connection.match_key == ImportJob.MatchKey.EMAIL and connection.created_by_id:
        # its runs import as their creator: one who may not look people up by email could
        # learn from the counts who exists (imports.import_create refuses it too)
        try:
            pii.check_pii_lookup(["match_key"], allowed=pii.can_view_pii(connection.created_by))
        except ValidationError as error:
            errors["match_key"] = error.message_dict["match_key"][0]
    if not isinstance(connection.mapping, Mapping):
        errors["mapping"] = _("Expected an object of source field to our field.")
    elif connection.resource in Resource.values:
        known = set(field_order(connection.resource))
        unknown = sorted(
            target
            for target in connection.mapping.values()
            if target and target not in known and not str(target).startswith("custom_fields.")
        )
        if unknown:
            errors["mapping"] = _("Unknown fields for %(resource)s: %(fields)s.") % {
                "resource": connection.resource,
                "fields": ", ".join(unknown),
            }
    if errors:
        raise ValidationError(errors)
    connection.full_clean(exclude=["schedule", "created_by"])


def connection_schedule(connection: Connection) -> Schedule | None:
    """The connection's celery beat entry as a Schedule (None when it has none)."""
    task = connection.schedule
    if task is None:
        return None
    if task.interval_id:
        return Schedule(
            every_seconds=int(task.interval.every * _PERIOD_SECONDS[task.interval.period])
        )
    cron = task.crontab
    fields = (cron.minute, cron.hour, cron.day_of_month, cron.month_of_year, cron.day_of_week)
    return Schedule(crontab=" ".join(fields))


def schedule_parts(connection: Connection) -> tuple[int | None, str | None]:
    """The schedule as (every N seconds, crontab line), for forms; (None, None) without one."""
    schedule = connection_schedule(connection)
    return (schedule.every_seconds, schedule.crontab) if schedule else (None, None)


_PERIOD_SECONDS = {
    IntervalSchedule.SECONDS: 1,
    IntervalSchedule.MINUTES: 60,
    IntervalSchedule.HOURS: 3600,
    IntervalSchedule.DAYS: 86400,
}


def _apply_schedule(connection: Connection, schedule: Schedule | None) -> None:
    """Create, change or remove the connection's celery beat entry."""
    task = connection.schedule
    if schedule is None:
        if task is not None:
            connection.schedule = None
            connection.save(update_fields=["schedule"])
            task.delete()
        return
    interval = crontab = None
    if schedule.every_seconds is not None:
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=schedule.every_seconds, period=IntervalSchedule.SECONDS
        )
    else:
        minute, hour, day_of_month, month_of_year, day_of_week = schedule.crontab.split()
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute,
            hour=hour,
            day_of_month=day_of_month,
            month_of_year=month_of_year,
            day_of_week=day_of_week,
            timezone="UTC",
        )
    task = task or PeriodicTask(task=SYNC_TASK, args=json.dumps([connection.pk]))
    task.name = f"Sync connection {connection.pk}: {connection.name}"[:200]
    task.interval, task.crontab = interval, crontab
    task.enabled = connection.enabled
    task.save()
    if connection.schedule_id != task.pk:
        connection.schedule = task
        connection.save(update_fields=["schedule"])


# Runs


def sync_run(
    connection_id: int,
    *,
    run_id: int | None = None,
    full: bool = False,
    on_progress: imports.Progress | None = None,
    message_id: str | None = None,
) -> SyncRun | None:
    """Run a connection once: fetch, import, move the cursor. Returns the run, or None when
    the connection is gone or disabled, another run of it is still going, or the message was
    delivered before: `run_id` names a run that is no longer queued, or a run already carries
    `message_id` (both: that run was already taken).

    `run_id` is a run queued by ``sync_run_queue``; without it (the schedule, the ``sync``
    command) the oldest queued run is taken, else a new one starts. `full` starts from no
    cursor (every record the source has). `on_progress` follows the import's chunks.
    `message_id`: the task message's id, which a redelivery of the same message repeats."""
    connection = Connection.objects.filter(pk=connection_id, enabled=True).first()
    if connection is None:
        if run_id is not None:
            _fail_queued(run_id, _("The connection was disabled or deleted before the run began."))
        return None
    run = _start(connection, run_id=run_id, full=full, message_id=message_id or "")
    if run is None:
        return None
    # What the run records (a source that fails, a record it cannot read, a refused mapping)
    # is shown to the connection's creator: in their language, as the import's row errors.
    with translation.override(imports.language_of(connection.created_by_id)):
        try:
            # inside the try: a configuration valid when saved may not be now (a drop folder no
            # longer inside CONNECTOR_FILE_ROOTS), and the run must fail, not stay open
            connector = connector_for(connection)
            fetch = connector.fetch(run.cursor_before or None)
            with tempfile.TemporaryFile(dir=_spool_dir()) as spool:
                valid = _spool(fetch, spool, run)
                run.cursor_after = fetch.cursor or ""
                run.fetched_at = timezone.now()
                run.save(
                    update_fields=[
                        "fetched",
                        "failed",
                        "source_errors",
                        "cursor_after",
                        "fetched_at",
                    ]
                )
                if valid:
                    job = imports.import_create(
                        user=connection.created_by,
                        file=spool,
                        filename=f"sync-{connection.pk}-{run.pk}.json",
                        resource=connection.resource,
                        format="json",
                        mode=connection.mode,
                        match_key=connection.match_key,
                        mapping=connection.mapping or None,
                        create_related=connection.create_related,
                        enqueue=False,
                    )
                    run.import_job = job
                    run.save(update_fields=["import_job"])
        except (ConnectorError, ValidationError, StorageUnavailable) as error:
            return _fail(run, _message(error))
        if run.import_job_id:
            imports.import_run(job_id=run.import_job_id, on_progress=on_progress)
        return _complete(run, acknowledge=lambda: connector.acknowledge(fetch))


class RunRefused(Exception):
    """A run cannot be queued now (the connection is disabled, or a run of it is going)."""


class QueueUnavailable(Exception):
    """The broker did not take the run; nothing was queued."""


def sync_run_queue(connection: Connection) -> SyncRun:
    """Queue a run outside the schedule and return it, ``queued``, so a caller can answer its
    id at once. A run already queued is returned (and published again: its message may have
    been lost) rather than doubled. With the broker down the new run is deleted and
    QueueUnavailable raised: a caller says "try again" rather than promise a run that only
    the next schedule, if any, would start."""
    from integrations.connectors.tasks import sync_connection

    if not connection.enabled:
        raise RunRefused(_("“%(name)s” is disabled: enable it to run it.") % {"name": connection})
    with transaction.atomic():
        Connection.objects.select_for_update().get(pk=connection.pk)
        running = connection.runs.filter(status=Status.RUNNING).first()
        if running is not None and not _settle(running):
            raise RunRefused(
                _("A run of “%(name)s” is still going (run %(id)d); wait until it finishes.")
                % {"name": connection, "id": running.pk}
            )
        run = connection.runs.filter(status=Status.QUEUED).order_by("started_at", "id").first()
        created = run is None
        if created:
            run = SyncRun.objects.create(
                connection=connection, status=Status.QUEUED, cursor_before=connection.cursor
            )
    what = f"run {run.pk} of connection {connection.pk}"
    if not queueing.enqueue(sync_connection, connection.pk, run.pk, what=what):
        if created:
            SyncRun.objects.filter(pk=run.pk, status=Status.QUEUED).delete()
        raise QueueUnavailable(
            _("The task queue is unavailable, so nothing was queued; try again.")
        )
    return run


def _start(
    connection: Connection, *, run_id: int | None, full: bool, message_id: str
) -> SyncRun | None:
    """The run to go on with (the queued one, or a new one), after settling a previous one
    that a crash left open."""
    with transaction.atomic():
        Connection.objects.select_for_update().get(pk=connection.pk)
        open_run = connection.runs.filter(status=Status.RUNNING).first()
        if open_run is not None and not _settle(open_run):
            return None  # a queued run stays queued for the next attempt
        connection.refresh_from_db(fields=["cursor"])  # settling a run may have moved it
        cursor = "" if full else connection.cursor
        if message_id and connection.runs.filter(message_id=message_id).exists():
            return None  # an earlier delivery of the same message made or took its run
        queued = connection.runs.filter(status=Status.QUEUED)
        run = (queued.filter(pk=run_id) if run_id else queued.order_by("started_at", "id")).first()
        if run is None:
            if run_id is not None:
                return None  # already taken by an earlier delivery of the same message
            return SyncRun.objects.create(
                connection=connection, cursor_before=cursor, message_id=message_id
            )
        run.status, run.started_at, run.cursor_before = Status.RUNNING, timezone.now(), cursor
        run.message_id = message_id
        run.save(update_fields=["status", "started_at", "cursor_before", "message_id"])
        return run


def _fail_queued(run_id: int, message: str) -> None:
    for run in SyncRun.objects.filter(pk=run_id, status=Status.QUEUED):
        _fail(run, message)


def _settle(run: SyncRun) -> bool:
    """Finish a run left open; False while it may still be working."""
    job = run.import_job
    if job is not None:
        if job.status not in FINISHED_STATUSES:
            return False  # the import resumes on its own (recover_stalled_imports)
        _complete(run)
        return True
    if timezone.now() - run.started_at < timedelta(seconds=settings.SYNC_STALE_SECONDS):
        return False  # still fetching, as far as we know
    _fail(run, _("Interrupted while fetching (the worker stopped); the next run starts over."))
    return True


def _spool(fetch: Iterable[Record], spool: IO[bytes], run: SyncRun) -> int:
    """Write usable records as a JSON array; count and keep (a bounded number of) the others."""
    valid = 0
    spool.write(b"[")
    for record in fetch:
        run.fetched += 1
        error, line = record.error, None
        if not error and record.values.get(DELETE_MARKER):
            if record.values.get("external_id") in (None, ""):
                error = _("A deletion without an external_id.")
            else:
                run.pending_deletions.append(str(record.values["external_id"]))
                continue
        if not error:
            try:
                line = json.dumps(flatten(record.values), ensure_ascii=False).encode()
            except (TypeError, ValueError) as problem:  # a plugin's value JSON cannot hold
                error = _("The record cannot be imported: %(problem)s.") % {"problem": problem}
        if error:
            run.failed += 1
            if len(run.source_errors) < MAX_SOURCE_ERRORS:
                run.source_errors.append({"record": record.number, "message": error})
            continue
        spool.write(b",\n" if valid else b"\n")
        spool.write(line)
        valid += 1
    spool.write(b"\n]\n")
    spool.seek(0)
    return valid


def _complete(run: SyncRun, acknowledge=None) -> SyncRun:
    job = ImportJob.objects.filter(pk=run.import_job_id).first()
    if job is not None:
        run.created, run.updated = job.rows_created, job.rows_updated
        run.unchanged, run.skipped = job.rows_unchanged, job.rows_skipped
        run.failed += job.rows_failed
    if job is not None and job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        return _fail(run, job.error_message or _("The import %(status)s.") % {"status": job.status})
    _apply_deletions(run)
    with transaction.atomic():
        Connection.objects.filter(pk=run.connection_id).update(cursor=run.cursor_after)
        run.status = Status.PARTIALLY_SUCCEEDED if run.failed else Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.save()
    if acknowledge is not None:
        acknowledge()
    return run


_DELETERS = {
    "contacts": (
        selectors.find_contact_by_external_id,
        lambda record, actor: contacts.contact_delete(actor=actor, contact=record),
    ),
    "companies": (
        selectors.find_company_by_external_id,
        lambda record, actor: companies.company_delete(actor=actor, company=record),
    ),
    "deals": (
        selectors.find_deal_by_external_id,
        lambda record, actor: deals.deal_delete(actor=actor, deal=record),
    ),
}


def _apply_deletions(run: SyncRun) -> None:
    """Delete what the source deleted, through the services (so our own events and webhooks
    follow). Idempotent: a record already gone is skipped."""
    if not run.pending_deletions:
        return
    find, delete = _DELETERS[run.connection.resource]
    actor = Actor.for_connection(run.connection)
    for external_id in run.pending_deletions:
        record = find(external_id)
        if record is not None:
            delete(record, actor)
            run.deleted += 1
    run.pending_deletions = []
    run.save(update_fields=["deleted", "pending_deletions"])


def _fail(run: SyncRun, message: str) -> SyncRun:
    run.status = Status.FAILED
    run.error_message = message[:5000]
    run.finished_at = timezone.now()
    run.save()
    return run


def _message(error: Exception) -> str:
    if isinstance(error, StorageUnavailable):  # its cause is in the log, for the operator
        return error.user_message()
    if isinstance(error, ValidationError):
        return (
            "; ".join(
                f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
            )
            if hasattr(error, "error_dict")
            else " ".join(error.messages)
        )
    return str(error)


def _spool_dir() -> str:
    return str(private_folder(settings.VAR_DIR / "sync"))
