"""The WSDL: served at /soap/?wsdl, loadable by zeep, every operation documented."""

import requests
from lxml import etree

WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
OPERATIONS = {
    "GetContact",
    "GetContactByExternalId",
    "SearchContacts",
    "CreateContact",
    "UpdateContact",
    "UpsertContact",
    "DeleteContact",
    "GetCompany",
    "GetCompanyByExternalId",
    "SearchCompanies",
    "CreateCompany",
    "UpdateCompany",
    "UpsertCompany",
    "DeleteCompany",
    "GetDeal",
    "SearchDeals",
}


def test_zeep_loads_the_wsdl_and_sees_every_operation(anonymous_soap):
    binding = next(iter(anonymous_soap.wsdl.bindings.values()))
    assert set(binding._operations) >= OPERATIONS


def test_every_operation_is_documented_in_the_wsdl(soap_url):
    wsdl = etree.fromstring(requests.get(f"{soap_url}?wsdl", timeout=30).content)
    documented = {
        operation.get("name")
        for operation in wsdl.iter(f"{{{WSDL_NS}}}operation")
        if (operation.findtext(f"{{{WSDL_NS}}}documentation") or "").strip()
    }
    assert documented >= OPERATIONS


def test_types_live_in_their_own_namespace_and_custom_fields_are_documented(soap_url):
    wsdl = etree.fromstring(requests.get(f"{soap_url}?wsdl", timeout=30).content)
    schemas = {s.get("targetNamespace"): s for s in wsdl.iter(f"{{{XSD_NS}}}schema")}
    types = schemas["urn:crm:soap:v1:types"]
    names = {t.get("name") for t in types.iter(f"{{{XSD_NS}}}complexType")}
    assert {"Contact", "Company", "Deal", "CustomFieldValue", "ContactPage"} <= names
    custom = next(
        t for t in types.iter(f"{{{XSD_NS}}}complexType") if t.get("name") == "CustomFieldValue"
    )
    doc = custom.findtext(f"{{{XSD_NS}}}annotation/{{{XSD_NS}}}documentation")
    assert "multi_choice" in doc and "masked" in doc


def test_the_wsdl_names_the_address_each_caller_used(live_server):
    port = live_server.url.rsplit(":", 1)[1]
    for host in ("localhost", "127.0.0.1", "localhost"):
        wsdl = etree.fromstring(
            requests.get(
                f"{live_server.url}/soap/?wsdl", headers={"Host": f"{host}:{port}"}, timeout=30
            ).content
        )
        addresses = {a.get("location") for a in wsdl.iter("{*}address")}
        assert addresses == {f"http://{host}:{port}/soap/"}


def test_each_host_gets_the_whole_wsdl_with_its_own_address(client, settings):
    """A deployment reached under two names (a proxy's and a node's own) describes every
    operation to both, each told to post to the address it used."""
    settings.ALLOWED_HOSTS = ["crm.example.com", "node1.internal"]

    documents = {
        host: etree.fromstring(client.get("/soap/?wsdl", HTTP_HOST=host).content)
        for host in ("crm.example.com", "node1.internal", "crm.example.com")
    }

    for host, wsdl in documents.items():
        port_types = {op.get("name") for op in wsdl.iter(f"{{{WSDL_NS}}}operation")}
        assert port_types >= OPERATIONS, host
        locations = {element.get("location") for element in wsdl.iter(f"{{{SOAP_NS}}}address")}
        assert locations == {f"http://{host}/soap/"}
