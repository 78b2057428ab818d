"""Publishing Celery tasks from a request without depending on the broker being up.

A job row committed before its message is published is the source of truth: if the broker is
down, the publish is logged and skipped, the caller answers as if it had been queued, and the
job sweep (``integrations.services.job_sweep``, on worker start and under beat) publishes it
later. A publish fails fast (``BROKER_CONNECT_TIMEOUT_MS`` and ``retry=False``) so a request
never waits on kombu's reconnect loop.
"""

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# kombu turns the transport's connection errors into OperationalError; a socket error that
# slips past it (a half-open connection in the producer pool) is an OSError.
PUBLISH_ERRORS = (OperationalError, OSError)


def enqueue(task: Task, *args: Any, what: str, **options: Any) -> bool:
    """Publish now; False (and a warning naming `what`) when the broker cannot take it."""
    try:
        task.apply_async(args=args, retry=False, **options)
    except PUBLISH_ERRORS as error:
        logger.warning("Broker unavailable (%s); %s waits for the job sweep.", error, what)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any, what: str, using: str | None = None) -> None:
    """Publish once the current transaction commits (at once outside one), never failing it."""
    transaction.on_commit(lambda: enqueue(task, *args, what=what), using=using)
