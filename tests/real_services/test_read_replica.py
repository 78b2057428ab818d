"""Reads on a real streaming replica: list pages come from it, an actor that has just written
reads its own writes from the primary, a replica that is down or too far behind is skipped
without an error, and the change feed never shows a gap or moves a cursor back.

The proof that a read came from the replica: its replay is paused, so a row written since
exists only on the primary.
"""

import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import connections, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from customers import read_routing, selectors
from customers.actors import SYSTEM, Actor, Door
from customers.services import contacts
from customers.web import metrics
from integrations.exports.services import export_create, export_run
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from integrations.services.change_feed import read_changes
from tests.real_services.pg_cluster import (
    connections_to,
    pause_replay,
    pg_replica,
    resume_replay,
    wait_for_replay,
)

pytestmark = pytest.mark.slow  # starts PostgreSQL servers

CONTACTS = "/api/v1/contacts/"


@pytest.fixture(scope="module")
def on_cluster(pg_cluster, django_db_blocker):
    with (
        django_db_blocker.unblock(),
        connections_to(pg_cluster.primary_url, [pg_cluster.replica_url], conn_max_age=60),
    ):
        yield pg_cluster


@pytest.fixture
def cluster(on_cluster, settings):
    settings.DATABASE_REPLICAS = ["replica1"]
    settings.READ_YOUR_WRITES_SECONDS = 3
    settings.REPLICA_MAX_LAG_SECONDS = 60  # replay is paused on purpose; the lag test lowers it
    cache.clear()
    read_routing.forget_replica_health()
    wait_for_replay(on_cluster)
    yield on_cluster
    resume_replay(on_cluster)
    read_routing.forget_replica_health()


@pytest.fixture
def people(cluster):
    """Two partners, each with an API key, already on the replica."""
    made = {}
    for name in ("alice", "bob"):
        user = get_user_model().objects.create_superuser(f"{name}-{uuid.uuid4().hex[:8]}")
        key, raw = api_key_create(user=user, name=name, scopes=list(ALL_SCOPES))
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        made[name] = (Actor.for_api_key(key, door=Door.REST), client)
    wait_for_replay(cluster)
    for _, client in made.values():
        listed_over_rest(client)  # the first request loads the URLs and views: not timed below
    cache.clear()  # creating the keys was no write of theirs through a service
    return made


def listed(actor) -> set[str]:
    return set(selectors.contact_list(actor=actor).values_list("external_id", flat=True))


def listed_over_rest(client) -> set[str]:
    response = client.get(CONTACTS, {"page_size": 1000})
    assert response.status_code == 200
    return {row["external_id"] for row in response.json()["results"]}


def new_contact(actor=SYSTEM) -> str:
    external_id = f"c-{uuid.uuid4().hex}"
    contacts.contact_create(actor=actor, first_name="Replicated", external_id=external_id)
    return external_id


def test_lists_read_the_replica_and_a_writer_reads_its_own_writes(cluster, people):
    (alice, alice_api), (bob, bob_api) = people["alice"], people["bob"]
    pause_replay(cluster)

    written = new_contact(alice)

    assert written in listed(alice)  # her own write: the primary
    assert written in listed_over_rest(alice_api)
    assert written not in listed(bob)  # the replica, which has not replayed it
    assert written not in listed_over_rest(bob_api)

    time.sleep(3.2)  # READ_YOUR_WRITES_SECONDS later she reads the replica again
    assert written not in listed(alice)
    assert written not in listed_over_rest(alice_api)

    resume_replay(cluster)
    wait_for_replay(cluster)
    assert written in listed(bob)


def test_a_read_inside_a_write_stays_on_the_primary(cluster, people):
    bob, _ = people["bob"]
    pause_replay(cluster)
    written = new_contact()

    with transaction.atomic():
        assert written in listed(bob)
    assert written not in listed(bob)


def test_a_replica_lagging_beyond_the_limit_is_skipped(cluster, people, settings):
    bob, bob_api = people["bob"]
    settings.REPLICA_MAX_LAG_SECONDS = 1
    pause_replay(cluster)
    written = new_contact()
    time.sleep(1.5)
    read_routing.forget_replica_health()

    assert read_routing.replica_status()["replica1"].startswith("lagging ")
    assert written in listed(bob)
    assert written in listed_over_rest(bob_api)
    ready = Client().get("/readyz")
    assert ready.status_code == 200
    replicas = ready.json()["checks"]["database_replicas"]
    assert replicas["status"] == "degraded" and "replica1 (lagging " in replicas["detail"]


def test_an_idle_primary_does_not_make_a_caught_up_replica_look_lagging(cluster, settings):
    settings.REPLICA_MAX_LAG_SECONDS = 1
    new_contact()
    wait_for_replay(cluster)
    time.sleep(1.5)  # its last replayed transaction is now older than the limit
    read_routing.forget_replica_health()

    assert read_routing.replica_status() == {"replica1": "ok"}


def test_a_stopped_replica_sends_reads_to_the_primary_without_an_error(cluster, people):
    bob, bob_api = people["bob"]
    assert listed_over_rest(bob_api) is not None  # a connection to the replica is open
    assert read_routing.replica_status() == {"replica1": "ok"}
    pg_replica.stop_server(cluster.replica_dir, mode="immediate")
    try:
        written = new_contact()

        # the verdict "ok" is still cached: the query fails on the replica and runs again
        assert written in listed_over_rest(bob_api)
        assert read_routing.replica_status() == {"replica1": "down"}
        read_routing.forget_replica_health()
        assert written in listed(bob)  # checked afresh: down, so the primary
        assert read_routing.replica_status() == {"replica1": "down"}
        ready = Client().get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["database_replicas"] == {
            "status": "degraded",
            "detail": "Reads use the primary; replicas not used: replica1 (down).",
            "duration_ms": ready.json()["checks"]["database_replicas"]["duration_ms"],
        }
    finally:
        pg_replica.start_server(cluster.replica_dir)
        read_routing.forget_replica_health()


def test_the_change_feed_never_reads_a_replica_behind_the_primary(cluster, people):
    head = read_changes(after=None, entities=["contact"], limit=1000)
    while head.has_more:
        head = read_changes(after=head.next_cursor, entities=["contact"], limit=1000)
    cursor = head.next_cursor
    pause_replay(cluster)
    written = {new_contact() for _ in range(3)}

    page = read_changes(after=cursor, entities=["contact"], limit=1000)

    assert read_routing.change_feed_database() == "default"
    assert {event.external_id for event in page.events} == written
    assert _position(page.next_cursor) > _position(cursor)

    resume_replay(cluster)
    wait_for_replay(cluster)
    with CaptureQueriesContext(connections["replica1"]) as on_replica:
        again = read_changes(after=cursor, entities=["contact"], limit=1000)
        after_all = read_changes(after=again.next_cursor, entities=["contact"], limit=1000)
    assert any("change" in query["sql"] and "txid" in query["sql"] for query in on_replica)
    assert [event.id for event in again.events] == [event.id for event in page.events]
    assert after_all.events == [] and after_all.next_cursor == again.next_cursor


def _position(cursor: str) -> tuple[int, int]:
    txid, event_id = cursor.split("-")
    return int(txid), int(event_id)


def test_the_dashboards_counts_come_from_the_replica(cluster, people):
    (alice, _), (bob, _) = people["alice"], people["bob"]
    before = sum(count for _, count in metrics.new_contacts_by_week(actor=bob))
    pause_replay(cluster)
    new_contact(alice)

    assert sum(count for _, count in metrics.new_contacts_by_week(actor=bob)) == before
    assert sum(count for _, count in metrics.new_contacts_by_week(actor=alice)) == before + 1


def test_a_record_is_read_on_a_replica_only_once_the_replica_shows_it_as_the_primary_does(
    cluster,
):
    external_id = new_contact()
    wait_for_replay(cluster)
    pause_replay(cluster)
    contact = selectors.find_contact_by_external_id(external_id)
    contacts.contact_update(actor=SYSTEM, contact=contact, data={"last_name": "Changed"})
    contact.refresh_from_db()

    assert read_routing.database_holding(contact, "updated_at") == "default"
    resume_replay(cluster)
    wait_for_replay(cluster)
    assert read_routing.database_holding(contact, "updated_at") == "replica1"


def test_an_export_job_holds_what_was_written_before_it_was_asked_for(cluster, people):
    alice, _ = people["alice"]
    pause_replay(cluster)
    written = new_contact()  # by someone else, an instant before the export is asked for
    job = export_create(
        user=alice.user,
        resource="contacts",
        format="csv",
        filters={},
        include_pii=False,
        enqueue=False,
    )

    assert read_routing.database_holding(job) == "default"  # the replica has not got the job
    finished = export_run(job_id=job.pk)
    with finished.file.open("rb") as handle:
        assert written.encode() in handle.read()
    finished.file.delete(save=False)


def test_the_read_your_writes_marker_is_shared_by_every_node_through_redis(
    cluster, people, settings
):
    alice, _ = people["alice"]
    shared = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": settings.CELERY_BROKER_URL,  # this run's own Redis database
        }
    }
    with override_settings(CACHES=shared):
        new_contact(alice)
        another_node = RedisCache(settings.CELERY_BROKER_URL, {})
        try:
            keys = [f"crm:wrote-recently:user:{alice.user.pk}"]
            assert another_node.get_many(keys)
        finally:
            another_node.delete_many(keys)
            another_node.close()
