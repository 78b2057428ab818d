"""The rules of read routing that need no replica to hold (the embedded default): where a
read goes for whom, how read-your-writes is marked and read, and how replicas are configured.
Reads on a real streaming replica: tests/real_services/test_read_replica.py."""

import time

import pytest
from django.db import OperationalError, transaction
from django.test import override_settings

from crm_project.databases import database_from_url, replica_databases
from customers import read_routing
from customers.actors import Actor, Door
from customers.api.errors import api_exception_handler
from customers.read_routing import ReplicaHealth
from customers.services import contacts
from tests.factories import SalesUserFactory, UserFactory

OK = ReplicaHealth(True, "ok")
DOWN = ReplicaHealth(False, "down")


@pytest.fixture
def replicas(settings, monkeypatch):
    """Two replicas whose health each test sets (``verdicts``), checked without a server."""
    settings.DATABASE_REPLICAS = ["replica1", "replica2"]
    settings.READ_YOUR_WRITES_SECONDS = 1
    verdicts = {"replica1": OK, "replica2": OK}
    checks = []

    def check(alias):
        checks.append(alias)
        return verdicts[alias]

    monkeypatch.setattr(read_routing, "_check", check)
    read_routing.forget_replica_health()
    yield verdicts, checks
    read_routing.forget_replica_health()


class Person:
    """An actor without a database row: only its identity matters to the routing."""

    def __init__(self, pk):
        self.pk = pk


def reader(pk, *, api_key_id=None) -> Actor:
    return Actor(door=Door.REST, user=Person(pk), api_key_id=api_key_id)


def test_without_replicas_every_read_goes_to_the_primary(settings):
    settings.DATABASE_REPLICAS = []

    assert read_routing.read_database(reader(1)) == "default"
    assert read_routing.replica_status() == {}


def test_a_list_read_goes_to_a_healthy_replica_and_the_same_actor_keeps_to_it(replicas):
    chosen = {read_routing.read_database(reader(7)) for _ in range(5)}
    others = {read_routing.read_database(reader(pk)) for pk in range(1, 5)}

    assert len(chosen) == 1 and chosen <= {"replica1", "replica2"}
    assert others == {"replica1", "replica2"}  # actors spread over the replicas


def test_the_applications_own_reads_stay_on_the_primary(replicas):
    assert read_routing.read_database(None) == "default"


@pytest.mark.django_db(transaction=True)
def test_a_read_inside_a_transaction_stays_on_the_primary(replicas):
    with transaction.atomic():
        assert read_routing.read_database(reader(1)) == "default"
    assert read_routing.read_database(reader(1)) != "default"


def test_unhealthy_replicas_are_skipped_and_none_left_means_the_primary(replicas):
    verdicts, _ = replicas
    verdicts["replica1"] = DOWN

    assert {read_routing.read_database(reader(pk)) for pk in range(1, 5)} == {"replica2"}

    verdicts["replica2"] = ReplicaHealth(False, "lagging 9s")
    read_routing.forget_replica_health()
    assert read_routing.read_database(reader(1)) == "default"
    assert read_routing.replica_status() == {"replica1": "down", "replica2": "lagging 9s"}


def test_a_replicas_health_is_checked_once_per_period_not_per_read(replicas, monkeypatch):
    _, checks = replicas
    for _ in range(10):
        read_routing.read_database(reader(1))
    assert checks == ["replica1", "replica2"]

    monkeypatch.setattr(read_routing, "HEALTH_CACHE_SECONDS", 0.0)
    read_routing.read_database(reader(1))
    assert checks == ["replica1", "replica2"] * 2


@pytest.mark.django_db
def test_a_writer_reads_the_primary_until_read_your_writes_seconds_pass(
    replicas, django_capture_on_commit_callbacks
):
    writer = Actor.for_user(SalesUserFactory(), door=Door.WEB)
    someone_else = reader(writer.user.pk + 1000)

    with django_capture_on_commit_callbacks(execute=True):
        contacts.contact_create(actor=writer, first_name="Fresh")

    assert read_routing.wrote_recently(writer)
    assert not read_routing.wrote_recently(someone_else)
    same_person_by_key = reader(writer.user.pk, api_key_id=99)
    assert read_routing.wrote_recently(same_person_by_key)
    time.sleep(1.1)
    assert not read_routing.wrote_recently(writer)


@pytest.mark.django_db
def test_a_write_that_rolls_back_marks_nothing(replicas, django_capture_on_commit_callbacks):
    writer = Actor.for_user(UserFactory(), door=Door.ADMIN)

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        contacts.contact_create(actor=writer, first_name="Validated only")
        transaction.set_rollback(True)

    assert callbacks == []
    assert not read_routing.wrote_recently(writer)


UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:18599/0",  # nothing listens there
        "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
    }
}


def test_a_cache_that_cannot_answer_sends_reads_to_the_primary(replicas):
    with override_settings(CACHES=UNREACHABLE_CACHE):
        assert read_routing.wrote_recently(reader(1))
        assert read_routing.read_database(reader(1)) == "default"
        read_routing._mark(["crm:wrote-recently:user:1"])  # a write is not failed for it


def test_replicas_are_configured_like_the_primary_and_mirror_it_under_test():
    options = {"conn_max_age": 60, "prepared_statements": False, "server_side_cursors": False}
    primary = database_from_url("postgres://crm@db1:5432/crm", **options)

    replicas = replica_databases(
        ["postgres://crm@db2:5432/crm", "postgres://crm@db3:5432/crm"], **options
    )

    assert list(replicas) == ["replica1", "replica2"]
    assert replicas["replica2"]["HOST"] == "db3"
    for replica in replicas.values():
        assert replica["TEST"] == {"MIRROR": "default"}
        assert replica["CONN_MAX_AGE"] == primary["CONN_MAX_AGE"] == 60
        assert replica["DISABLE_SERVER_SIDE_CURSORS"] is primary["DISABLE_SERVER_SIDE_CURSORS"]
        assert replica["OPTIONS"] == {**primary.get("OPTIONS", {}), "connect_timeout": 2}


def test_prepared_statements_are_the_same_on_primary_and_replicas():
    options = {"conn_max_age": 0, "prepared_statements": True, "server_side_cursors": True}

    (replica,) = replica_databases(["postgres://crm@db2/crm"], **options).values()

    assert replica["OPTIONS"]["server_side_binding"] is True
    assert not replica.get("DISABLE_SERVER_SIDE_CURSORS")


def test_rest_answers_a_database_that_cannot_be_reached_with_503_in_its_error_shape():
    response = api_exception_handler(OperationalError("connection refused"), {})

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.data == {
        "code": "database_unavailable",
        "message": "The database is unavailable; try again shortly.",
        "errors": {},
    }
