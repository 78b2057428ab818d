"""Thin Celery task for scheduled syncs: celery beat names it with the connection's id."""

from celery import shared_task

from integrations.services import sync


@shared_task(name="integrations.sync_connection")
def sync_connection(connection_id: int) -> str | None:
    run = sync.sync_run(connection_id)
    return run.status if run is not None else None
