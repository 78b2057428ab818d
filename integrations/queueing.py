"""Publishing Celery tasks from a request without depending on the broker being up.

A job row committed before its message is published is the source of truth: if the broker is
down, the publish is logged and skipped, the caller answers as if it had been queued, and the
job sweep (``integrations.services.job_sweep``, on worker start and under beat) publishes it
later. A publish fails fast (``BROKER_CONNECT_TIMEOUT_MS`` and ``retry=False``) so a request
never waits on kombu's reconnect loop, and after a failure this process does not try again
for ``RETRY_SECONDS``: a broker that drops packets (each attempt waits for the timeout) costs
one request per period, not every write, and the warning is logged once per period.
"""

import logging
import time
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# kombu turns the transport's connection errors into OperationalError; a socket error that
# slips past it (a half-open connection in the producer pool) is an OSError.
PUBLISH_ERRORS = (OperationalError, OSError)
RETRY_SECONDS = 5.0

_broker_down_until = 0.0


def enqueue(task: Task, *args: Any, what: str, **options: Any) -> bool:
    """Publish now; False when the broker cannot take it (or failed less than
    ``RETRY_SECONDS`` ago)."""
    global _broker_down_until
    if time.monotonic() < _broker_down_until:
        logger.info("Broker unavailable; %s waits for the sweep.", what)
        return False
    try:
        task.apply_async(args=args, retry=False, **options)
    except PUBLISH_ERRORS as error:
        _broker_down_until = time.monotonic() + RETRY_SECONDS
        logger.warning(
            "Broker unavailable (%s); %s waits for the sweep. Not retried for %d s.",
            error,
            what,
            RETRY_SECONDS,
        )
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any, what: str, using: str | None = None) -> None:
    """Publish once the current transaction commits (at once outside one), never failing it."""
    transaction.on_commit(lambda: enqueue(task, *args, what=what), using=using)
