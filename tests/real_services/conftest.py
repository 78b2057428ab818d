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
