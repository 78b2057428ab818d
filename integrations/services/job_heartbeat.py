"""A running job's heartbeat, kept alive by a thread while the job runs.

Chunked runs save their progress after every chunk, but a dry run or an all-or-nothing import
keeps one transaction open for the whole file, so nothing it writes is visible until the end.
Without a separate heartbeat, ``recover_stalled_imports`` would take a long one for dead and
start it a second time. The thread stamps ``ImportJob.heartbeat_at`` on its own database
connection; on SQLite, whose single writer is the import's open transaction, it touches a file
under MEDIA_ROOT instead (an SQLite database is only ever shared by processes of one machine).

Exports beat too (``ExportJob.heartbeat_at``), so a second delivery of a running export (the
job sweep re-publishes jobs whose first message may still be on its way) leaves it alone, on
whichever node it runs.
"""

import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from integrations.models import ExportJob, ImportJob
from integrations.services.exchange_files import private_folder

Job = ImportJob | ExportJob
_FOLDERS = {ImportJob: "imports", ExportJob: "exports"}


def heartbeat_file(job_id: int, model: type[Job] = ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / _FOLDERS[model] / "heartbeats" / str(job_id)


def _has_column(model: type[Job]) -> bool:
    return any(field.name == "heartbeat_at" for field in model._meta.concrete_fields)


def last_beat(job: Job) -> datetime | None:
    """The latest sign of life: the job row's stamp or its heartbeat file."""
    stamp = getattr(job, "heartbeat_at", None)
    beats = [stamp] if stamp else []
    try:
        mtime = heartbeat_file(job.pk, type(job)).stat().st_mtime
    except FileNotFoundError:
        pass
    else:
        beats.append(datetime.fromtimestamp(mtime, tz=timezone.get_current_timezone()))
    return max(beats, default=None)


def is_alive(job: Job) -> bool:
    beat = last_beat(job)
    stale_before = timezone.now() - timedelta(seconds=settings.IMPORT_HEARTBEAT_STALE_SECONDS)
    return beat is not None and beat > stale_before


class Heartbeat:
    """``with Heartbeat(job_id): …`` beats every quarter of the stale limit until the block
    ends."""

    def __init__(self, job_id: int, model: type[Job] = ImportJob) -> None:
        self.job_id = job_id
        self.model = model
        self.interval = max(0.2, settings.IMPORT_HEARTBEAT_STALE_SECONDS / 4)
        self.in_file = connection.vendor == "sqlite" or not _has_column(model)
        self.file = heartbeat_file(job_id, model)
        self._stop = threading.Event()
        self._first_beat = threading.Event()
        name = f"{_FOLDERS[model]}-{job_id}-heartbeat"
        self._thread = threading.Thread(target=self._run, name=name)

    def __enter__(self) -> "Heartbeat":
        if self.in_file:
            private_folder(self.file.parent)  # like everything under MEDIA_ROOT
            self._beat()
        self._thread.daemon = True
        self._thread.start()
        # a job is alive from the moment it starts: wait (briefly) for the thread's first stamp
        self._first_beat.wait(self.interval)
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.file.unlink(missing_ok=True)

    def _run(self) -> None:
        try:
            if not self.in_file:
                self._beat()
            self._first_beat.set()
            while not self._stop.wait(self.interval):
                self._beat()
        finally:
            connections.close_all()  # this thread's own connections only

    def _beat(self) -> None:
        if self.in_file:
            self.file.touch(mode=0o600)
        else:
            self.model.objects.filter(pk=self.job_id).update(heartbeat_at=timezone.now())
