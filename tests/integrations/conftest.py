"""Fixtures shared by the integrations app's tests (the REST door of jobs and the PII at rest
they keep): a salesperson and an API client holding a key of every scope for them."""

import pytest

from tests.factories import SalesUserFactory
from tests.integrations.support import client_for


@pytest.fixture
def user(db):
    return SalesUserFactory()


@pytest.fixture
def api(user):
    return client_for(user)
