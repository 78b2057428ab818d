"""Celery tasks for integrations: each loads a job by id and calls one service."""

from celery import shared_task
from django.conf import settings

from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.services import change_feed, exchange_files, idempotency, job_sweep


@shared_task(name="integrations.run_import")
def run_import(job_id: int) -> None:
    """acks_late (settings): a worker killed mid-job leaves the message to be redelivered, and
    the job resumes after its last committed chunk."""
    imports.import_run(job_id=job_id)


@shared_task(name="integrations.recover_stalled_imports")
def recover_stalled_imports() -> dict[str, list[int]]:
    """Under beat, and once after a worker starts: imports and exports whose worker died.
    (The name is older than exports joining it; beat schedules in the database use it.)"""
    swept = job_sweep.recover_stalled_jobs()
    return {"imports": swept.imports, "exports": swept.exports}


@shared_task(name="integrations.sweep_queued_jobs")
def sweep_queued_jobs() -> dict[str, list[int]]:
    """Under beat: jobs whose publish failed (the broker was down) are published again."""
    swept = job_sweep.sweep_queued_jobs(interval_seconds=settings.JOB_SWEEP_INTERVAL_SECONDS)
    return {"imports": swept.imports, "exports": swept.exports}


@shared_task(name="integrations.run_export")
def run_export(job_id: int) -> None:
    exports.export_run(job_id=job_id)


@shared_task(name="integrations.purge_exchange_files")
def purge_exchange_files() -> dict[str, int]:
    """Schedule daily (celery beat, or cron the `purge_exchange_files` command)."""
    result = exchange_files.exchange_files_purge()
    return {"imports": result.imports, "exports": result.exports, "drafts": result.drafts}


@shared_task(name="integrations.purge_idempotency_records")
def purge_idempotency_records() -> int:
    """Nightly under celery beat: a stored response (PII inside) outlives its key by a day at
    most."""
    return idempotency.idempotency_records_purge()


@shared_task(name="integrations.purge_change_events")
def purge_change_events() -> int:
    """Daily under celery beat: the change feed keeps CHANGE_EVENT_RETENTION_DAYS of events."""
    return change_feed.purge_change_events()
