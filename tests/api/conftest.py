import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.factories import SalesUserFactory


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()


def client_with_key(user, scopes) -> APIClient:
    _, raw_key = api_key_create(user=user, name="test", scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def sales_user(db):
    return SalesUserFactory()


@pytest.fixture
def api(sales_user) -> APIClient:
    """A partner key with every scope, PII included, for a sales user."""
    return client_with_key(sales_user, ALL_SCOPES)


@pytest.fixture
def api_without_pii(sales_user) -> APIClient:
    return client_with_key(sales_user, [scope for scope in ALL_SCOPES if scope != "pii:read"])


@pytest.fixture
def make_api_client():
    return client_with_key
