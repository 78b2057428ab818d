"""Bulk imports: a file becomes an ImportJob, and a worker runs it in chunks.

parse (streaming) → map columns → clean each row → write the chunk (match, dedupe, bulk
insert/update) → save progress, row errors and the checkpoint in the chunk's own transaction.
A chunk commits whole or not at all, and a job restarted after a crash resumes after its last
committed chunk, so nothing is lost or written twice.
"""

from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import islice
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm_project.storage_errors import StorageUnavailable, storage_failures
from customers import crypto, pii
from customers.actors import Actor
from customers.crypto import encrypted_fields_of
from customers.custom_fields.values import definitions_for
from customers.models import UserPreference
from integrations.formats import FormatError, open_reader
from integrations.formats.csv_cells import flatten
from integrations.imports import reports as import_reports
from integrations.imports.encryption import ChunkEncryptor
from integrations.imports.garbage_collection import fewer_collections
from integrations.imports.mapping import ColumnMapping, resolve_mapping
from integrations.imports.related import create_missing_related
from integrations.imports.rows import (
    MODELS,
    ChunkLookups,
    CleanRow,
    clean_own_values,
    misplaced_objects,
    resolve_plain_references,
    resolve_related_references,
)
from integrations.imports.write_ahead_log import fewer_checkpoints
from integrations.imports.writer import ChunkResult, rows_kept_out, write_chunk
from integrations.models import (
    ENTITY_OF_RESOURCE,
    ImportCreatedRecord,
    ImportJob,
    ImportRowError,
    JobStatus,
    Resource,
    SyncRun,
)
from integrations.queueing import enqueue, enqueue_on_commit
from integrations.services.job_heartbeat import Heartbeat, is_alive


class _Rollback(Exception):
    """Raised to undo a transaction on purpose (a dry run, an all-or-nothing failure)."""


@dataclass
class Preview:
    format: str
    encoding: str
    delimiter: str
    headers: list[str]
    mapping: ColumnMapping
    rows: list[dict[str, Any]]
    errors: list[str] = field(default_factory=list)  # the shown rows' own errors, in order


def import_preview(
    *,
    file: IO[bytes],
    resource: str,
    format: str = "",
    mapping: Mapping[str, str | None] | None = None,
    limit: int = 10,
) -> Preview:
    """The detected format, encoding and dialect, the proposed column mapping and the first
    rows: what the import wizard shows before anything runs. Runs in the web process, on the
    readers' bounds: a record too deep or too large is an empty row and its error, and JSON or
    XML headers come from the first record that could be read."""
    _check_choice("resource", resource, Resource.values)
    try:
        reader = open_reader(file, format=format or None)
        records = list(islice(reader, limit))
    except FormatError as error:
        raise ValidationError({"file": str(error)}) from None
    rows = [record.values for record in records]
    headers = list(reader.headers or [])
    if reader.format != "csv":
        first = next((record.values for record in records if not record.error), {})
        headers = list(plain_record(first))  # what the run maps (see plain_record)
    column_mapping = resolve_mapping(
        resource=resource,
        headers=headers,
        definitions=definitions_for(ENTITY_OF_RESOURCE[resource]),
        explicit=mapping,
    )
    return Preview(
        format=reader.format,
        encoding=getattr(reader, "encoding", "") or "",
        delimiter=getattr(reader, "delimiter", "") or "",
        headers=headers,
        mapping=column_mapping,
        rows=rows,
        errors=[record.error for record in records if record.error],
    )


# Columns naming a related record the way another CRM writes it (not by our id).
_RELATED_BY_NAME = {
    "company_name",
    "company_domain",
    "company_external_id",
    "primary_contact_email",
}


def names_related(preview: Preview) -> bool:
    """Whether the file names related records in a way `create_related` can create: a
    company by name, domain or external id (or a "Company" column of names rather than our
    ids), a deal's contact by email. The wizard ticks the option for such files."""
    targets = preview.mapping.targets
    if _RELATED_BY_NAME & set(targets.values()):
        return True
    company = next((column for column, target in targets.items() if target == "company"), None)
    return company is not None and any(
        str(row.get(company) or "").strip() and not str(row.get(company)).strip().isdigit()
        for row in preview.rows
        if isinstance(row, Mapping)
    )


def related_resources(resource: str) -> tuple[str, ...]:
    """What `create_related` may create for a file of `resource`."""
    return ("companies", "contacts") if resource == Resource.DEALS else ("companies",)


def can_create_related(user: Any, resource: str) -> bool:
    """Whether `user` may add every kind of record `create_related` creates (no user: the
    shell's own job)."""
    if user is None:
        return True
    models = {"companies": "company", "contacts": "contact"}
    return user.has_perms([f"customers.add_{models[name]}" for name in related_resources(resource)])


def import_create(
    *,
    user: Any,
    file: IO[bytes],
    filename: str,
    resource: str,
    format: str = "",
    mode: str = ImportJob.Mode.UPSERT,
    match_key: str = ImportJob.MatchKey.EXTERNAL_ID,
    mapping: Mapping[str, str | None] | None = None,
    dry_run: bool = False,
    all_or_nothing: bool = False,
    create_related: bool = False,
    may_look_up_pii: bool | None = None,
    may_create_related: bool | None = None,
    enqueue: bool = True,
) -> ImportJob:
    """Check the file and options up front (size, format, mapping), store the job, and queue
    it once the transaction commits. Bad input raises ValidationError and stores nothing; so
    does a file store that cannot be reached, with StorageUnavailable.

    Matching by email looks contacts up by personal data: its counts (updated or created, a
    dry run's included) would tell whether each person exists, so it needs `may_look_up_pii`
    (default: the user's right to read personal data; no user is the shell's own job; an API
    door passes its key's). So does a deals file naming contacts by email, for the same reason.

    `create_related`: a company a row names (by name, domain or external id) that no record
    matches is created, and for deals a contact named by email (see imports.related). It writes
    companies (and contacts), so it needs `may_create_related` (default: the user's right to add
    them, see `can_create_related`; an API door also asks its key's scopes), as the companies'
    own doors would."""
    _check_choice("mode", mode, ImportJob.Mode.values)
    _check_choice("match_key", match_key, ImportJob.MatchKey.values)
    if match_key == ImportJob.MatchKey.EMAIL and resource != Resource.CONTACTS:
        raise ValidationError({"match_key": _("Only contacts can be matched by email.")})
    if may_look_up_pii is None:
        may_look_up_pii = user is None or pii.can_view_pii(user)
    if match_key == ImportJob.MatchKey.EMAIL:
        pii.check_pii_lookup(["match_key"], allowed=may_look_up_pii)
    if may_create_related is None:
        may_create_related = can_create_related(user, resource)
    if create_related and resource != Resource.COMPANIES and not may_create_related:
        raise ValidationError(
            {"create_related": _("Creating related records needs the right to add them.")}
        )
    size = _size(file)
    if size > settings.IMPORT_MAX_BYTES:
        limit = settings.IMPORT_MAX_BYTES
        raise ValidationError(
            {
                "file": _("The file has %(size)d bytes; imports take at most %(limit)d.")
                % {"size": size, "limit": limit}
            }
        )
    file.seek(0)
    preview = import_preview(file=file, resource=resource, format=format, mapping=mapping)
    file.seek(0)
    if "primary_contact_email" in preview.mapping.targets.values():
        pii.check_pii_lookup(["mapping"], allowed=may_look_up_pii)
    job = ImportJob(
        created_by=user,
        resource=resource,
        original_filename=filename[:255],
        format=preview.format,
        encoding=preview.encoding,
        delimiter=preview.delimiter,
        mode=mode,
        match_key=match_key,
        mapping=dict(mapping or {}),
        dry_run=dry_run,
        all_or_nothing=all_or_nothing,
        create_related=bool(create_related) and resource != Resource.COMPANIES,
    )
    _store_upload(job, file, filename or f"import.{preview.format}")
    if enqueue:
        from integrations import tasks

        enqueue_on_commit(tasks.run_import, job.pk, what=f"import {job.pk}")
    return job


def _store_upload(job: ImportJob, file: IO[bytes], filename: str) -> None:
    """The file first, then the row: a store that cannot be reached raises StorageUnavailable
    with no job saved, and a row that cannot be saved takes its file with it, so no job ever
    points at a file that is not there (a worker on another machine would fail on it)."""
    with storage_failures("storing an import upload"):
        job.file.save(filename, File(file), save=False)
    try:
        job.save()
    except BaseException:
        # the row's own error is the one to report; the store's is logged
        with suppress(StorageUnavailable), storage_failures("removing an unsaved job's upload"):
            job.file.delete(save=False)
        raise


def import_cancel(*, job: ImportJob) -> ImportJob:
    """A queued job is cancelled at once; a running one stops after its current chunk."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.is_finished:
            return job
        job.cancel_requested = True
        if job.status == JobStatus.QUEUED:
            job.status, job.finished_at = JobStatus.CANCELLED, timezone.now()
        job.save(update_fields=["cancel_requested", "status", "finished_at"])
    return job


Progress = Callable[[int, int], None]  # (records processed, records in the file)


def import_run(*, job_id: int, on_progress: Progress | None = None) -> ImportJob:
    """Run (or resume) a job. Safe to call twice: a job that another live worker is running,
    or that already finished, is left alone. `on_progress` is called after each chunk (a
    command's progress bar); the job's own counts are saved whether or not it is given."""
    job = _claim(job_id)
    if job is None:
        return ImportJob.objects.get(pk=job_id)
    on_progress = on_progress or (lambda processed, total: None)
    actor = job_actor(job)
    try:
        with (
            translation.override(_language_of(job)),
            Heartbeat(job.pk),
            ChunkEncryptor() as encryptor,
            fewer_collections(),
            fewer_checkpoints(),
        ):
            if job.all_or_nothing or job.dry_run:
                _run_in_one_transaction(job, on_progress, encryptor, actor)
            else:
                _run_chunks(job, on_progress, encryptor, actor)
    except FormatError as error:
        _finish(job, JobStatus.FAILED, error_message=str(error))
    except StorageUnavailable:
        with translation.override(_language_of(job)):
            message = _("The uploaded file could not be read: %(reason)s") % {
                "reason": StorageUnavailable.user_message()
            }
        _finish(job, JobStatus.FAILED, error_message=message)
    except Exception as error:
        _finish(
            job, JobStatus.FAILED, error_message=_("Unexpected error: %(error)s") % {"error": error}
        )
        raise
    return ImportJob.objects.get(pk=job.pk)


def job_actor(job: ImportJob) -> Actor:
    """Who a job writes as: a connector sync's job as its connection, decided here and not by
    the caller so that a job resumed after a crash (``recover_stalled_imports``) writes as the
    same actor; an uploaded file as its job."""
    run = SyncRun.objects.filter(import_job_id=job.pk).select_related("connection").first()
    return Actor.for_connection(run.connection) if run else Actor.for_import_job(job)


def _language_of(job: ImportJob) -> str:
    """The stored language of the user who started the job: the rows' messages are the
    services' rules, and read as the services would answer that user."""
    return language_of(job.created_by_id)


def language_of(user_id: int | None) -> str:
    """A user's stored language, else the project's: what a job run for them speaks."""
    stored = UserPreference.objects.filter(user_id=user_id)
    return stored.values_list("language", flat=True).first() or settings.LANGUAGE_CODE


def _claim(job_id: int) -> ImportJob | None:
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.is_finished:
            return None
        if job.status == JobStatus.RUNNING and is_alive(job):
            return None  # a live worker has it
        if job.cancel_requested:
            job.status, job.finished_at = JobStatus.CANCELLED, timezone.now()
            job.save(update_fields=["status", "finished_at"])
            return None
        job.status = JobStatus.RUNNING
        job.started_at = job.started_at or timezone.now()
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["status", "started_at", "heartbeat_at"])
    return job


def import_upload_open(*, job: ImportJob) -> IO[bytes]:
    """The job's file from the store, wherever the process that took it ran: FileNotFoundError
    once purged, StorageUnavailable when the store cannot be reached."""
    with storage_failures("reading an import upload"):
        return job.file.open("rb")


def _records(job: ImportJob) -> Iterator[Any]:
    handle = import_upload_open(job=job)
    try:
        yield from open_reader(
            handle,
            format=job.format or None,
            encoding=job.encoding or None,
            delimiter=job.delimiter or None,
        )
    finally:
        handle.close()


def _count_records(job: ImportJob) -> int:
    """Records in the file, for progress, counted before anything is written: a file that
    cannot be read as a whole (a CSV quote left open to its end, malformed JSON or XML) fails
    the job here, with nothing imported. CSV rows are parsed but not built."""
    with import_upload_open(job=job) as handle:
        reader = open_reader(
            handle,
            format=job.format or None,
            encoding=job.encoding or None,
            delimiter=job.delimiter or None,
        )
        with reader:
            return reader.count_records()


def _run_chunks(
    job: ImportJob, on_progress: Progress, encryptor: ChunkEncryptor, actor: Actor
) -> None:
    total = job.rows_total
    if total is None:
        total = _count_records(job)
        ImportJob.objects.filter(pk=job.pk).update(rows_total=total)
    processed = job.rows_processed
    context = _Context.for_job(job, encryptor, actor)
    with closing(_prepared_chunks(job, context)) as chunks:
        for chunk in chunks:
            if _cancel_requested(job):
                _finish(job, JobStatus.CANCELLED)
                return
            with transaction.atomic():
                result = context.write(chunk)
                _record_progress(job, result, checkpoint=chunk[-1].number, processed=len(chunk))
            processed += len(chunk)
            _forget_logged_queries()
            on_progress(processed, total)
    ImportJob.objects.filter(pk=job.pk).update(rows_total=F("rows_processed"))
    _finish(job, _final_status(job))


def _run_in_one_transaction(
    job: ImportJob, on_progress: Progress, encryptor: ChunkEncryptor, actor: Actor
) -> None:
    """Dry runs and all-or-nothing imports: every chunk in one transaction, rolled back at the
    end for a dry run, or on the first failed row for all-or-nothing."""
    total = _count_records(job)
    context = _Context.for_job(job, encryptor, actor)
    totals = ChunkResult()
    problems = []
    related: list[tuple[str, int, int]] = []
    processed = 0
    rolled_back = False
    try:
        with transaction.atomic(), closing(_prepared_chunks(job, context)) as chunks:
            for chunk in chunks:
                result = context.write(chunk)
                for name in ("created", "updated", "unchanged", "skipped", "failed"):
                    setattr(totals, name, getattr(totals, name) + getattr(result, name))
                problems.extend(result.problems)
                related.extend(result.related_created)
                processed += len(chunk)
                _forget_logged_queries()
                on_progress(processed, total)
            if job.dry_run or (job.all_or_nothing and totals.failed):
                raise _Rollback
    except _Rollback:
        rolled_back = True
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(rows_total=processed)
        totals.problems = problems
        totals.related_created = related
        # counted as what would happen; listed only when they exist
        _record_progress(
            job, totals, checkpoint=0, processed=processed, list_related=not rolled_back
        )
    if job.all_or_nothing and not job.dry_run and totals.failed:
        _finish(
            job,
            JobStatus.FAILED,
            error_message=ngettext(
                "%(count)d row is invalid; nothing was imported (all or nothing).",
                "%(count)d rows are invalid; nothing was imported (all or nothing).",
                totals.failed,
            )
            % {"count": totals.failed},
        )
    else:
        _finish(job, _final_status(job))


@dataclass
class _Context:
    job: ImportJob
    definitions: list
    encryptor: ChunkEncryptor
    actor: Actor
    mapping: ColumnMapping | None = None
    seen: frozenset = frozenset()  # the columns the mapping has decided on (used or ignored)
    fields_of_keys: dict = field(default_factory=dict)

    @classmethod
    def for_job(cls, job: ImportJob, encryptor: ChunkEncryptor, actor: Actor) -> "_Context":
        definitions = definitions_for(ENTITY_OF_RESOURCE[job.resource])
        return cls(job=job, definitions=definitions, encryptor=encryptor, actor=actor)

    def map(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """JSON and XML records need not share keys: a record bringing a column not seen
        before extends the mapping instead of losing that column for every row."""
        if self.mapping is None or not values.keys() <= self.seen:
            columns = list(dict.fromkeys([*self._decided(), *values]))
            self.mapping = resolve_mapping(
                resource=self.job.resource,
                headers=columns,
                definitions=self.definitions,
                explicit=self.job.mapping,
            )
            self.seen = frozenset(self._decided())
        targets = self.mapping.targets
        return {targets[column]: value for column, value in values.items() if column in targets}

    def field_of(self, key: str) -> str | None:
        """The field a record's key would fill as a column (cached: keys repeat every row)."""
        if key not in self.fields_of_keys:
            self.fields_of_keys[key] = resolve_mapping(
                resource=self.job.resource,
                headers=[key],
                definitions=self.definitions,
                explicit=self.job.mapping,
            ).targets.get(key)
        return self.fields_of_keys[key]

    def _decided(self) -> list[str]:
        return [*self.mapping.targets, *self.mapping.ignored] if self.mapping else []

    def prepare(self, records: list[Any]) -> list[CleanRow]:
        """A chunk's records mapped and their own values checked, with the blind indexes
        matching needs: no database needed."""
        flat = self.job.format == "csv"  # CSV cells are text already: nothing to flatten
        has_email_index = self.job.resource == Resource.CONTACTS
        rows = []
        for record in records:
            values = record.values if isinstance(record.values, Mapping) else {}
            original = values if flat else plain_record(values)
            row = clean_own_values(
                resource=self.job.resource,
                number=record.number,
                mapped=self.map(original),
                original=original,
            )
            if record.error:
                row.fail("", record.error)
            elif not flat:
                misplaced_objects(row, values, self.field_of)
            if row.values.get("email") and has_email_index:
                row.email_index = crypto.email_index(row.values["email"])
            if row.values.get("phone"):
                row.phone_index = crypto.phone_index(row.values["phone"])
            rows.append(row)
        return rows

    def plaintexts(self, rows: list[CleanRow]) -> list[str]:
        """The PII values a chunk's valid rows will store, to encrypt ahead."""
        encrypted = [f.name for f in encrypted_fields_of(MODELS[self.job.resource])]
        return [
            str(value)
            for row in rows
            if not row.errors
            for name in encrypted
            if (value := row.values.get(name)) is not None and value != ""
        ]

    def write(self, rows: list[CleanRow]) -> ChunkResult:
        """References resolved with one lookup per kind, then the rows written while the
        encryption helper encrypts their PII."""
        by_name = {field.name: field for field in self.definitions}
        lookups = ChunkLookups.for_rows([row.references for row in rows])
        for row in rows:
            resolve_plain_references(row, lookups)
        related = None
        if self.job.create_related:
            related = create_missing_related(
                resource=self.job.resource,
                rows=rows,
                lookups=lookups,
                actor=self.actor,
                kept_out=lambda: rows_kept_out(
                    resource=self.job.resource,
                    rows=rows,
                    mode=self.job.mode,
                    match_key=self.job.match_key,
                ),
            )
        kept_out = related.kept_out if related is not None else set()
        for row in rows:
            if row.number not in kept_out:
                resolve_related_references(row, lookups, by_name)
        tokens = self.encryptor.submit(self.plaintexts(rows))
        result = write_chunk(
            resource=self.job.resource,
            rows=rows,
            mode=self.job.mode,
            match_key=self.job.match_key,
            definitions=self.definitions,
            tokens=tokens,
            actor=self.actor,
        )
        if related is not None:
            result.related_created = [
                *(("company", pk, number) for pk, number in related.companies),
                *(("contact", pk, number) for pk, number in related.contacts),
            ]
        return result


def _prepared_chunks(job: ImportJob, context: _Context) -> Iterator[list[CleanRow]]:
    """The job's chunks of rows, their own values checked (the references and the PII are
    dealt with as each is written)."""
    return (context.prepare(chunk) for chunk in _chunks(job, context))


def plain_record(values: Mapping[str, Any]) -> dict[str, Any]:
    """JSON and XML records as the CSV columns of the same export: our exports nest a related
    record as ``{"id": 3, "name": "Acme"}`` (it becomes its id) and custom fields under
    ``custom_fields`` (each becomes a ``custom_fields.<name>`` column); other nested objects
    become dotted columns (``{"company": {"external_id": "e1"}}`` → ``company.external_id``)."""
    plain: dict[str, Any] = {}
    for key, value in values.items():
        if not isinstance(value, Mapping) or not value:
            plain[key] = value
        elif key != "custom_fields" and "id" in value:
            plain[key] = value["id"]
        else:
            plain.update(flatten(value, prefix=f"{key}."))
    return plain


def _chunks(job: ImportJob, context: _Context) -> Iterator[list[Any]]:
    records = (record for record in _records(job) if record.number > job.checkpoint)
    while chunk := list(islice(records, settings.IMPORT_CHUNK_SIZE)):
        yield chunk


def _forget_logged_queries() -> None:
    """With DEBUG on, Django keeps the SQL of the last 9,000 queries (a chunk's IN lists make
    them ~100 KB each): a long import forgets them after each chunk, as Django does after each
    request, unless something (a test) is capturing them."""
    if not connection.force_debug_cursor:
        connection.queries_log.clear()


def _record_progress(
    job: ImportJob,
    result: ChunkResult,
    *,
    checkpoint: int,
    processed: int | None = None,
    list_related: bool = True,
) -> None:
    """Counts, row errors and the checkpoint in the same transaction as the chunk's writes.
    A row error's values are encrypted (``ImportRowError.values``) and its message keeps no
    quoted PII (``imports.reports.message_at_rest``)."""
    pii_targets = import_reports.pii_targets(job.resource) if result.problems else set()
    ImportRowError.objects.bulk_create(
        [
            ImportRowError(
                job_id=job.pk,
                row_number=problem.number,
                field=problem.field[:100],
                message=import_reports.message_at_rest(
                    field=problem.field,
                    message=problem.message,
                    values=problem.values,
                    pii_targets=pii_targets,
                ),
                values=_jsonable(problem.values),
            )
            for problem in result.problems
        ],
        batch_size=1000,
    )
    related = result.related_created
    if related and list_related:
        ImportCreatedRecord.objects.bulk_create(
            [
                ImportCreatedRecord(job_id=job.pk, entity=entity, record_id=pk, row_number=number)
                for entity, pk, number in related
            ],
            batch_size=1000,
        )
    rows = result.created + result.updated + result.unchanged + result.skipped + result.failed
    ImportJob.objects.filter(pk=job.pk).update(
        rows_processed=F("rows_processed") + (processed if processed is not None else rows),
        rows_created=F("rows_created") + result.created,
        rows_updated=F("rows_updated") + result.updated,
        rows_unchanged=F("rows_unchanged") + result.unchanged,
        rows_skipped=F("rows_skipped") + result.skipped,
        rows_failed=F("rows_failed") + result.failed,
        companies_created=F("companies_created") + sum(r[0] == "company" for r in related),
        contacts_created=F("contacts_created") + sum(r[0] == "contact" for r in related),
        checkpoint=checkpoint,
        heartbeat_at=timezone.now(),
    )


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key): value if _is_json(value) else str(value) for key, value in values.items()}


def _is_json(value: Any) -> bool:
    if isinstance(value, list):
        return all(_is_json(item) for item in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_json(v) for k, v in value.items())
    return value is None or isinstance(value, str | int | float | bool)


def _cancel_requested(job: ImportJob) -> bool:
    return ImportJob.objects.filter(pk=job.pk, cancel_requested=True).exists()


def _final_status(job: ImportJob) -> str:
    job.refresh_from_db()
    if job.rows_failed == 0:
        return JobStatus.SUCCEEDED
    if job.rows_created + job.rows_updated + job.rows_unchanged == 0 and not job.dry_run:
        return JobStatus.FAILED
    return JobStatus.PARTIALLY_SUCCEEDED


def _finish(job: ImportJob, status: str, *, error_message: str = "") -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=status, error_message=error_message, finished_at=timezone.now()
    )


def stalled_import_ids() -> list[int]:
    """Running jobs whose worker stopped sending heartbeats (e.g. it was killed)."""
    stale_before = timezone.now() - timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)
    candidates = ImportJob.objects.filter(status=JobStatus.RUNNING, heartbeat_at__lt=stale_before)
    return [job.pk for job in candidates.only("pk", "heartbeat_at") if not is_alive(job)]


def recover_stalled_imports() -> list[int]:
    """Requeue stalled jobs: they resume after their checkpoint. Run periodically and at
    worker start."""
    stalled = stalled_import_ids()
    from integrations import tasks

    for job_id in stalled:
        enqueue(tasks.run_import, job_id, what=f"stalled import {job_id}")
    return stalled


def _check_choice(name: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise ValidationError(
            {name: _("Use one of: %(choices)s.") % {"choices": ", ".join(allowed)}}
        )


def _size(file: IO[bytes]) -> int:
    size = getattr(file, "size", None)
    if size is not None:
        return size
    file.seek(0, 2)
    size = file.tell()
    file.seek(0)
    return size
