"""The `soap` connector pulls from a real SOAP service over HTTP: this CRM's own SOAP API,
served by a live server, with WS-Security, paging by offset and limit, and a cursor."""

import pytest

from customers.actors import SYSTEM
from customers.models import Contact
from customers.services import contacts
from integrations.connectors import ConnectorError
from integrations.connectors.soap import SoapConnector
from integrations.scopes import ALL_SCOPES
from integrations.services import sync
from integrations.services.api_keys import api_key_create
from tests.factories import ContactFactory
from tests.integrations.recording_server import recording_server

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

    contacts.contact_update(actor=SYSTEM, contact=people[2], data={"title": "经理"})
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


# Outbound checks: the WSDL, what it imports and every redirect go through the same checks as
# the other connectors.

WSDL_IMPORTING = """<?xml version="1.0"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/"
             xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:t">
  <types>
    <xsd:schema targetNamespace="urn:t">
      <xsd:import namespace="urn:x" schemaLocation="{location}"/>
    </xsd:schema>
  </types>
</definitions>
"""


@pytest.fixture
def wsdl_host(settings):
    """A real server on 127.0.0.1 (the only allowed address) that serves or redirects WSDLs."""
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.1/32"
    with recording_server("127.0.0.1") as server:
        yield server


def soap_config(wsdl: str) -> dict:
    return {"wsdl": wsdl, "operation": "SearchContacts"}


@pytest.mark.parametrize("target", ["http://0.0.0.0:{port}/secret", "http://127.0.0.2:{port}/"])
def test_a_wsdl_url_that_redirects_to_a_refused_address_is_not_followed(wsdl_host, target):
    wsdl_host.redirect("/service.wsdl", target.format(port=wsdl_host.port))

    with pytest.raises(ConnectorError, match="OUTBOUND_ALLOWED_NETWORKS"):
        list(SoapConnector(soap_config(f"{wsdl_host.url}/service.wsdl")).fetch(None))
    assert wsdl_host.paths() == ["/service.wsdl"]  # /secret was never asked for


def test_a_schema_the_wsdl_imports_from_a_local_file_is_not_read(wsdl_host):
    body = WSDL_IMPORTING.format(location="file:///etc/hostname").encode()
    wsdl_host.serve("/service.wsdl", body, "text/xml")

    with pytest.raises(ConnectorError, match="Only http and https"):
        list(SoapConnector(soap_config(f"{wsdl_host.url}/service.wsdl")).fetch(None))


def test_a_schema_the_wsdl_imports_from_a_private_address_is_refused(wsdl_host):
    body = WSDL_IMPORTING.format(location="http://10.0.0.1/types.xsd").encode()
    wsdl_host.serve("/service.wsdl", body, "text/xml")

    with pytest.raises(ConnectorError, match="10.0.0.1"):
        list(SoapConnector(soap_config(f"{wsdl_host.url}/service.wsdl")).fetch(None))


def test_a_wsdl_with_a_dtd_is_refused(wsdl_host):
    body = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><definitions>&e;</definitions>'
    wsdl_host.serve("/service.wsdl", body, "text/xml")

    with pytest.raises(ConnectorError, match="WSDL"):
        list(SoapConnector(soap_config(f"{wsdl_host.url}/service.wsdl")).fetch(None))
