"""WS-Security UsernameToken: username = the key's user, password = the API key. Same scopes,
permissions and PII rules as REST; every refusal is a Client fault."""

import pytest
import requests
from zeep.wsse.username import UsernameToken

from customers.models import Contact
from integrations.services.api_keys import api_key_create, api_key_revoke
from tests.factories import ContactFactory
from tests.soap.support import envelope, post_envelope, raises_fault, raw_fault


def test_no_credentials_is_a_client_authentication_fault(anonymous_soap):
    contact = ContactFactory()
    with raises_fault("Client.Authentication") as fault:
        anonymous_soap.service.GetContact(contact.pk)
    assert "UsernameToken" in fault.value.message


def test_an_empty_security_header_is_refused_the_same_way(soap_url):
    body = envelope(
        "GetContact",
        "<crm:id>1</crm:id>",
        header="<wsse:Security xmlns:wsse="
        '"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"/>',
    )
    assert raw_fault(post_envelope(soap_url, body))[0] == "Client.Authentication"


@pytest.mark.parametrize("password", ["crm_wrongpre_" + "x" * 43, "not-a-key", ""])
def test_a_wrong_key_is_refused(make_soap_client, sales_user, password):
    client = make_soap_client(sales_user, password=password)
    with raises_fault("Client.Authentication"):
        client.service.SearchContacts()


def test_the_username_must_be_the_keys_user(make_soap_client, sales_user):
    _, raw_key = api_key_create(user=sales_user, name="k", scopes=["contacts:read"])
    client = make_soap_client(wsse=UsernameToken("someone-else", raw_key))
    with raises_fault("Client.Authentication"):
        client.service.SearchContacts()


def test_a_revoked_key_is_refused(make_soap_client, sales_user):
    api_key, raw_key = api_key_create(user=sales_user, name="k", scopes=["contacts:read"])
    api_key_revoke(api_key=api_key, revoked_by=api_key.user)
    client = make_soap_client(wsse=UsernameToken(sales_user.username, raw_key))
    with raises_fault("Client.Authentication") as fault:
        client.service.SearchContacts()
    assert "revoked" in fault.value.message


def test_password_digest_is_refused_with_a_reason(make_soap_client, sales_user):
    _, raw_key = api_key_create(user=sales_user, name="k", scopes=["contacts:read"])
    token = UsernameToken(sales_user.username, raw_key, use_digest=True)
    client = make_soap_client(wsse=token)
    with raises_fault("Client.Authentication") as fault:
        client.service.SearchContacts()
    assert "PasswordText" in fault.value.message


def test_a_key_without_the_scope_is_refused_and_writes_nothing(make_soap_client, sales_user):
    client = make_soap_client(sales_user, ["contacts:read"])
    with raises_fault("Client.PermissionDenied") as fault:
        client.service.CreateContact({"first_name": "No"})
    assert "contacts:write" in fault.value.message
    assert not Contact.objects.filter(first_name="No").exists()


def test_a_read_scope_for_one_resource_does_not_open_another(make_soap_client, sales_user):
    client = make_soap_client(sales_user, ["contacts:read"])
    with raises_fault("Client.PermissionDenied"):
        client.service.SearchCompanies()


def test_pii_is_masked_without_pii_read(soap_without_pii):
    contact = ContactFactory(
        email="zhang.wei@example.com", phone="+86 138 0013 1234", address="北京市朝阳区"
    )
    got = soap_without_pii.service.GetContact(contact.pk)
    assert got.email == "z***@example.com"
    assert got.phone == "+86 *** **** 1234"
    assert got.address == "***"
    listed = soap_without_pii.service.SearchContacts().items[0]
    assert (listed.email, listed.address) == ("z***@example.com", "***")


def test_sending_back_masked_pii_leaves_it_unchanged(soap_without_pii):
    contact = ContactFactory(email="zhang.wei@example.com", address="北京市朝阳区")
    got = soap_without_pii.service.GetContact(contact.pk)
    got.title = "经理"
    soap_without_pii.service.UpdateContact(got)
    contact.refresh_from_db()
    assert (contact.email, contact.address, contact.title) == (
        "zhang.wei@example.com",
        "北京市朝阳区",
        "经理",
    )


def test_pii_is_plain_with_pii_read(soap):
    contact = ContactFactory(email="zhang.wei@example.com")
    assert soap.service.GetContact(contact.pk).email == "zhang.wei@example.com"


@pytest.fixture
def three_per_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"},
    }


def test_the_fourth_call_in_a_minute_is_throttled_and_writes_nothing(soap, three_per_minute):
    for _ in range(3):
        soap.service.SearchContacts()
    with raises_fault("Client.Throttled") as fault:
        soap.service.CreateContact({"first_name": "Late"})
    assert "retry in" in fault.value.message
    assert not Contact.objects.filter(first_name="Late").exists()


def test_a_key_has_one_budget_for_soap_and_rest(
    make_soap_client, sales_user, three_per_minute, live_server
):
    _, raw_key = api_key_create(user=sales_user, name="both", scopes=["contacts:read"])
    client = make_soap_client(wsse=UsernameToken(sales_user.username, raw_key))
    headers = {"Authorization": f"Bearer {raw_key}"}
    for _ in range(2):
        rest = requests.get(f"{live_server.url}/api/v1/contacts/", headers=headers, timeout=30)
        assert rest.status_code == 200
    client.service.SearchContacts()
    with raises_fault("Client.Throttled"):
        client.service.SearchContacts()
