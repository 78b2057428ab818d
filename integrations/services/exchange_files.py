"""Retention of bulk-exchange files: uploads of finished imports and files of finished exports
are deleted once EXCHANGE_FILE_RETENTION_DAYS have passed since the job finished.

The files hold customer data in the clear (an export is decrypted PII), so they must not pile
up on disk forever. The job rows stay, with their counts and row errors: only the file goes,
and ``file_deleted_at`` says when. The file name is kept, so a download of a purged export
answers "no longer stored" rather than pretending the job never had one.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import models
from django.utils import timezone

from integrations.models import FINISHED_STATUSES, ExportJob, ImportJob

# The import wizard keeps an upload here between its steps, until a job takes it.
IMPORT_DRAFTS_FOLDER = "import-drafts"
ABANDONED_DRAFT_AFTER = timedelta(days=1)


def private_folder(path: Path) -> Path:
    """`path`, created owner-only (0700) with every missing parent: `Path.mkdir`'s mode applies
    to the last folder only, so `media/exports/` would otherwise be left world-readable."""
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass
class PurgeResult:
    imports: int = 0
    exports: int = 0
    drafts: int = 0


def exchange_files_purge(
    *, retention_days: int | None = None, now: datetime | None = None
) -> PurgeResult:
    """Delete expired files; safe to run at any time and again (each file is deleted once)."""
    days = settings.EXCHANGE_FILE_RETENTION_DAYS if retention_days is None else retention_days
    now = now or timezone.now()
    cutoff = now - timedelta(days=days)
    return PurgeResult(
        imports=_purge(ImportJob, cutoff, now),
        exports=_purge(ExportJob, cutoff, now),
        drafts=import_drafts_purge(now=now),
    )


def import_drafts_purge(*, now: datetime | None = None) -> int:
    """Delete wizard uploads left half-way for over ABANDONED_DRAFT_AFTER; returns how many.
    Run nightly with the job files and whenever the wizard receives a new upload."""
    try:
        _folders, names = default_storage.listdir(IMPORT_DRAFTS_FOLDER)
    except FileNotFoundError:
        return 0
    cutoff = (now or timezone.now()) - ABANDONED_DRAFT_AFTER
    purged = 0
    for name in names:
        path = f"{IMPORT_DRAFTS_FOLDER}/{name}"
        try:
            abandoned = default_storage.get_modified_time(path) < cutoff
        except FileNotFoundError:  # deleted meanwhile by its session
            continue
        if abandoned:
            default_storage.delete(path)
            purged += 1
    return purged


def _purge(model: type[ImportJob] | type[ExportJob], cutoff: datetime, now: datetime) -> int:
    expired = (
        model.objects.filter(status__in=FINISHED_STATUSES, file_deleted_at__isnull=True)
        .filter(
            models.Q(finished_at__lt=cutoff)
            | models.Q(finished_at__isnull=True, created_at__lt=cutoff)
        )
        .exclude(file="")
    )
    purged = 0
    for job in expired.only("pk", "file").iterator(chunk_size=500):
        job.file.storage.delete(job.file.name)  # a file already gone is no error
        model.objects.filter(pk=job.pk).update(file_deleted_at=now)
        purged += 1
    return purged
