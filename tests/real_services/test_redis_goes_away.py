"""Redis going away under a running web server (PostgreSQL, Redis as broker and cache): the
connections it held break, requests still answer without a 5xx and in bounded time, and the
jobs created meanwhile run exactly once when workers come back, two of them at once."""

import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from django.conf import settings

from customers.models import Contact
from integrations.models import ExportJob, ImportJob, JobStatus
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from integrations.tasks import run_export
from tests.factories import SalesUserFactory
from tests.project.web_server import web_server
from tests.real_services.tcp_proxy import TcpProxy
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

ROWS = 200
REQUEST_BOUND_SECONDS = 1.5


def through(proxy: TcpProxy, redis_url: str) -> str:
    parts = urlsplit(redis_url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))


def redis_port(redis_url: str) -> int:
    return urlsplit(redis_url).port or 6379


def people_csv(prefix: str) -> bytes:
    lines = ["external_id,first_name"]
    lines += [f"{prefix}-{n},Name{n}" for n in range(ROWS)]
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def auth():
    user = SalesUserFactory()
    _, raw_key = api_key_create(user=user, name="partner", scopes=list(ALL_SCOPES))
    return {"Authorization": f"Bearer {raw_key}"}


def post_import(url: str, auth: dict, prefix: str) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(
        f"{url}/api/v1/imports/",
        headers=auth,
        files={"file": ("people.csv", people_csv(prefix), "text/csv")},
        data={"resource": "contacts"},
        timeout=30,
    )
    return response, time.monotonic() - started


def post_export(url: str, auth: dict) -> tuple[requests.Response, float]:
    started = time.monotonic()
    response = requests.post(
        f"{url}/api/v1/exports/",
        headers=auth,
        json={"resource": "contacts", "format": "json"},
        timeout=30,
    )
    return response, time.monotonic() - started


def test_jobs_created_after_the_broker_went_away_run_once_when_workers_return(auth, tmp_path):
    broker = settings.CELERY_BROKER_URL
    proxy = TcpProxy(redis_port(broker))

    with web_server(
        tmp_path / "web.log", extra_env={"CELERY_BROKER_URL": through(proxy, broker)}
    ) as url:
        before, _ = post_import(url, auth, "before")  # published: the broker is up
        proxy.cut()
        during = [post_import(url, auth, "during"), post_export(url, auth)]

    assert before.status_code == 202
    assert [response.status_code for response, _ in during] == [202, 202]
    assert all(seconds < REQUEST_BOUND_SECONDS for _, seconds in during), during
    assert "Broker unavailable" in (tmp_path / "web.log").read_text()
    lost_import, lost_export = (response.json()["id"] for response, _ in during)
    assert ImportJob.objects.get(pk=lost_import).status == JobStatus.QUEUED

    # Two workers start together: both sweep, so each lost job is published twice.
    with (
        celery_worker(tmp_path / "first.log") as queue,
        celery_worker(tmp_path / "second.log", queue=queue),
    ):
        wait_for(lambda: all(job.is_finished for job in ImportJob.objects.all()), timeout=120)
        wait_for(lambda: ExportJob.objects.get(pk=lost_export).finished_at, timeout=120)

    imported = ImportJob.objects.get(pk=lost_import)
    assert (imported.status, imported.rows_created, imported.rows_processed) == (
        JobStatus.SUCCEEDED,
        ROWS,
        ROWS,
    )
    assert ExportJob.objects.get(pk=lost_export).status == JobStatus.SUCCEEDED
    assert Contact.objects.filter(external_id__startswith="during-").count() == ROWS
    export_files = list((Path(settings.MEDIA_ROOT) / "exports").rglob(f"contacts-{lost_export}-*"))
    assert len(export_files) == 1  # written once, not once per delivery


def test_the_rate_limit_cache_going_away_costs_no_request(auth, tmp_path):
    proxy = TcpProxy(redis_port(settings.CELERY_BROKER_URL))
    cache_url = through(proxy, settings.CELERY_BROKER_URL)

    with web_server(tmp_path / "web.log", extra_env={"CACHE_URL": cache_url}) as url:
        first = requests.get(f"{url}/api/v1/contacts/", headers=auth, timeout=30)
        proxy.cut()
        timings = []
        for _ in range(5):
            started = time.monotonic()
            response = requests.get(f"{url}/api/v1/contacts/", headers=auth, timeout=30)
            timings.append((response.status_code, time.monotonic() - started))

    assert first.status_code == 200
    assert [status for status, _ in timings] == [200] * 5
    assert all(seconds < REQUEST_BOUND_SECONDS for _, seconds in timings), timings
    assert (tmp_path / "web.log").read_text().count("Rate-limit cache unavailable") == 1


def test_a_worker_rides_out_a_broker_outage_and_runs_what_is_queued_after_it(tmp_path):
    """The publish timeouts bound web requests only: a worker keeps reconnecting."""
    broker = settings.CELERY_BROKER_URL
    proxy = TcpProxy(redis_port(broker))
    job = ExportJob.objects.create(resource="contacts", format="csv")

    with celery_worker(
        tmp_path / "worker.log", extra_env={"CELERY_BROKER_URL": through(proxy, broker)}
    ) as queue:
        proxy.cut()
        time.sleep(3)
        proxy = TcpProxy(redis_port(broker), port=proxy.port)  # Redis is back
        run_export.apply_async(args=[job.pk], queue=queue)
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).finished_at, timeout=60)

    assert ExportJob.objects.get(pk=job.pk).status == JobStatus.SUCCEEDED
