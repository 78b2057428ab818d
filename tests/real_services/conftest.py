"""The tests in this folder need real PostgreSQL and Redis (DATABASE_URL / CELERY_BROKER_URL), so
each carries the `integration` marker and `make test` leaves them to `make test-integration`.

`make test-integration` sets CRM_REQUIRE_INTEGRATION=1, which turns a missing service into a
failure; a plain `pytest` run elsewhere skips these tests instead.
"""

import os
from pathlib import Path

import pytest
from django.conf import settings

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def require_real_services():
    engine = settings.DATABASES["default"]["ENGINE"]
    broker = settings.CELERY_BROKER_URL
    if "postgresql" in engine and broker.startswith("redis://"):
        return
    message = f"needs PostgreSQL and Redis, got {engine} and {broker}"
    if os.environ.get("CRM_REQUIRE_INTEGRATION") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def pg_cluster(django_db_blocker):
    """One PostgreSQL primary (port 18501) with a streaming replica (18502) for the session,
    migrated, stopped and removed at the end (tests/real_services/pg_cluster.py)."""
    import tempfile

    from django.core.management import call_command

    from tests.real_services import pg_cluster as helpers

    if "postgresql" not in settings.DATABASES["default"]["ENGINE"]:
        pytest.skip("the replica cluster runs with the PostgreSQL suite (DATABASE_URL)")
    helpers.require_binaries()
    cluster = helpers.pg_replica.start(Path(tempfile.mkdtemp(prefix="crm-pg-replica-")))
    try:
        with django_db_blocker.unblock(), helpers.connections_to(cluster.primary_url):
            call_command("migrate", verbosity=0)
        helpers.wait_for_replay(cluster)
        yield cluster
    finally:
        helpers.pg_replica.stop(cluster)
