import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.db import connection
from django.utils import translation
from django.utils.translation import trans_real


def pytest_configure(config):
    """The UI's Chinese strings come from .mo files compiled from the committed .po (`make
    install` does it too; a bare `pytest` on a fresh checkout must not depend on that). Compiled
    once, before pytest-xdist starts its workers: two workers writing the same .mo would let a
    third read it half written."""
    if hasattr(config, "workerinput"):  # an xdist worker: its controller compiled them
        return
    sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
    from compile_messages import compile_all

    if compile_all([Path(path) for path in settings.LOCALE_PATHS]):
        trans_real._translations = {}  # catalogues loaded before the .mo existed are stale


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """A test that starts a real gunicorn (`slow_server`, tests/hostile) is a slow test too, so
    `-m "not slow"` (make test-fast) leaves it out with the workers, beat and browser tests."""
    for item in items:
        if item.get_closest_marker("slow_server"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def encryption_keys(settings):
    """A fresh primary key for the test, so key-handling tests never depend on var/."""
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return settings.FIELD_ENCRYPTION_KEYS


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash a password per user; the real hasher's cost buys tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def reads_on_the_primary(settings):
    """Read replicas configured for the run (DATABASE_REPLICA_URL) mirror the test database,
    where a test's own transaction hides its rows from them: tests read the primary, and the
    tests about replicas (tests/real_services/test_read_replica.py) turn theirs on."""
    settings.DATABASE_REPLICAS = []


@pytest.fixture(autouse=True)
def default_language():
    """Each test starts in the project's language: a test client request in another language
    leaves that language active in the thread (LocaleMiddleware never resets it), and a service
    called afterwards would answer in it."""
    translation.deactivate()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, and at the end of the run no session left on it: a
    live server thread still holding a browser's keep-alive connection, or a worker process
    that outlived its test, would otherwise stop PostgreSQL from dropping it."""
    yield
    with django_db_blocker.unblock():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )


@pytest.fixture(autouse=True)
def broker_presumed_up():
    """Each test starts with the broker presumed reachable: a test that cut it leaves
    `integrations.queueing` skipping publishes for a few seconds, which the next test must not
    inherit."""
    from integrations import queueing

    queueing._broker_down_until = 0.0
    yield
    queueing._broker_down_until = 0.0


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    """Uploads and export files go to the test's own folder, not to var/media: a module whose
    tests write files asks for it with `pytest.mark.usefixtures("media_in_tmp")`."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def allow_loopback(settings):
    """Outbound requests may reach 127.0.0.1, where the tests' receivers and sources listen
    (the address guard refuses loopback everywhere else)."""
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"


@pytest.fixture
def quick_connector_retries(monkeypatch):
    """The REST connector's pauses between retries, 1 + 2 + 4 s in production, as hundredths
    of a second: a test of a source that never answers waits for the answer, not the clock."""
    from integrations.connectors import rest_json

    monkeypatch.setattr(rest_json, "RETRY_PAUSE_SECONDS", 0.01)


@pytest.fixture(scope="session")
def collected_static(tmp_path_factory) -> Path:
    """A STATIC_ROOT as `manage.py collectstatic` leaves it with DEBUG off (names with a hash of
    their content, the manifest, gzip copies), for the servers tests start in production mode:
    with DEBUG off a page's stylesheet link needs the manifest. Collected once per test run
    (about 3 s); pass it to the server as STATIC_ROOT."""
    folder = tmp_path_factory.mktemp("static")
    inherited = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env = {
        **inherited,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(50),
        "CRM_VAR_DIR": str(tmp_path_factory.mktemp("collect-var")),
        "STATIC_ROOT": str(folder),
    }
    collected = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert collected.returncode == 0, collected.stderr
    return folder
