"""A long one-transaction import (dry run, all or nothing) keeps its heartbeat alive, so the
recovery task never takes it for a dead worker's job and runs it a second time."""

import io
import threading
import time

import pytest
from django.db import connections

from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from integrations.services.job_heartbeat import heartbeat_file

pytestmark = pytest.mark.django_db(transaction=True)

STALE_SECONDS = 1


@pytest.fixture(autouse=True)
def quick_heartbeats(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_HEARTBEAT_STALE_SECONDS = STALE_SECONDS
    settings.IMPORT_CHUNK_SIZE = 2


def stalled_as_seen_by_another_process() -> list[int]:
    """What `recover_stalled_imports` would requeue, asked on a connection of its own (the
    import's transaction is still open on this one)."""
    found: list[int] = []

    def look() -> None:
        try:
            found.extend(imports.stalled_import_ids())
        finally:
            connections.close_all()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join()
    return found


@pytest.mark.parametrize("options", [{"dry_run": True}, {"all_or_nothing": True}])
def test_a_long_one_transaction_import_is_never_taken_for_stalled(options):
    content = "external_id,first_name\n" + "".join(f"e{n},N{n}\n" for n in range(4))
    job = imports.import_create(
        user=None,
        file=io.BytesIO(content.encode()),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
        **options,
    )
    seen = []

    def slow_progress(processed: int, total: int) -> None:
        time.sleep(STALE_SECONDS * 1.5)  # each chunk outlives the stale limit
        seen.append(stalled_as_seen_by_another_process())

    job = imports.import_run(job_id=job.pk, on_progress=slow_progress)

    assert job.status == JobStatus.SUCCEEDED
    assert len(seen) == 2 and seen == [[], []]
    assert not heartbeat_file(job.pk).exists()


def test_a_job_whose_worker_is_gone_is_still_found_stalled():
    job = ImportJob.objects.create(resource="contacts", status=JobStatus.RUNNING)
    ImportJob.objects.filter(pk=job.pk).update(heartbeat_at=job.created_at)
    time.sleep(STALE_SECONDS * 1.5)

    assert imports.stalled_import_ids() == [job.pk]
