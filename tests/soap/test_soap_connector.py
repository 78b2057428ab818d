"""The `soap` connector pulls from a real SOAP service over HTTP: this CRM's own SOAP API,
served by a live server, with WS-Security, paging by offset and limit, and a cursor."""

import pytest

from customers.models import Contact
from customers.services import contacts
from integrations.connectors import ConnectorError
from integrations.connectors.soap import SoapConnector
from integrations.scopes import ALL_SCOPES
from integrations.services import sync
from integrations.services.api_keys import api_key_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def config(soap_url, sales_user, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    _, raw_key = api_key_create(user=sales_user, name="puller", scopes=list(ALL_SCOPES))
    return {
        "wsdl": f"{soap_url}?wsdl",
        "operation": "SearchContacts",
        "since_argument": "updated_since",
        "records_path": "items",
        "cursor_field": "updated_at",
        "offset_argument": "offset",
        "limit_argument": "limit",
        "page_size": 2,
        "username": sales_user.get_username(),
        "password": raw_key,
    }


def make_people():
    return [
        ContactFactory(first_name=name, last_name="张", external_id=f"S-{n}")
        for n, name in enumerate(["伟", "娜", "芳", "敏", "静"])
    ]


def test_the_soap_connector_pages_through_every_record_and_keeps_the_newest_cursor(config):
    people = make_people()

    fetch = SoapConnector(config).fetch(None)
    records = list(fetch)

    assert sorted(r.values["external_id"] for r in records) == [f"S-{n}" for n in range(5)]
    by_id = {r.values["external_id"]: r.values for r in records}
    assert by_id["S-1"]["first_name"] == "娜"
    assert fetch.cursor == max(r.values["updated_at"] for r in records)
    assert len(people) == 5


def test_the_next_fetch_asks_only_for_what_changed_since_the_cursor(config):
    people = make_people()
    fetch = SoapConnector(config).fetch(None)
    list(fetch)

    contacts.contact_update(contact=people[2], data={"title": "经理"})
    changed = list(SoapConnector(config).fetch(fetch.cursor))

    # updated_since is inclusive: the newest record of the last run comes again, unchanged.
    titles = {r.values["external_id"]: r.values["title"] for r in changed}
    assert titles["S-2"] == "经理"
    assert len(changed) <= 2


def test_wrong_credentials_fail_the_fetch_with_the_fault(config):
    config["password"] = "crm_wrong"

    with pytest.raises(ConnectorError, match="SOAP Fault"):
        list(SoapConnector(config).fetch(None))


def test_a_sync_from_the_soap_api_upserts_without_duplicates(config):
    make_people()
    ignored = ["id", "full_name", "company_id", "company_name", "owner_id", "owner_username"]
    ignored += ["tags", "custom_fields", "consent_updated_at", "created_at", "updated_at"]
    connection = sync.connection_create(
        name="Own SOAP",
        connector="soap",
        config=config,
        resource="contacts",
        mode="upsert",
        match_key="external_id",
        mapping=dict.fromkeys(ignored),
    )

    run = sync.sync_run(connection.pk)

    assert (run.status, run.fetched, run.created) == ("succeeded", 5, 0), run.error_message
    assert Contact.objects.count() == 5
