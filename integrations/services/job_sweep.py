"""Jobs no worker is running, published again: the database row is the truth, the broker
message only a wake-up call that can be lost.

- A job created while the broker was down stays "queued" (``integrations.queueing``).
- A job whose worker was killed stays "running" with a heartbeat that goes stale.

Both are swept when a worker starts and under beat. Publishing a job twice is harmless: the
tasks claim their job under a row lock and leave it alone once it is running or finished.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ExportJob, ImportJob, JobStatus
from integrations.queueing import enqueue

# Under beat, a job younger than this is still being published by the request that made it.
QUEUED_GRACE = timedelta(seconds=5)
# The back-off's longest step: past it a queued job is published every this many intervals.
# No sweep runs while the broker is down (beat cannot send one), so after an outage the first
# sweeps meet jobs as old as the outage; doubling alone would have one queued 130 intervals
# ago wait for its 256th.
MAX_BACKOFF_INTERVALS = 16


@dataclass
class Swept:
    imports: list[int] = field(default_factory=list)
    exports: list[int] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.imports or self.exports)


def sweep_queued_jobs(*, interval_seconds: float | None = None) -> Swept:
    """Publish queued jobs again.

    At a worker's start (no `interval_seconds`) every queued job is published, however young:
    one created a moment before the broker came back would otherwise wait for beat, and a
    duplicate message is a no-op. Under beat, run every `interval_seconds`, a job is published when
    its age reaches 1, 2, 4, 8 … intervals, then every `MAX_BACKOFF_INTERVALS`: a job lost
    while the broker was briefly down goes out within two intervals, one queued during a long
    outage within `MAX_BACKOFF_INTERVALS` of the broker's return, and one that merely waits
    behind a long queue gets a few harmless duplicates, not one per tick.
    """
    from integrations import tasks

    now = timezone.now()
    swept = Swept()
    for model, task, ids in (
        (ImportJob, tasks.run_import, swept.imports),
        (ExportJob, tasks.run_export, swept.exports),
    ):
        for job_id in _queued(model, now=now, interval_seconds=interval_seconds):
            if enqueue(task, job_id, what=f"{model._meta.verbose_name} {job_id}"):
                ids.append(job_id)
    return swept


def _queued(model: type[Model], *, now, interval_seconds: float | None) -> list[int]:
    queued = model.objects.filter(status=JobStatus.QUEUED)
    if interval_seconds is None:
        return list(queued.order_by("created_at").values_list("pk", flat=True))
    rows = queued.filter(created_at__lt=now - QUEUED_GRACE).order_by("created_at")
    return [
        pk
        for pk, created in rows.values_list("pk", "created_at")
        if _due(now - created, interval_seconds)
    ]


def _due(age: timedelta, interval_seconds: float) -> bool:
    """True in the sweep whose tick falls in the 1st, 2nd, 4th, 8th … interval of `age`, and
    in every `MAX_BACKOFF_INTERVALS`th one after."""
    ticks = int(age.total_seconds() // interval_seconds)
    if ticks < 1:
        return False
    return ticks & (ticks - 1) == 0 or ticks % MAX_BACKOFF_INTERVALS == 0


def recover_stalled_jobs() -> Swept:
    """Publish running jobs whose worker stopped beating: imports resume after their last
    committed chunk, exports start over."""
    from integrations import tasks

    swept = Swept(imports=imports.recover_stalled_imports())
    for job_id in exports.stalled_export_ids():
        if enqueue(tasks.run_export, job_id, what=f"stalled export {job_id}"):
            swept.exports.append(job_id)
    return swept


def running_jobs_exist() -> bool:
    """Whether a job is running whose worker may have died too recently to look stale."""
    running = JobStatus.RUNNING
    return (
        ImportJob.objects.filter(status=running).exists()
        or ExportJob.objects.filter(status=running).exists()
    )


def stale_after_seconds() -> float:
    """How long after a worker's death its job's heartbeat is stale (and one second more)."""
    return settings.IMPORT_HEARTBEAT_STALE_SECONDS + 1
