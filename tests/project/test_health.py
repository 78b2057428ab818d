"""/healthz and /readyz: what a load balancer and an orchestrator are told, and when."""

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

from crm_project.operations import health
from customers import read_routing
from customers.read_routing import ReplicaHealth
from tests.factories import ContactFactory
from tests.project.database_outage import database_unreachable
from tests.project.web_server import CLOSED_PORT_REDIS

pytestmark = pytest.mark.django_db

CHECKS = ["database", "migrations", "broker", "cache", "encryption_keys", "database_replicas"]


@pytest.fixture(autouse=True)
def migrations_not_yet_known(monkeypatch):
    """Each test asks the database again (a process keeps "all applied" once it saw it)."""
    monkeypatch.setattr(health, "_all_migrations_applied", False)


def readyz(client):
    response = client.get("/readyz")
    return response, response.json()


def test_healthz_answers_ok_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_probes_answer_plain_http_under_the_ssl_redirect_while_pages_are_redirected(
    client, settings
):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get(reverse("web:login")).status_code == 301


def test_probes_ignore_credentials_rather_than_refuse_bad_ones(client):
    """Not behind the API's authentication: a probe configured with a stale key still works."""
    bad_key = {"HTTP_AUTHORIZATION": "Bearer revoked-or-made-up-key"}

    assert client.get("/healthz", **bad_key).status_code == 200
    assert client.get("/readyz", **bad_key).status_code == 200


def test_readyz_is_200_naming_every_check_when_all_is_well(client):
    response, body = readyz(client)

    assert response.status_code == 200
    assert body["status"] == "ok"
    assert list(body["checks"]) == CHECKS
    assert {check["status"] for check in body["checks"].values()} == {"ok"}


def test_readyz_is_503_naming_the_broker_when_it_refuses_connections(client, point_broker_at):
    point_broker_at(CLOSED_PORT_REDIS)

    response, body = readyz(client)

    assert response.status_code == 503
    assert body["status"] == "failed"
    assert body["checks"]["broker"]["status"] == "failed"
    assert "OperationalError" in body["checks"]["broker"]["detail"]
    assert body["checks"]["database"]["status"] == "ok"


def test_readyz_never_shows_the_broker_url_or_its_password(client, point_broker_at):
    point_broker_at("redis://:s3cret-password@127.0.0.1:1/9")

    response, _ = readyz(client)

    assert response.status_code == 503
    assert b"s3cret" not in response.content
    assert b"127.0.0.1" not in response.content


def test_readyz_is_503_naming_the_cache_when_its_redis_is_unreachable(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }

    response, body = readyz(client)

    assert response.status_code == 503
    assert body["checks"]["cache"]["status"] == "failed"
    assert body["checks"]["broker"]["status"] == "ok"


def test_readyz_is_503_naming_migrations_when_one_is_not_applied(client):
    recorder = MigrationRecorder(connection)
    recorder.migration_qs.filter(app="integrations").order_by("-id").first().delete()

    response, body = readyz(client)

    assert response.status_code == 503
    assert body["checks"]["migrations"]["status"] == "failed"
    assert "migrate" in body["checks"]["migrations"]["detail"]


def test_once_all_migrations_were_applied_the_answer_is_kept(client, django_assert_num_queries):
    health.migrations()

    with django_assert_num_queries(0):
        health.migrations()


def test_readyz_is_503_naming_the_keys_when_stored_data_was_encrypted_under_a_dropped_key(
    client, settings, encryption_keys
):
    contact = ContactFactory(email="kept.secret@example.com")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old key dropped

    response, body = readyz(client)

    assert response.status_code == 503
    assert body["checks"]["encryption_keys"]["status"] == "failed"
    assert b"kept.secret" not in response.content
    assert contact.email.encode() not in response.content


def test_readyz_is_200_after_a_rotation_that_kept_the_old_key(client, settings, encryption_keys):
    ContactFactory()
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode(), *encryption_keys]

    response, body = readyz(client)

    assert response.status_code == 200
    assert body["checks"]["encryption_keys"]["status"] == "ok"


def test_readyz_is_503_when_a_configured_key_is_malformed(client, settings):
    settings.FIELD_ENCRYPTION_KEYS = ["not-a-fernet-key"]

    response, body = readyz(client)

    assert response.status_code == 503
    assert body["checks"]["encryption_keys"]["status"] == "failed"
    assert b"not-a-fernet-key" not in response.content


def test_a_degraded_check_is_named_but_keeps_the_process_ready(client, monkeypatch):
    def replica() -> None:
        raise health.CheckDegraded("reads go to the primary")

    monkeypatch.setitem(health.READINESS_CHECKS, "database_replica", replica)

    response, body = readyz(client)

    assert response.status_code == 200
    assert body["status"] == "degraded"
    assert body["checks"]["database_replica"] == {
        "status": "degraded",
        "detail": "reads go to the primary",
        "duration_ms": body["checks"]["database_replica"]["duration_ms"],
    }


def test_a_check_that_raises_unexpectedly_fails_naming_only_the_error_class(client, monkeypatch):
    def broken() -> None:
        raise RuntimeError("postgres://admin:hunter2@db.internal/crm")

    monkeypatch.setitem(health.READINESS_CHECKS, "broken", broken)

    response, body = readyz(client)

    assert response.status_code == 503
    assert "RuntimeError" in body["checks"]["broken"]["detail"]
    assert b"hunter2" not in response.content


def test_check_names_are_unique():
    with pytest.raises(ValueError):
        health.readiness_check("database")(lambda: None)


def test_with_the_database_unreachable_readyz_fails_its_checks_and_healthz_still_answers(client):
    """A database at a closed port: every check that needs it fails with a reason (no 500)."""
    with database_unreachable():
        live = client.get("/healthz")
        response, body = readyz(client)

    assert live.status_code == 200
    assert response.status_code == 503
    for name in ("database", "migrations", "encryption_keys"):
        assert body["checks"][name]["status"] == "failed", name
    assert "Unexpected" not in response.content.decode()


def test_replicas_out_of_use_are_named_and_the_process_stays_ready(client, settings, monkeypatch):
    settings.DATABASE_REPLICAS = ["replica1", "replica2"]
    verdicts = {"replica1": ReplicaHealth(True, "ok"), "replica2": ReplicaHealth(False, "down")}
    monkeypatch.setattr(read_routing, "_check", verdicts.__getitem__)
    read_routing.forget_replica_health()
    try:
        response, body = readyz(client)
    finally:
        read_routing.forget_replica_health()

    assert response.status_code == 200
    replicas = body["checks"]["database_replicas"]
    assert replicas["status"] == "degraded"
    assert "replica2 (down)" in replicas["detail"] and "replica1" not in replicas["detail"]


def test_without_replicas_the_replica_check_is_simply_ok(client, settings):
    settings.DATABASE_REPLICAS = []

    _response, body = readyz(client)

    assert body["checks"]["database_replicas"]["status"] == "ok"
