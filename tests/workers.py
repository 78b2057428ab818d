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

from crm_project import queues
from crm_project.celery import app as celery_app

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
def private_queues(queue: str | None = None) -> Iterator[str]:
    """Until the block ends, what this process publishes goes to queues of its own: every queue
    of the settings (crm_project/queues.py) under a fresh prefix, routes included, so no other
    test's worker takes it and leftovers of other tests never reach ours. Yields the default
    queue's name, which stands for the whole set: pass it as `queue` to `celery_worker`,
    `celery_beat` or another `private_queues`, or to `apply_async(queue=...)`."""
    prefix = _prefix_of(queue) if queue else f"test-{uuid.uuid4().hex[:12]}-"
    saved = {key: celery_app.conf[key] for key in ("task_default_queue", "task_routes")}
    celery_app.conf.update(
        task_default_queue=prefix + queues.DEFAULT_QUEUE, task_routes=queues.task_routes(prefix)
    )
    try:
        yield prefix + queues.DEFAULT_QUEUE
    finally:
        celery_app.conf.update(saved)


@contextmanager
def celery_worker(
    log_path: Path, *, queue: str | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run `celery worker` on every queue of a private set (`private_queues`: a fresh one, or
    that of `queue`), as production workers consume every queue; yields the set's default
    queue. The worker shares this process's keys, broker and test database, and while it runs
    this process publishes to its queues."""
    with private_queues(queue) as queue:
        prefix = _prefix_of(queue)
        command = [sys.executable, "-m", "celery", "-A", "crm_project", "worker"]
        command += ["-Q", ",".join(queues.queue_names(prefix))]
        command += ["--pool", "solo", "--without-heartbeat", "--without-gossip"]
        command += ["--without-mingle", "-l", "info"]
        env = _environment(prefix, extra_env)
        with _process(command, env, log_path, ready_marker=" ready.") as worker:
            celery_worker.last_pid = worker.pid
            yield queue


@contextmanager
def celery_beat(
    log_path: Path, *, queue: str, extra_env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Run `celery beat` (the database scheduler of the settings) sending to the private set
    of queues `queue` names; yields the process."""
    env = _environment(_prefix_of(queue), extra_env)
    schedule_file = log_path.with_suffix(".schedule")
    command = [sys.executable, "-m", "celery", "-A", "crm_project", "beat", "-l", "info"]
    command += ["--schedule", str(schedule_file)]
    with _process(command, env, log_path, ready_marker="beat: Starting") as beat:
        yield beat


def private_queue_names(queue: str) -> list[str]:
    """The full names of every queue of the private set `queue` names."""
    return queues.queue_names(_prefix_of(queue))


def _prefix_of(queue: str) -> str:
    if not queue.endswith(queues.DEFAULT_QUEUE):
        raise ValueError(f"{queue!r} is not the default queue of a set from private_queues()")
    return queue.removesuffix(queues.DEFAULT_QUEUE)


def _environment(prefix: str, extra_env: dict[str, str] | None) -> dict[str, str]:
    return shared_environment({"CELERY_QUEUE_PREFIX": prefix, **(extra_env or {})})


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


def wait_for(condition, *, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    """Poll until `condition()` is truthy; return its value or fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"{what}: not met within {timeout:.0f} s")


def messages_waiting(queue: str) -> int:
    """How many messages wait in the broker's queue `queue` (a full name, prefix included)."""
    with celery_app.connection_for_write() as broker:
        try:
            with broker.channel() as channel:
                return channel.queue_declare(queue=queue, passive=True).message_count
        except broker.channel_errors:  # never declared (Redis: nothing in it)
            return 0


def purge_private_queues(queue: str) -> None:
    """Drop what is left in every queue of the private set `queue` names."""
    with celery_app.connection_for_write() as broker:
        for name in private_queue_names(queue):
            try:
                with broker.channel() as channel:
                    channel.queue_purge(name)
            except broker.channel_errors:  # never declared: nothing was sent to it
                pass
