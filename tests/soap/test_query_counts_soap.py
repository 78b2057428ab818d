"""Performance shape: a page of contacts costs the same number of queries whatever its size
(no query per contact for its company, owner, tags or custom fields)."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from customers.actors import SYSTEM
from customers.models import Contact
from customers.services import custom_fields
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.factories import CompanyFactory, ContactFactory, SalesUserFactory
from tests.soap.support import envelope

WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


@pytest.fixture
def call(db):
    user = SalesUserFactory()
    _, raw_key = api_key_create(user=user, name="q", scopes=list(ALL_SCOPES))
    header = (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{user.username}</wsse:Username>"
        f"<wsse:Password>{raw_key}</wsse:Password></wsse:UsernameToken></wsse:Security>"
    )
    client = Client()

    def post(operation: str, body: str = "") -> list[str]:
        """The SQL one call runs (after a warm-up call: caches are not the point)."""
        payload = envelope(operation, body, header=header)
        client.post("/soap/", payload, content_type="text/xml; charset=utf-8")
        with CaptureQueriesContext(connection) as queries:
            response = client.post("/soap/", payload, content_type="text/xml; charset=utf-8")
        assert response.status_code == 200, response.content
        sql = [query["sql"] for query in queries.captured_queries]
        return [query for query in sql if "SAVEPOINT" not in query]  # the call's transaction

    return post


@pytest.fixture(autouse=True)
def tier_field(db):
    return custom_fields.custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="tier",
        label="Tier",
        type="choice",
        choices=["gold", "silver"],
    )


def _contacts(count: int) -> None:
    company = CompanyFactory()
    for n in range(count):
        ContactFactory(company=company, tags=[f"t{n}", "vip"], custom_fields={"tier": "gold"})


def test_search_contacts_queries_do_not_grow_with_the_page(call):
    _contacts(2)
    few = call("SearchContacts", "<crm:limit>50</crm:limit>")
    _contacts(10)
    many = call("SearchContacts", "<crm:limit>50</crm:limit>")
    assert len(many) == len(few), many


def test_get_contact_is_a_handful_of_queries(call):
    _contacts(1)
    contact_id = Contact.objects.get().pk
    # key, user permissions (2), contact with company and owner, its tags, definitions
    queries = call("GetContact", f"<crm:id>{contact_id}</crm:id>")
    assert len(queries) <= 6, "\n".join(queries)
