"""Thin Celery task for scheduled syncs: celery beat names it with the connection's id."""

from celery import shared_task

from integrations.services import sync


@shared_task(name="integrations.sync_connection")
def sync_connection(connection_id: int, run_id: int | None = None) -> str | None:
    """`run_id`: a run queued by hand (beat's entries name the connection only)."""
    run = sync.sync_run(connection_id, run_id=run_id)
    return run.status if run is not None else None
