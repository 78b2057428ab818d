"""`POST /api/v1/connections/{id}/run/` with a real Celery worker: the 202 names a queued run,
the worker takes exactly that run (no second one), and the partner reads its counts from
`/api/v1/sync-runs/{id}/`.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import pytest

from customers.models import Contact
from integrations.models import SyncRun
from integrations.scopes import ALL_SCOPES
from tests.api.conftest import client_with_key
from tests.factories import ManagerFactory
from tests.workers import celery_worker, private_queues, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_run_asked_for_over_rest_is_the_run_the_worker_does(tmp_path, settings):
    settings.CONNECTOR_FILE_ROOTS = [str(tmp_path)]
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "people.csv").write_text(
        "external_id,first_name\n" + "".join(f"w-{n},Name{n}\n" for n in range(50)),
        encoding="utf-8",
    )
    partner = client_with_key(ManagerFactory(), ALL_SCOPES)
    created = partner.post(
        "/api/v1/connections/",
        {"name": "Drop", "connector": "file", "resource": "contacts", "config": {"folder": "drop"}},
        format="json",
    )
    assert created.status_code == 201, created.content
    with private_queues() as queue:  # queues no other worker reads
        queued = partner.post(f"/api/v1/connections/{created.json()['id']}/run/")
        assert (queued.status_code, queued.json()["status"]) == (202, "queued")
        run_id = queued.json()["id"]

        worker_env = {"CONNECTOR_FILE_ROOTS": str(tmp_path)}
        with celery_worker(tmp_path / "worker.log", queue=queue, extra_env=worker_env):
            wait_for(lambda: SyncRun.objects.get(pk=run_id).is_finished, timeout=90)

    run = partner.get(f"/api/v1/sync-runs/{run_id}/").json()
    assert (run["status"], run["fetched"], run["created"]) == ("succeeded", 50, 50)
    assert SyncRun.objects.count() == 1 and Contact.objects.count() == 50
