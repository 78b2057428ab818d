"""Integrations benchmark: what the outbox costs, how fast webhooks go out, how fast a sync pulls.

    .venv/bin/python bench/integrations_bench.py [--db sqlite|postgres] [--writes 1000]
                                                 [--import-rows 100000] [--hooks 1000]
                                                 [--pull-rows 100000]

In a fresh database (a SQLite file in a temp dir, or a new PostgreSQL database dropped
afterwards), each beside its baseline in the same run:

* single writes: ``contact_create`` with its outbox event vs. the same with recording disabled;
* bulk import: the same file imported with events recorded vs. disabled;
* webhooks: a receiver process on 127.0.0.1, a real Celery worker (2 processes), N contact
  writes; deliveries per second and commit-to-delivery lag p50/p99;
* ``rest_json`` pull: a local JSON source serving N records in pages of 1,000 through a sync
  run (fetch, spool, import) vs. importing the same records from a JSON file.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--writes", type=int, default=1_000)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--hooks", type=int, default=1_000)
    parser.add_argument("--pull-rows", type=int, default=100_000)
    parser.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--broker", default="", help="default: filesystem (SQLite), Redis (PG)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="crm-integrations-bench-"))
    os.environ["CRM_VAR_DIR"] = str(folder)
    os.environ["OUTBOUND_ALLOWED_NETWORKS"] = "127.0.0.0/8"
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"bench-{uuid.uuid4().hex[:8]}"
    with _database(args, folder) as url:
        os.environ["DATABASE_URL"] = url
        if args.broker or args.db == "postgres":
            os.environ["CELERY_BROKER_URL"] = args.broker or "redis://127.0.0.1:6379/14"
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        rows = [
            single_writes(args.writes),
            *bulk_import(args.import_rows, folder),
            webhooks(args.hooks, folder),
            *pull(args.pull_rows, folder),
        ]
        from django.db import connections

        connections.close_all()
    shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{args.db}, load average {_load()} (others' work lowers every rate)")
    print(f"{'case':<52} {'count':>8} {'per second':>11}  notes")
    for label, count, rate, notes in rows:
        print(f"{label:<52} {count:>8} {rate:>11,.0f}  {notes}")
    return 0


# Outbox cost


@contextmanager
def events_disabled():
    """The baseline: the same services with event recording turned into a no-op."""
    from customers import events

    saved = events.record, events.record_many
    events.record = lambda *args, **kwargs: None
    events.record_many = lambda *args, **kwargs: 0
    try:
        yield
    finally:
        events.record, events.record_many = saved


def single_writes(count: int) -> tuple:
    from customers.actors import SYSTEM
    from customers.services import contacts

    def write(prefix: str) -> float:
        started = time.perf_counter()
        for n in range(count):
            contacts.contact_create(
                actor=SYSTEM, first_name=f"{prefix}{n}", email=f"{prefix}{n}@example.com"
            )
        return count / (time.perf_counter() - started)

    with events_disabled():
        baseline = write("plain")
    with_events = write("evented")
    overhead = (baseline / with_events - 1) * 100
    return (
        "single writes with outbox event",
        count,
        with_events,
        f"without: {baseline:,.0f}/s, cost {overhead:+.1f}%",
    )


def bulk_import(rows: int, folder: Path) -> list[tuple]:
    from customers.models import ChangeEvent
    from integrations.imports import services as imports

    def run(prefix: str) -> tuple[float, int]:
        path = folder / f"{prefix}.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("external_id,first_name,email,phone,address\n")
            for n in range(rows):
                out.write(f"{prefix}-{n},N{n},{prefix}{n}@example.com,+86 139 {n:08d},{n} Road\n")
        before = ChangeEvent.objects.count()
        started = time.perf_counter()
        with path.open("rb") as handle:
            job = imports.import_create(
                user=None, file=handle, filename=path.name, resource="contacts", enqueue=False
            )
        imports.import_run(job_id=job.pk)
        rate = rows / (time.perf_counter() - started)
        return rate, ChangeEvent.objects.count() - before

    with events_disabled():
        baseline, _ = run("bulkplain")
    rate, recorded = run("bulkevent")
    return [
        (
            "import (upsert) with outbox events",
            rows,
            rate,
            f"without: {baseline:,.0f}/s, cost {(baseline / rate - 1) * 100:+.1f}%, "
            f"{recorded} events recorded",
        )
    ]


# Webhooks


class _Receiver(BaseHTTPRequestHandler):
    arrivals: dict[str, float] = {}

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Receiver.arrivals.setdefault(self.headers["X-CRM-Delivery"], time.time())
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def webhooks(count: int, folder: Path) -> tuple:
    from django.contrib.auth.models import User

    from customers.actors import SYSTEM
    from customers.services import contacts
    from integrations.webhooks import services
    from integrations.webhooks.models import WebhookDelivery

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # a subscriber must be able to read what it is sent: a superuser reads everything
    owner = User.objects.create_user(f"hooks-{uuid.uuid4().hex[:6]}", is_superuser=True)
    services.subscription_create(
        owner=owner,
        url=f"http://127.0.0.1:{server.server_address[1]}/hook",
        events=["contact.created"],
    )
    with _worker(folder):
        started = time.time()
        for n in range(count):
            contacts.contact_create(
                actor=SYSTEM, first_name=f"Hook{n}", email=f"hook{n}@example.com"
            )
        deadline = time.time() + 300
        while len(_Receiver.arrivals) < count and time.time() < deadline:
            time.sleep(0.2)
    server.shutdown()
    deliveries = WebhookDelivery.objects.filter(pk__in=[int(k) for k in _Receiver.arrivals])
    lags = sorted(
        (_Receiver.arrivals[str(d.pk)] - d.event.occurred_at.timestamp()) * 1000
        for d in deliveries.select_related("event")
    )
    received = len(lags)
    elapsed = max(_Receiver.arrivals.values()) - started if received else float("inf")
    p50 = statistics.median(lags) if lags else float("nan")
    p99 = lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else float("nan")
    return (
        "webhook deliveries (writes to 204s, 1 worker x2)",
        received,
        received / elapsed,
        f"lag from event to delivery p50 {p50:,.0f} ms, p99 {p99:,.0f} ms",
    )


@contextmanager
def _worker(folder: Path):
    queue = os.environ["CELERY_TASK_DEFAULT_QUEUE"]
    log = open(folder / "worker.log", "w")  # noqa: SIM115
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm_project", "worker", "-Q", queue]
        + ["--concurrency", "2", "-l", "warning", "--without-gossip", "--without-mingle"],
        cwd=BASE_DIR,
        env=dict(os.environ),
        stdout=log,
        stderr=log,
    )
    time.sleep(5)
    try:
        yield
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        log.close()


# rest_json pull


def _source_handler(records: list[dict], page_size: int):
    class Source(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            page = int(self.path.rsplit("page=", 1)[1]) if "page=" in self.path else 1
            items = records[(page - 1) * page_size : page * page_size]
            more = page * page_size < len(records)
            body = json.dumps(
                {
                    "items": items,
                    "next": f"http://{self.headers['Host']}/c?page={page + 1}" if more else None,
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    return Source


def pull(rows: int, folder: Path) -> list[tuple]:
    from integrations.imports import services as imports
    from integrations.services import sync

    records = [
        {
            "external_id": f"pull-{n}",
            "first_name": f"P{n}",
            "email": f"pull{n}@example.com",
            "phone": f"+86 137 {n:08d}",
            "updated_at": f"2026-11-{1 + n % 28:02d}T10:00:00Z",
        }
        for n in range(rows)
    ]
    server = ThreadingHTTPServer(("127.0.0.1", 0), _source_handler(records, 1000))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    connection = sync.connection_create(
        name="bench source",
        connector="rest_json",
        config={
            "url": f"http://127.0.0.1:{server.server_address[1]}/c",
            "records_path": "items",
            "next_path": "next",
            "cursor_field": "updated_at",
        },
        resource="contacts",
        mapping={"updated_at": None},
    )
    started = time.perf_counter()
    run = sync.sync_run(connection.pk)
    pull_rate = rows / (time.perf_counter() - started)
    server.shutdown()

    path = folder / "same.json"
    for record in records:
        record["external_id"] = "file-" + record["external_id"]
        record["email"] = "file." + record["email"]
        record["phone"] = record["phone"].replace("137", "136")
    path.write_text(json.dumps(records))
    started = time.perf_counter()
    with path.open("rb") as handle:
        job = imports.import_create(
            user=None,
            file=handle,
            filename="same.json",
            resource="contacts",
            mapping={"updated_at": None},
            enqueue=False,
        )
    imports.import_run(job_id=job.pk)
    file_rate = rows / (time.perf_counter() - started)
    return [
        (
            "rest_json pull through a sync run",
            run.created,
            pull_rate,
            f"file import of the same records: {file_rate:,.0f}/s "
            f"(ratio {pull_rate / file_rate:.2f}); run {run.status}",
        )
    ]


@contextmanager
def _database(args: argparse.Namespace, folder: Path):
    if args.db == "sqlite":
        yield f"sqlite:///{folder / 'bench.sqlite3'}"
        return
    import psycopg

    name = f"crm_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.postgres, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield args.postgres.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(args.postgres, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _load() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


if __name__ == "__main__":
    sys.exit(main())
