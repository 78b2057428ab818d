"""Start a real Celery worker process against the test database and the configured broker."""

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.db import connection

BASE_DIR = Path(__file__).resolve().parents[1]
READY_TIMEOUT_SECONDS = 60


def test_database_url() -> str:
    """A DATABASE_URL for the database this test process is using right now."""
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def celery_worker(
    log_path: Path, *, queue: str | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run `celery worker` on a fresh queue (so no other worker can take our tasks); yields the
    queue name. The worker shares this process's keys, broker and test database."""
    queue = queue or f"test-{uuid.uuid4().hex[:12]}"
    env = _environment(queue, extra_env)
    command = [sys.executable, "-m", "celery", "-A", "crm_project", "worker"]
    command += ["-Q", queue, "--pool", "solo", "--without-heartbeat", "--without-gossip"]
    command += ["--without-mingle", "-l", "info"]
    with _process(command, env, log_path, ready_marker=" ready.") as worker:
        celery_worker.last_pid = worker.pid
        yield queue


@contextmanager
def celery_beat(log_path: Path, *, queue: str, extra_env: dict[str, str] | None = None):
    """Run `celery beat` (the database scheduler of the settings) sending to `queue`."""
    env = _environment(queue, extra_env)
    schedule_file = log_path.with_suffix(".schedule")
    command = [sys.executable, "-m", "celery", "-A", "crm_project", "beat", "-l", "info"]
    command += ["--schedule", str(schedule_file)]
    with _process(command, env, log_path, ready_marker="beat: Starting"):
        yield


def _environment(queue: str, extra_env: dict[str, str] | None) -> dict[str, str]:
    return shared_environment({"CELERY_TASK_DEFAULT_QUEUE": queue, **(extra_env or {})})


def shared_environment(extra_env: dict[str, str] | None = None) -> dict[str, str]:
    """What a process started by a test shares with it: the test database, the broker, the
    keys and the folders (a worker, beat, a web server)."""
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
        "SECRET_KEY": settings.SECRET_KEY,
        "CRM_VAR_DIR": str(settings.VAR_DIR),
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        **(extra_env or {}),
    }


@contextmanager
def _process(
    command: list[str], env: dict[str, str], log_path: Path, *, ready_marker: str
) -> Iterator[subprocess.Popen]:
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
        try:
            _wait_until_ready(process, log_path, ready_marker)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_ready(process: subprocess.Popen, log_path: Path, marker: str) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery exited early:\n{log_path.read_text()}")
        if marker in log_path.read_text():
            return
        time.sleep(0.2)
    raise TimeoutError(f"Celery not ready in time:\n{log_path.read_text()}")


def wait_for(condition, *, timeout: float = 60, interval: float = 0.2):
    """Poll until `condition()` is truthy; return its value or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError("condition not met in time")
