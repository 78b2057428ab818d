"""The Celery queues and which task goes to which (settings' CELERY_TASK_ROUTES is made here).

One queue per kind of work, so that a flood of one kind never delays another (a ten-million-row
import does not hold back a webhook delivery due now), and each kind can get workers of its own
when one machine is not enough: ``celery -A crm_project worker -Q imports``. A worker started
without ``-Q`` consumes all of them (settings' CELERY_TASK_QUEUES).

Every task of the project is listed here, those on the default queue too:
``tests/integrations/test_task_routes.py`` fails on a task that did not choose.
"""

DEFAULT_QUEUE = "crm"
QUEUES = (DEFAULT_QUEUE, "imports", "exports", "syncs", "webhooks")

TASK_QUEUES: dict[str, str] = {
    # Long and heavy on CPU and the database: beside each other, behind nothing else.
    "integrations.run_import": "imports",
    # A whole file written from a selection; slow for large ones, never urgent to the second.
    "integrations.run_export": "exports",
    # A fetch from an outside system, which may be slow to answer, then its import (in the
    # same task): a slow source holds back other syncs only.
    "integrations.sync_connection": "syncs",
    # Deliveries are due at a time, and a receiver that waits for its timeout must hold back
    # other deliveries only: the relay, the sends and the sweep that catches missed ones.
    "webhooks.relay": "webhooks",
    "webhooks.deliver_due": "webhooks",
    "webhooks.sweep": "webhooks",
    # The sweeps only publish jobs (to the queues above) and finish in milliseconds: on the
    # default queue they are not stuck behind the very imports they would resume, and a
    # worker pool for imports that is down or busy does not stop exports from being resumed.
    "integrations.recover_stalled_imports": DEFAULT_QUEUE,
    "integrations.sweep_queued_jobs": DEFAULT_QUEUE,
    # Housekeeping: nightly purges, and the key rotation an operator starts now and then.
    "integrations.purge_exchange_files": DEFAULT_QUEUE,
    "integrations.purge_idempotency_records": DEFAULT_QUEUE,
    "integrations.purge_change_events": DEFAULT_QUEUE,
    "customers.rotate_encryption_keys": DEFAULT_QUEUE,
}


def queue_names(prefix: str = "") -> list[str]:
    """Every queue's name under `prefix` (CELERY_QUEUE_PREFIX)."""
    return [prefix + queue for queue in QUEUES]


def task_routes(prefix: str = "") -> dict[str, dict[str, str]]:
    """CELERY_TASK_ROUTES: each task's queue under `prefix`."""
    return {task: {"queue": prefix + queue} for task, queue in TASK_QUEUES.items()}
