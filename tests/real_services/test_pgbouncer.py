"""The REST API through PgBouncer in transaction mode (Debian's package), with prepared
statements and server-side cursors off as the README says, and connections kept between
requests: writes and reads work, and a PgBouncer restart in the middle of a stream of writes
leaves no half-written record: each request either succeeds or answers 503 in the API's
error shape."""

import os
import shutil
import threading
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import close_old_connections
from rest_framework.test import APIClient

from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.real_services.pg_cluster import connections_to, pg_replica, sql

pytestmark = pytest.mark.slow  # starts PostgreSQL and PgBouncer

CONTACTS = "/api/v1/contacts/"


@pytest.fixture(scope="module")
def through_pgbouncer(pg_cluster, django_db_blocker):
    if shutil.which("pgbouncer") is None:
        message = "needs PgBouncer: apt-get install pgbouncer"
        if os.environ.get("CRM_REQUIRE_INTEGRATION") == "1":
            pytest.fail(message)
        pytest.skip(message)
    pg_replica.start_pgbouncer(pg_cluster)
    try:
        with (
            django_db_blocker.unblock(),
            connections_to(
                pg_cluster.pgbouncer_url,
                conn_max_age=60,
                prepared_statements=False,
                server_side_cursors=False,
            ),
        ):
            yield pg_cluster
    finally:
        pg_replica.stop_pgbouncer(pg_cluster)


@pytest.fixture
def partner(through_pgbouncer, settings) -> APIClient:
    settings.DATABASE_REPLICAS = []
    cache.clear()
    user = get_user_model().objects.create_superuser(f"pooled-{uuid.uuid4().hex[:8]}")
    _, raw = api_key_create(user=user, name="pooled", scopes=list(ALL_SCOPES))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    client.raise_request_exception = False  # a 500 must show as one, not as a test error
    return client


def request(call, *args, **kwargs):
    """One request as a server runs it: Django checks its kept connections at the start and
    end of each request (the test client leaves that out)."""
    close_old_connections()
    try:
        return call(*args, **kwargs)
    finally:
        close_old_connections()


def test_rest_writes_and_reads_through_pgbouncer_in_transaction_mode(partner):
    run = uuid.uuid4().hex
    for number in range(10):
        response = request(
            partner.post,
            CONTACTS,
            {"first_name": "Pooled", "external_id": f"{run}-{number}"},
            format="json",
        )
        assert response.status_code == 201, response.content

    listed = request(partner.get, CONTACTS, {"external_id": f"{run}-3"}).json()["results"]
    changed = request(
        partner.patch,
        f"{CONTACTS}{listed[0]['id']}/",
        {"last_name": "Renamed"},
        format="json",
    )
    exported = request(partner.get, f"{CONTACTS}export/", {"format": "csv"})

    assert changed.status_code == 200 and changed.json()["last_name"] == "Renamed"
    assert exported.status_code == 200
    assert b"".join(exported.streaming_content).count(run.encode()) == 10


def test_a_pgbouncer_restart_mid_load_leaves_no_half_writes(partner, through_pgbouncer):
    cluster = through_pgbouncer
    run = uuid.uuid4().hex
    restarted = threading.Event()

    def restart():
        time.sleep(0.5)
        pg_replica.stop_pgbouncer(cluster)
        time.sleep(0.5)
        pg_replica.start_pgbouncer(cluster)
        restarted.set()

    outcomes: dict[str, int] = {}
    bodies = []
    restarter = threading.Thread(target=restart)
    restarter.start()
    # bounded, with room for a restart that a busy machine slows down (it waits for the port)
    deadline = time.monotonic() + 60
    created_after_restart = 0
    while created_after_restart < 5 and time.monotonic() < deadline:
        external_id = f"{run}-{len(outcomes)}"
        record = {"first_name": "Load", "external_id": external_id}
        response = request(partner.post, CONTACTS, record, format="json")
        outcomes[external_id] = response.status_code
        if response.status_code != 201:
            bodies.append(response.json())
        elif restarted.is_set():
            created_after_restart += 1
    restarter.join(timeout=30)

    assert set(outcomes.values()) <= {201, 503}
    assert 503 in outcomes.values()  # the restart did land in the middle of the load
    assert created_after_restart == 5  # and the API recovered on its own
    assert {body["code"] for body in bodies} == {"database_unavailable"}
    stored = _external_ids(cluster, run, "customers_contact")
    announced = _external_ids(cluster, run, "customers_changeevent")
    assert stored == announced  # every stored contact has its event, and no event lacks one
    assert {key for key, status in outcomes.items() if status == 201} <= stored


def _external_ids(cluster, run: str, table: str) -> set[str]:
    """Read on the primary itself, behind PgBouncer's back."""
    query = f"SELECT external_id FROM {table} WHERE external_id LIKE '{run}-%'"
    return {row[0] for row in sql(cluster.primary_port, query)}
