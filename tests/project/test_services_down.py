"""Redis (the rate-limit cache) and the broker unreachable: a real web server pointed at a
closed port answers REST and SOAP without a 5xx and in bounded time, and nothing is lost: the
jobs created meanwhile are run by the next worker to start, exactly once.

Runs on the embedded default (filesystem broker, SQLite) in `make test` and on Redis and
PostgreSQL in `make test-integration`.
"""

import time

import pytest
import requests
import zeep
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from customers.models import Contact
from integrations.models import ExportJob, ImportJob, JobStatus
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.factories import ContactFactory, SalesUserFactory
from tests.project.web_server import CLOSED_PORT_REDIS, web_server
from tests.workers import celery_worker, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ROWS = 40
REQUEST_BOUND_SECONDS = 1.5


@pytest.fixture
def partner():
    """A sales user and a key with every scope: (username, raw key)."""
    user = SalesUserFactory()
    _, raw_key = api_key_create(user=user, name="partner", scopes=list(ALL_SCOPES))
    return user.get_username(), raw_key


def timed(call, *args, **kwargs) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = call(*args, timeout=30, **kwargs)
    return response, time.monotonic() - started


def warm_up(url: str, headers: dict[str, str]) -> None:
    """The first request imports every door's code: not what these tests time."""
    assert requests.get(f"{url}/api/v1/imports/", headers=headers, timeout=60).status_code == 200


def people_csv() -> bytes:
    lines = ["external_id,first_name,email"]
    lines += [f"down-{n},Name{n},down{n}@example.com" for n in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


def test_with_the_broker_down_jobs_answer_202_and_the_next_worker_runs_them_once(partner, tmp_path):
    _, key = partner
    auth = {"Authorization": f"Bearer {key}"}
    dead_broker = {"CELERY_BROKER_URL": CLOSED_PORT_REDIS.replace("/9", "/0")}

    with web_server(tmp_path / "web.log", extra_env=dead_broker) as url:
        warm_up(url, auth)
        started, import_seconds = timed(
            requests.post,
            f"{url}/api/v1/imports/",
            headers=auth,
            files={"file": ("people.csv", people_csv(), "text/csv")},
            data={"resource": "contacts", "mode": "upsert", "match_key": "external_id"},
        )
        exported, export_seconds = timed(
            requests.post,
            f"{url}/api/v1/exports/",
            headers=auth,
            json={"resource": "contacts", "format": "csv"},
        )

    assert (started.status_code, exported.status_code) == (202, 202), started.text
    assert started.json()["status"] == exported.json()["status"] == "queued"
    assert import_seconds < REQUEST_BOUND_SECONDS
    assert export_seconds < REQUEST_BOUND_SECONDS
    # One warning for the outage, not one per request (and one timeout: the second job was
    # left queued without trying again).
    assert (tmp_path / "web.log").read_text().count("Broker unavailable (") == 1
    import_job = ImportJob.objects.get(pk=started.json()["id"])
    export_job = ExportJob.objects.get(pk=exported.json()["id"])
    assert (import_job.status, export_job.status) == (JobStatus.QUEUED, JobStatus.QUEUED)

    with celery_worker(tmp_path / "worker.log"):  # sweeps the queued jobs as it starts
        wait_for(lambda: ImportJob.objects.get(pk=import_job.pk).is_finished, timeout=90)
        wait_for(lambda: ExportJob.objects.get(pk=export_job.pk).finished_at, timeout=90)

    import_job.refresh_from_db()
    export_job.refresh_from_db()
    assert (import_job.status, import_job.rows_created) == (JobStatus.SUCCEEDED, ROWS)
    assert (export_job.status, export_job.rows_written) == (JobStatus.SUCCEEDED, ROWS)
    assert Contact.objects.count() == ROWS
    assert (ImportJob.objects.count(), ExportJob.objects.count()) == (1, 1)


def test_with_the_cache_down_rest_and_soap_answer_and_the_rate_limit_still_holds(partner, tmp_path):
    username, key = partner
    ContactFactory(first_name="Wei")
    dead_cache = {"CACHE_URL": CLOSED_PORT_REDIS, "API_KEY_RATE_LIMIT": "4/min"}

    with web_server(tmp_path / "web.log", extra_env=dead_cache) as url:
        warm_up(url, {"Authorization": f"Bearer {key}"})
        rest = [
            timed(
                requests.get,
                f"{url}/api/v1/contacts/",
                headers={"Authorization": f"Bearer {key}"},
            )
            for _ in range(2)
        ]
        soap = zeep.Client(
            f"{url}/soap/?wsdl",
            wsse=UsernameToken(username, key),
            transport=Transport(timeout=30),
        )
        page = soap.service.SearchContacts(query="Wei", limit=5)
        over_budget, _ = timed(
            requests.get, f"{url}/api/v1/contacts/", headers={"Authorization": f"Bearer {key}"}
        )
        soap.transport.session.close()

    assert [response.status_code for response, _ in rest] == [200, 200]
    assert all(seconds < REQUEST_BOUND_SECONDS for _, seconds in rest)
    assert page.total == 1
    assert over_budget.status_code == 429  # counted in the process while Redis is away
    log = (tmp_path / "web.log").read_text()
    assert log.count("Rate-limit cache unavailable") == 1  # one warning, not one per request
