"""Celery signal handlers for integrations."""

import logging
from typing import Any

from django.db import DatabaseError

from integrations.queueing import enqueue
from integrations.services import job_sweep

logger = logging.getLogger(__name__)


def sweep_jobs_on_worker_start(**kwargs: Any) -> None:
    """``worker_ready``: a worker that starts picks up what no worker is running.

    - Jobs still "queued" (created while the broker was down) are published.
    - Jobs whose worker died long enough ago (stale heartbeat) resume from their last chunk.
    - A job whose worker died just before this start still looks alive (its last heartbeat is
      recent): the recovery runs once more when such a heartbeat would be stale, so a killed
      worker's job is resumed by the next worker that starts, with or without beat.
    """
    try:
        queued = job_sweep.sweep_queued_jobs()
        stalled = job_sweep.recover_stalled_jobs()
        running = job_sweep.running_jobs_exist()
    except DatabaseError as error:  # the worker still starts; beat or the next start retries
        logger.warning("Could not look for queued or stalled jobs: %s", error)
        return
    if queued:
        logger.info("Publishing queued jobs: %s", queued)
    if stalled:
        logger.info("Resuming stalled jobs: %s", stalled)
    if running:
        from integrations.tasks import recover_stalled_imports

        countdown = job_sweep.stale_after_seconds()
        enqueue(recover_stalled_imports, what="the stalled-job check", countdown=countdown)
