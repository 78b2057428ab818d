"""The production topology under load, with a web node, a worker and beat killed (-9) and
restarted along the way (see topology.py for what runs where, and the README's "The cluster
test"). One scenario runs once for the module; each test states one property it must keep.
"""

import json
import re
import threading
import time
import uuid
from dataclasses import dataclass

import psycopg
import pytest
import requests

from bench.import_bench import csv_bytes
from tests.workers import wait_for

from .load import Recorder, RestCompanies, RestContacts, SoapContacts, start_load
from .outside import Outside
from .processes import logged, run
from .topology import BUCKET, PORTS, Cluster
from .units import ROOT, exec_start, read_unit

IMPORT_ROWS = 100_000
ROWS_BEFORE = 1_000  # imported first, so that the large import updates them
SOURCE_RECORDS = 25
LOAD_SECONDS_AFTER_IMPORT = 5
IMPORT_TIMEOUT_SECONDS = 360
DELIVERY_TIMEOUT_SECONDS = 120
WEBHOOK_EVENTS = ["company.created", "company.updated"]
KEY_NAMES = ["admin", "feed", "rate", "replay", "rest", "soap", "companies"]
RATE_LIMIT = 300  # API_KEY_RATE_LIMIT of topology.py, per minute
# Beat sends the job sweep every JOB_SWEEP_INTERVAL_SECONDS (5 s in topology.py).
BEAT_SENDS = "Sending due task"
BEAT_OVERLAP_SECONDS = 12
BEAT_TAKEOVER_SECONDS = 90
# How long after a web node's kill nginx may still send a request down a kept-alive
# connection to it (it learns of the death on the first failed write per connection).
KILL_NOTICED_SECONDS = 1.0


@dataclass
class Kill:
    process: str
    upstream: str  # the killed web node's address as nginx names it ("" for others)
    at: float
    restarted: float


@dataclass
class Scenario:
    cluster: Cluster
    keys: dict[str, str]
    outside: Outside
    recorder: Recorder
    kills: list[Kill]
    import_job: dict
    import_at_worker_kill: dict  # the job as it was when its worker was killed
    connection_id: int


def api(cluster: Cluster, key: str, *, node: int | None = None) -> requests.Session:
    """A client through nginx, or straight to one web node (with the header nginx adds)."""
    session = requests.Session()
    session.trust_env = False  # no proxy, no CA bundle from the environment
    session.verify = str(cluster.certificate)
    session.headers["Authorization"] = f"Bearer {key}"
    if node is not None:
        session.headers["X-Forwarded-Proto"] = "https"
    session.base = cluster.url if node is None else cluster.node_url(node)
    return session


def get(session: requests.Session, path: str, **kwargs) -> requests.Response:
    return session.get(session.base + path, timeout=60, **kwargs)


def post(session: requests.Session, path: str, **kwargs) -> requests.Response:
    return session.post(session.base + path, timeout=120, **kwargs)


def upload_import(session: requests.Session, content: bytes) -> dict:
    response = post(
        session,
        "/api/v1/imports/",
        files={"file": ("contacts.csv", content, "text/csv")},
        data={"resource": "contacts", "mode": "upsert", "match_key": "external_id"},
    )
    assert response.status_code == 202, response.text
    return response.json()


def import_job(session: requests.Session, job_id: int) -> dict:
    return get(session, f"/api/v1/imports/{job_id}/").json()


def finished_import(session: requests.Session, job_id: int, timeout: float) -> dict:
    def done():
        job = import_job(session, job_id)
        return job if job["status"] not in ("queued", "running") else None

    return wait_for(done, timeout=timeout, interval=2, what=f"import {job_id}")


def seed_keys(cluster: Cluster) -> dict[str, str]:
    environment = {**cluster.crm_environment(), "DJANGO_SETTINGS_MODULE": "crm_project.settings"}
    python = str(ROOT / ".venv" / "bin" / "python")
    return json.loads(run([python, "-m", "tests.cluster.seed", *KEY_NAMES], env=environment))


def source_records() -> list[dict]:
    return [
        {"id": f"sync-{n}", "first_name": "Synced", "last_name": f"{n}", "email": f"s{n}@ex.com"}
        for n in range(SOURCE_RECORDS)
    ]


def kill_and_restart(process, *, upstream: str = "", down_seconds: float = 2) -> Kill:
    at = time.monotonic()
    process.kill()
    time.sleep(down_seconds)
    process.start()
    return Kill(process.name, upstream, at, time.monotonic())


def worker_running_import(cluster: Cluster):
    for worker in cluster.workers:
        if "integrations.run_import" in worker.current_log():
            return worker
    return None


@pytest.fixture(scope="module")
def scenario(cluster: Cluster):
    keys = seed_keys(cluster)
    with Outside(PORTS.outside, source_records()) as outside:
        admin = api(cluster, keys["admin"])
        response = post(
            admin,
            "/api/v1/webhooks/",
            json={"url": f"http://127.0.0.1:{PORTS.outside}/hooks", "events": WEBHOOK_EVENTS},
        )
        assert response.status_code == 201, response.text
        outside.webhook_secret = response.json()["secret"]
        response = post(
            admin,
            "/api/v1/connections/",
            json={
                "name": "Outside source",
                "connector": "rest_json",
                "resource": "contacts",
                "mode": "upsert",
                "match": "external_id",
                "config": {
                    "url": f"http://127.0.0.1:{PORTS.outside}/source/contacts",
                    "records_path": "data.items",
                },
                "mapping": {"id": "external_id"},
                "schedule": {"every_minutes": 1},
            },
        )
        assert response.status_code == 201, response.text
        connection_id = response.json()["id"]

        node1 = api(cluster, keys["admin"], node=0)
        first = upload_import(node1, csv_bytes(ROWS_BEFORE, street="Old Road"))
        first = finished_import(admin, first["id"], timeout=120)
        assert (first["status"], first["rows_created"]) == ("succeeded", ROWS_BEFORE), first

        recorder, stop = Recorder(), threading.Event()
        certificate = str(cluster.certificate)
        clients = [
            RestContacts("rest", cluster.url, keys["rest"], recorder, certificate=certificate),
            RestCompanies(
                "companies", cluster.url, keys["companies"], recorder, certificate=certificate
            ),
            SoapContacts(
                "soap",
                cluster.url,
                keys["soap"],
                recorder,
                certificate=certificate,
                username="cluster",
            ),
        ]
        threads = start_load(clients, stop)
        kills = []
        try:
            job = upload_import(node1, csv_bytes(IMPORT_ROWS))
            time.sleep(5)
            web2 = cluster.web[1]
            kills.append(kill_and_restart(web2, upstream=f"127.0.0.1:{PORTS.web[1]}"))
            wait_for(
                lambda: (import_job(admin, job["id"])["rows_processed"] or 0) > 0,
                timeout=180,
                interval=1,
                what="the large import's first chunk",
            )
            worker = wait_for(
                lambda: worker_running_import(cluster),
                timeout=30,
                interval=1,
                what="the import's worker",
            )
            at_worker_kill = import_job(admin, job["id"])
            kills.append(kill_and_restart(worker))
            kills.append(kill_and_restart(cluster.beat))
            job = finished_import(admin, job["id"], timeout=IMPORT_TIMEOUT_SECONDS)
            time.sleep(LOAD_SECONDS_AFTER_IMPORT)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
        yield Scenario(cluster, keys, outside, recorder, kills, job, at_worker_kill, connection_id)


def primary_rows(cluster: Cluster, sql: str, *parameters) -> list[tuple]:
    with psycopg.connect(cluster.primary_dsn) as connection:
        return connection.execute(sql, parameters).fetchall()


def test_the_load_ran_through_both_web_nodes_and_every_door(scenario):
    answers = scenario.recorder.answers
    upstreams = {answer.upstream.split(",")[-1].strip() for answer in answers if answer.upstream}
    assert {f"127.0.0.1:{port}" for port in PORTS.web} <= upstreams
    assert {answer.client for answer in answers if 200 <= answer.status < 300} == {
        "rest",
        "companies",
        "soap",
    }


def test_every_acknowledged_write_is_stored_exactly_once(scenario):
    acknowledged = [write for write in scenario.recorder.writes if 200 <= write.status < 300]
    assert len(acknowledged) >= 20
    tables = {"contact": "customers_contact", "company": "customers_company"}
    for entity, table in tables.items():
        wanted = [write.external_id for write in acknowledged if write.entity == entity]
        counts = dict(
            primary_rows(
                scenario.cluster,
                f"SELECT external_id, COUNT(*) FROM {table} "  # noqa: S608 (fixed names)
                "WHERE external_id = ANY(%s) GROUP BY external_id",
                wanted,
            )
        )
        assert {external_id: counts.get(external_id, 0) for external_id in wanted} == dict.fromkeys(
            wanted, 1
        )


def test_import_counts_are_exact_though_its_worker_was_killed(scenario):
    job = scenario.import_job
    assert job["status"] == "succeeded", job
    assert (job["rows_created"], job["rows_updated"], job["rows_failed"]) == (
        IMPORT_ROWS - ROWS_BEFORE,
        ROWS_BEFORE,
        0,
    )
    ((stored,),) = primary_rows(
        scenario.cluster, "SELECT COUNT(*) FROM customers_contact WHERE external_id LIKE 'x-%%'"
    )
    assert stored == IMPORT_ROWS
    interrupted = scenario.import_at_worker_kill
    assert interrupted["status"] == "running"
    assert 0 < interrupted["rows_processed"] < IMPORT_ROWS, "the kill came mid-import"


def test_no_server_error_but_for_requests_in_flight_on_the_killed_node(scenario):
    """A request the killed node had taken (or that nginx had just written onto a kept-alive
    connection to it: a POST is then not retried) may fail; nothing else may."""
    (web_kill,) = [kill for kill in scenario.kills if kill.upstream]

    def in_flight_on_killed_node(answer) -> bool:
        return (
            web_kill.upstream in answer.upstream
            and answer.started <= web_kill.at + KILL_NOTICED_SECONDS
            and answer.ended >= web_kill.at
        )

    failures = [a for a in scenario.recorder.answers if a.status >= 500 or a.status == 0]
    assert [answer for answer in failures if not in_flight_on_killed_node(answer)] == []


def test_every_webhook_event_reached_the_receiver_signed(scenario):
    def missing() -> set[int]:
        events = primary_rows(
            scenario.cluster,
            "SELECT id FROM customers_changeevent WHERE type = ANY(%s)",
            WEBHOOK_EVENTS,
        )
        return {event_id for (event_id,) in events} - scenario.outside.received()

    wait_for(lambda: not missing(), timeout=DELIVERY_TIMEOUT_SECONDS, what="webhook deliveries")
    assert scenario.outside.received()
    assert scenario.outside.bad_signatures == 0


def test_change_feed_lists_every_event_once(scenario):
    """Paged to the end, the feed (ordered by transaction, then id) holds every stored event
    exactly once: no gap, whatever order the transactions committed in."""
    feed = api(scenario.cluster, scenario.keys["feed"])
    ids, after = [], None
    while True:
        page = get(feed, "/api/v1/changes/", params={"limit": 1000, "after": after or ""}).json()
        ids += [event["id"] for event in page["results"]]
        after = page["next_cursor"]
        if not page["has_more"]:
            break
    stored = [
        event_id
        for (event_id,) in primary_rows(
            scenario.cluster,
            "SELECT id FROM customers_changeevent WHERE id <= %s ORDER BY id",
            max(ids),
        )
    ]
    assert len(ids) == len(set(ids)), "an event served twice"
    assert sorted(ids) == stored, "an event missing from the feed"
    assert len(ids) > IMPORT_ROWS


def test_scheduled_sync_imported_the_source_though_beat_was_killed(scenario):
    admin = api(scenario.cluster, scenario.keys["admin"])

    def synced():
        runs = get(admin, f"/api/v1/sync-runs/?connection={scenario.connection_id}").json()
        return [run for run in runs["results"] if run["status"] == "succeeded"]

    wait_for(synced, timeout=150, interval=3, what="a scheduled sync run")
    ((stored,),) = primary_rows(
        scenario.cluster, "SELECT COUNT(*) FROM customers_contact WHERE external_id LIKE 'sync-%%'"
    )
    assert stored == SOURCE_RECORDS


def test_one_keys_rate_limit_is_shared_by_both_web_nodes(scenario):
    nodes = [api(scenario.cluster, scenario.keys["rate"], node=index) for index in (0, 1)]
    statuses = {0: [], 1: []}
    for n in range(RATE_LIMIT + 40):
        node = n % 2
        statuses[node].append(get(nodes[node], "/api/v1/contacts/?page_size=1").status_code)
    allowed = sum(status == 200 for answers in statuses.values() for status in answers)
    assert allowed == RATE_LIMIT
    assert 429 in statuses[0] and 429 in statuses[1]


def test_an_idempotency_key_replays_the_same_answer_from_either_node(scenario):
    key = str(uuid.uuid4())
    body = {"first_name": "Replay", "last_name": "Node", "external_id": f"replay-{key}"}
    answers = [
        post(
            api(scenario.cluster, scenario.keys["replay"], node=index),
            "/api/v1/contacts/",
            json=body,
            headers={"Idempotency-Key": key},
        )
        for index in (0, 1, 0)
    ]
    assert [answer.status_code for answer in answers] == [201, 201, 201]
    assert answers[0].json() == answers[1].json() == answers[2].json()
    ((stored,),) = primary_rows(
        scenario.cluster,
        "SELECT COUNT(*) FROM customers_contact WHERE external_id = %s",
        body["external_id"],
    )
    assert stored == 1


def test_the_replica_streams_what_the_primary_wrote(scenario):
    (primary,) = primary_rows(scenario.cluster, "SELECT COUNT(*) FROM customers_contact")
    replica_dsn = f"postgresql://postgres@127.0.0.1:{PORTS.replica}/crm"

    def caught_up() -> bool:
        with psycopg.connect(replica_dsn) as connection:
            (count,) = connection.execute("SELECT COUNT(*) FROM customers_contact").fetchone()
        return count >= primary[0]

    wait_for(caught_up, timeout=30, interval=1, what="the replica")


def test_health_endpoints_answer_through_nginx(scenario):
    anonymous = api(scenario.cluster, "")
    anonymous.headers.pop("Authorization")
    assert get(anonymous, "/healthz").status_code == 200
    ready = get(anonymous, "/readyz")
    assert ready.status_code == 200, ready.text
    assert {"database", "migrations", "broker", "cache", "encryption_keys"} <= set(
        ready.json()["checks"]
    )
    assert get(anonymous, "/metrics").status_code == 401  # the token is set: it is asked for
    metrics = get(
        anonymous,
        "/metrics",
        headers={"Authorization": f"Bearer {scenario.cluster.metrics_token}"},
    )
    assert metrics.status_code == 200
    assert 'crm_http_requests_total{door="rest"' in metrics.text
    assert 'crm_celery_queue_depth{queue="imports"}' in metrics.text


def test_request_id_travels_from_nginx_to_the_logs(scenario):
    request_id = uuid.uuid4().hex
    admin = api(scenario.cluster, scenario.keys["admin"])
    response = get(admin, "/api/v1/contacts/?page_size=1", headers={"X-Request-ID": request_id})
    assert response.headers.get("X-Request-ID") == request_id

    def lines_naming_it():
        logs = "".join(web.log_text() for web in scenario.cluster.web)
        return [line for line in logs.splitlines() if request_id in line]

    # gunicorn writes the access line once the response has been sent: a moment after it
    lines = wait_for(lines_naming_it, timeout=10, what="the request's log lines")
    assert all(json.loads(line).get("request_id") == request_id for line in lines)


def test_static_files_are_served_by_the_app_behind_nginx(scenario):
    css = next((ROOT / "static").rglob("*.css")).relative_to(ROOT / "static")
    anonymous = api(scenario.cluster, "")
    anonymous.headers.pop("Authorization")
    response = get(anonymous, f"/static/{css}")
    assert response.status_code == 200
    assert "max-age" in response.headers.get("Cache-Control", "")


def test_uploaded_import_files_are_stored_in_s3(scenario):
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{PORTS.s3}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    names = [item["Key"] for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    assert any(re.match(r"imports/", name) for name in names), names


def test_a_second_beat_waits_and_takes_over_when_the_first_dies(scenario):
    """Runs last: it leaves the second beat as the cluster's only one."""
    cluster = scenario.cluster
    first = cluster.beat
    second = cluster.add(
        "beat-standby",
        exec_start(read_unit("crm-beat.service"), cluster.crm_environment()),
        ready=logged("beat: Starting"),
    )
    sent_before = first.current_log().count(BEAT_SENDS)
    time.sleep(BEAT_OVERLAP_SECONDS)
    assert first.current_log().count(BEAT_SENDS) > sent_before, "the first beat kept sending"
    assert BEAT_SENDS not in second.current_log(), "two beats sent at once"
    first.kill()
    wait_for(
        lambda: BEAT_SENDS in second.current_log(),
        timeout=BEAT_TAKEOVER_SECONDS,
        interval=1,
        what="the second beat taking over",
    )
