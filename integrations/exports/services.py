"""Bulk exports: a filtered set of records written to a file (an ExportJob) or to a stream.

the selector with every door's filters (``customers.filters``) →
``customers.representation.export_rows`` (chunked, no serializer per row) →
``integrations.formats.open_writer``. Memory stays flat whatever the row count, and the file has the
REST representation, so it imports back unchanged.
"""

import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm_project.storage_errors import StorageUnavailable, storage_failures
from customers import filters as entity_filters
from customers import pii, read_routing, selectors
from customers.actors import Actor, Door
from customers.custom_fields.values import definitions_for
from customers.representation import entity_spec, export_rows
from customers.representation.export_encoders import contact_encoder
from customers.representation.export_stream import contact_export_text
from integrations.formats import open_writer
from integrations.formats.csv_cells import Column
from integrations.formats.writers import BOM, text_sink
from integrations.imports.services import language_of
from integrations.models import ExportJob, FileFormat, JobStatus, Resource
from integrations.queueing import enqueue_on_commit
from integrations.services.job_heartbeat import Heartbeat, is_alive

_PROGRESS_EVERY = 10_000  # rows between two progress updates of a running job
# A running job reads as the system: who may look records up was checked when it was created.
_EXPORT_RUN = Actor.system(door=Door.EXPORT)


@dataclass(frozen=True)
class _Exported:
    """What an export of one resource needs. The filters (``customers.filters``) and CSV
    columns (the representation's) are every door's, so an export takes the same query
    parameters and has the same columns as ``GET /api/v1/<resource>/?format=csv``."""

    entity: str
    selector: Callable[..., QuerySet]
    rows: Callable[..., Iterator[dict[str, Any]]]


_RESOURCES: dict[str, _Exported] = {
    Resource.CONTACTS: _Exported("contact", selectors.contact_list, export_rows.contact_rows),
    Resource.COMPANIES: _Exported("company", selectors.company_list, export_rows.company_rows),
    Resource.DEALS: _Exported("deal", selectors.deal_list, export_rows.deal_rows),
}


def export_create(
    *,
    user: Any,
    resource: str,
    format: str,
    filters: Mapping[str, Any] | None,
    include_pii: bool,
    may_look_up_pii: bool | None = None,
    actor: Actor | None = None,
    enqueue: bool = True,
) -> ExportJob:
    """Check the options and filters up front, store the job, and queue it once the
    transaction commits. Bad input raises ValidationError and stores nothing.

    PII is decrypted only if asked for *and* the user may read it (else it is masked). A job
    without a user is the system's own (a management command): shell access already holds
    the keys. Filters that look records up by personal data (email, phone, PII custom fields)
    need the right to read it: the `actor`'s (the door's), else `may_look_up_pii` (an API
    door passes its key's), else the user's.
    """
    _check_choice("resource", resource, Resource.values)
    _check_choice("format", format, FileFormat.values)
    filters = _normalise_filters(filters)
    may_read_pii = user is None or pii.can_view_pii(user)
    if actor is None:
        may_look_up = may_read_pii if may_look_up_pii is None else may_look_up_pii
        actor = Actor(door=Door.EXPORT, user=user, may_read_pii=may_look_up)
    # validates them; nothing is read yet
    _filtered_queryset(resource, filters, actor=actor)
    job = ExportJob.objects.create(
        created_by=user,
        resource=resource,
        format=format,
        filters=filters,
        include_pii=bool(include_pii) and may_read_pii,
    )
    if enqueue:
        from integrations import tasks

        enqueue_on_commit(tasks.run_export, job.pk, what=f"export {job.pk}")
    return job


def export_run(*, job_id: int) -> ExportJob:
    """Write the job's file. Safe to call twice: a finished job, or one a live worker is
    running, is left alone; a job whose worker died (still "running", no heartbeat) starts
    over, its file being saved only at the end. A file store that cannot take the file fails
    the job with a sentence saying so (run it again later as a new export)."""
    job = _claim(job_id)
    if job is None:
        return ExportJob.objects.get(pk=job_id)

    def progress(rows: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_written=rows)

    try:
        # A temporary file first: storage then copies it in chunks (to disk or elsewhere).
        # A CSV is stored with the byte-order mark a spreadsheet needs; the API's download
        # leaves it out for a program that does not ask for it (`bom`).
        with Heartbeat(job.pk, ExportJob), tempfile.TemporaryFile() as handle:
            rows = export_write(
                resource=job.resource,
                format=job.format,
                filters=job.filters,
                include_pii=job.include_pii,
                stream=handle,
                bom=job.format == FileFormat.CSV,
                on_progress=progress,
                # a replica that holds the job holds every change committed before it was
                # asked for: what its creator wrote just before is in the file
                using=read_routing.database_holding(job),
            )
            handle.seek(0)
            stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
            name = f"{job.resource}-{job.pk}-{stamp}.{job.format}"
            with storage_failures("storing an export file"):
                job.file.save(name, File(handle, name=name), save=False)
    except ValidationError as error:  # the filters no longer hold (e.g. the owner was deleted)
        _finish(job, JobStatus.FAILED, error_message=" ".join(error.messages))
    except StorageUnavailable:
        with translation.override(language_of(job.created_by_id)):
            message = _("The export file could not be stored: %(reason)s") % {
                "reason": StorageUnavailable.user_message()
            }
        _finish(job, JobStatus.FAILED, error_message=message)
    except Exception as error:
        _finish(
            job, JobStatus.FAILED, error_message=_("Unexpected error: %(error)s") % {"error": error}
        )
        raise
    else:
        _finish(job, JobStatus.SUCCEEDED, rows_written=rows, file=job.file.name)
    return ExportJob.objects.get(pk=job.pk)


def export_file_open(*, job: ExportJob) -> IO[bytes]:
    """The job's stored file, for a download: FileNotFoundError once it has been purged,
    StorageUnavailable when the store cannot be reached."""
    with storage_failures("reading an export file"):
        return job.file.open("rb")


def _claim(job_id: int) -> ExportJob | None:
    """The job, now "running" for this worker; None when it is finished or another live
    worker has it. The row lock makes two deliveries of one job take turns here."""
    with transaction.atomic():
        job = ExportJob.objects.select_for_update().get(pk=job_id)
        if job.status not in (JobStatus.QUEUED, JobStatus.RUNNING):
            return None
        if job.status == JobStatus.RUNNING and _is_alive(job):
            return None
        job.status, job.started_at = JobStatus.RUNNING, timezone.now()
        job.save(update_fields=["status", "started_at"])
    return job


def _is_alive(job: ExportJob) -> bool:
    """Its heartbeat is fresh, or it was claimed too recently for its first beat."""
    stale = timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)
    return is_alive(job) or (job.started_at is not None and job.started_at > timezone.now() - stale)


def stalled_export_ids() -> list[int]:
    """Running exports whose worker stopped sending heartbeats (e.g. it was killed)."""
    stale_before = timezone.now() - timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)
    candidates = ExportJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=stale_before)
    return [job.pk for job in candidates.only("pk", "started_at") if not _is_alive(job)]


def export_write(
    *,
    resource: str,
    format: str,
    filters: Mapping[str, Any] | None,
    include_pii: bool,
    stream: IO,
    bom: bool = False,
    on_progress: Callable[[int], None] | None = None,
    using: str | None = None,
) -> int:
    """Write every matching record to `stream` (text, or binary as UTF-8); return the count.

    `include_pii` is not checked here: callers decide it (``export_create`` from the user's
    rights). `bom` starts a CSV file with a byte-order mark, for spreadsheets. `using`: the
    database to read, instead of the one the list selector picks.
    """
    _check_choice("resource", resource, Resource.values)
    _check_choice("format", format, FileFormat.values)
    exported = _RESOURCES[resource]
    # the job's creation checked who may look records up by personal data
    queryset = _filtered_queryset(resource, _normalise_filters(filters), actor=_EXPORT_RUN)
    if using is not None:
        queryset = read_routing.on_database(queryset, using)
    definitions = definitions_for(exported.entity)
    if resource == Resource.CONTACTS:
        return _write_contacts(
            queryset, format, definitions, include_pii, stream, bom=bom, on_progress=on_progress
        )
    rows = exported.rows(queryset, can_view_pii=include_pii, definitions=definitions)
    if format == FileFormat.CSV:
        writer = open_writer(stream, format, columns=_csv_columns(resource, definitions), bom=bom)
    else:
        writer = open_writer(stream, format)
    count = 0
    with writer:
        for row in rows:
            writer.write(row)
            count += 1
            if on_progress is not None and count % _PROGRESS_EVERY == 0:
                on_progress(count)
    return count


def _write_contacts(
    queryset: QuerySet,
    format: str,
    definitions: list,
    include_pii: bool,
    stream: IO,
    *,
    bom: bool,
    on_progress: Callable[[int], None] | None,
) -> int:
    """Contacts a chunk of text at a time (``customers.representation.export_stream``: PII decrypted
    in bulk, on both cores for a large export), byte for byte what ``open_writer`` writes from
    dicts. The document is ended only once every row is written, as with ``open_writer``."""
    encoder = contact_encoder(
        format=format,
        can_view_pii=include_pii,
        keys=settings.FIELD_ENCRYPTION_KEYS,
        definitions=definitions,
        columns=_csv_columns(Resource.CONTACTS, definitions) if format == FileFormat.CSV else (),
        xml_as_list=False,
    )
    write = text_sink(stream)
    if bom and format == FileFormat.CSV:
        write(BOM)  # what the CSV writer starts with
    # A binary stream takes the workers' UTF-8 as it comes, without decoding and re-encoding.
    binary = _is_binary(stream)
    write_piece = stream.write if binary else write
    count = reported = 0
    try:
        for piece, rows in contact_export_text(queryset, encoder, as_bytes=binary):
            write_piece(piece)
            count += rows
            if on_progress is not None and count - reported >= _PROGRESS_EVERY:
                reported = count - count % _PROGRESS_EVERY
                on_progress(count)
    finally:
        if callable(getattr(stream, "flush", None)):
            stream.flush()
    return count


def _is_binary(stream: IO) -> bool:
    """A text stream refuses bytes; writing none tells them apart without writing."""
    try:
        stream.write(b"")
    except TypeError:
        return False
    return True


def _csv_columns(resource: str, definitions: list) -> list[Column]:
    """The REST list's CSV columns: the built-in ones, then one per custom field by name."""
    return entity_spec(_RESOURCES[resource].entity).csv_columns(definitions)


def _normalise_filters(filters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Filters as query parameters would carry them: text, or a list of texts for a repeated
    parameter (``lifecycle_stage=lead&lifecycle_stage=customer``)."""
    if filters is None:
        return {}
    if not isinstance(filters, Mapping):
        raise ValidationError({"filters": _("Expected an object of filter name to value.")})
    normalised: dict[str, Any] = {}
    for name, value in filters.items():
        if isinstance(value, list | tuple):
            normalised[str(name)] = [_parameter_text(name, item) for item in value]
        else:
            normalised[str(name)] = _parameter_text(name, value)
    return normalised


def _parameter_text(name: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None or isinstance(value, dict | list | tuple):
        raise ValidationError({f"filters.{name}": _("Expected text, a number or true/false.")})
    return str(value)


def _filtered_queryset(resource: str, filters: Mapping[str, Any], *, actor: Actor) -> QuerySet:
    """The resource's records matching `filters`, the list's query parameters in every door
    (``customers.filters``), errors keyed ``filters.<name>``. Unknown names are refused
    rather than ignored: a typo must not export everything."""
    exported = _RESOURCES[resource]
    try:
        parsed = entity_filters.parse(exported.entity, filters, actor=actor, strict=True)
    except ValidationError as error:
        raise ValidationError(
            {f"filters.{name}": messages for name, messages in error.message_dict.items()}
        ) from None
    return exported.selector(actor=actor, filters=parsed)


def _finish(job: ExportJob, status: str, **fields: Any) -> None:
    ExportJob.objects.filter(pk=job.pk).update(status=status, finished_at=timezone.now(), **fields)


def _check_choice(name: str, value: str, allowed: list[str]) -> None:
    if value not in allowed:
        raise ValidationError(
            {name: _("Use one of: %(choices)s.") % {"choices": ", ".join(allowed)}}
        )
