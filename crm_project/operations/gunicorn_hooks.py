"""gunicorn server hooks for multiprocess metrics (``gunicorn.conf.py`` names them).

Loaded by gunicorn's master before Django: it imports prometheus-client only.
"""

import os
from pathlib import Path

from prometheus_client import multiprocess


def on_starting(server) -> None:
    """Start from an empty metrics folder: files left by a previous run's workers would be
    added to this run's counts."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        for stale in Path(folder).glob("*.db"):
            stale.unlink()


def child_exit(server, worker) -> None:
    """A worker that exited no longer counts in live gauges (its counters stay summed)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
