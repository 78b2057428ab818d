"""Fixtures shared by the integrations app's tests (the REST door of jobs and the PII at rest
they keep): a salesperson and an API client holding a key of every scope for them; an S3 server
and a fresh bucket as the default storage (the shared-storage tests)."""

import pytest

from tests.factories import SalesUserFactory
from tests.integrations.support import client_for


@pytest.fixture
def user(db):
    return SalesUserFactory()


@pytest.fixture
def api(user):
    return client_for(user)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """One S3 server process for the session (each pytest-xdist worker starts its own)."""
    from tests.integrations.s3_server import running_s3_server

    with running_s3_server(tmp_path_factory.mktemp("s3") / "server.log") as server:
        yield server


@pytest.fixture
def s3_bucket(s3_server, settings, tmp_path):
    """A fresh bucket as the default storage for the test; MEDIA_ROOT moved to an empty folder
    of the test's own, so a test can tell that nothing went to the local disk instead."""
    bucket = s3_server.new_bucket()
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage(bucket)}
    settings.MEDIA_ROOT = tmp_path / "media"
    return bucket
