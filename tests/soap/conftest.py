"""SOAP tests drive a real HTTP server (pytest-django's live_server) with zeep, as a partner
would: the WSDL is fetched over HTTP and every call is a real envelope."""

import pytest
import zeep
from django.core.cache import cache
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from customers import selectors
from customers.actors import SYSTEM
from customers.services import pipelines
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.factories import ManagerFactory, SalesUserFactory

WITHOUT_PII = [scope for scope in ALL_SCOPES if scope != "pii:read"]


@pytest.fixture(autouse=True)
def fresh_throttle_counts():
    cache.clear()


@pytest.fixture
def soap_url(live_server) -> str:
    return f"{live_server.url}/soap/"


@pytest.fixture
def make_soap_client(soap_url):
    """A zeep client whose WS-Security UsernameToken carries a new key for `user` (or the
    given `wsse` token; neither: no credentials)."""
    clients = []

    def make(user=None, scopes=ALL_SCOPES, *, password: str | None = None, wsse=None):
        token = wsse
        if user is not None:
            _, raw_key = api_key_create(user=user, name="soap test", scopes=list(scopes))
            token = UsernameToken(user.get_username(), raw_key if password is None else password)
        client = zeep.Client(f"{soap_url}?wsdl", wsse=token, transport=Transport(timeout=30))
        clients.append(client)
        return client

    yield make
    # A kept-alive connection keeps its live-server thread, and that thread's database
    # session, alive: PostgreSQL then cannot drop the test database.
    for client in clients:
        client.transport.session.close()


@pytest.fixture
def sales_user(transactional_db):
    return SalesUserFactory()


@pytest.fixture
def manager(transactional_db):
    return ManagerFactory()


@pytest.fixture
def soap(make_soap_client, sales_user) -> zeep.Client:
    """Every scope, PII included, for a sales user (who may not delete)."""
    return make_soap_client(sales_user)


@pytest.fixture
def soap_without_pii(make_soap_client, sales_user) -> zeep.Client:
    return make_soap_client(sales_user, WITHOUT_PII)


@pytest.fixture
def anonymous_soap(make_soap_client) -> zeep.Client:
    return make_soap_client()


@pytest.fixture
def default_pipeline(transactional_db):
    """Live-server tests flush the database, data migrations included: recreate it."""
    return selectors.default_pipeline() or pipelines.pipeline_create(
        actor=SYSTEM, name="Sales", is_default=True
    )
