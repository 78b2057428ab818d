"""Thin Celery task for scheduled syncs: celery beat names it with the connection's id."""

from celery import shared_task

from integrations.services import sync


@shared_task(name="integrations.sync_connection", bind=True)
def sync_connection(self, connection_id: int, run_id: int | None = None) -> str | None:
    """`run_id`: a run queued by hand (beat's entries name the connection only; the message's
    id then tells a redelivery from the next scheduled run)."""
    run = sync.sync_run(connection_id, run_id=run_id, message_id=self.request.id)
    return run.status if run is not None else None
