"""Helpers for the SOAP tests: fault codes without their prefix, raw envelopes, REST reads."""

from typing import Any

import pytest
import requests
import zeep.exceptions
from lxml import etree

from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"


def code_of(fault: zeep.exceptions.Fault) -> str:
    """'soap11env:Client.NotFound' -> 'Client.NotFound'."""
    return fault.code.rpartition(":")[2]


def raises_fault(code: str):
    """Context manager: the call must fail with a SOAP Fault whose code is `code`."""

    class _Check:
        def __enter__(self):
            self._raises = pytest.raises(zeep.exceptions.Fault)
            self.info = self._raises.__enter__()
            return self.info

        def __exit__(self, *exc):
            handled = self._raises.__exit__(*exc)
            assert code_of(self.info.value) == code, (self.info.value.code, self.info.value.message)
            return handled

    return _Check()


def field_errors(fault: zeep.exceptions.Fault) -> dict[str, list[str]]:
    """The <error field="…"> entries of a validation fault's detail."""
    errors: dict[str, list[str]] = {}
    for item in fault.detail.iter("{*}error"):
        errors.setdefault(item.get("field"), []).append(item.text)
    return errors


def envelope(operation: str, body: str = "", header: str = "") -> str:
    return (
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV}" xmlns:crm="urn:crm:soap:v1" '
        f'xmlns:t="urn:crm:soap:v1:types">'
        f"<soapenv:Header>{header}</soapenv:Header>"
        f"<soapenv:Body><crm:{operation}>{body}</crm:{operation}></soapenv:Body>"
        "</soapenv:Envelope>"
    )


def raw_fault(response: requests.Response) -> tuple[str, str]:
    """(faultcode without prefix, faultstring) of a raw response, which must be a Fault."""
    root = etree.fromstring(response.content)
    fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None, response.content
    return fault.findtext("faultcode").rpartition(":")[2], fault.findtext("faultstring")


def rest_get(base_url: str, user, path: str, scopes=ALL_SCOPES) -> dict[str, Any]:
    """GET through the REST door of the same live server, with the user's own API key."""
    _, raw_key = api_key_create(user=user, name="rest check", scopes=list(scopes))
    response = requests.get(
        f"{base_url}/api/v1{path}",
        headers={"Authorization": f"Bearer {raw_key}", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200, response.content
    return response.json()


def post_envelope(url: str, body: bytes | str, **headers) -> requests.Response:
    """A raw POST, for envelopes zeep would never send."""
    if isinstance(body, str):
        body = body.encode()
    return requests.post(
        url, data=body, headers={"Content-Type": "text/xml; charset=utf-8", **headers}, timeout=30
    )


WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def wsse_header(user, scopes=ALL_SCOPES) -> str:
    """A WS-Security UsernameToken header carrying a new key for `user`, for raw envelopes."""
    _, raw_key = api_key_create(user=user, name="raw", scopes=list(scopes))
    return (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>{user.get_username()}</wsse:Username>"
        f"<wsse:Password>{raw_key}</wsse:Password></wsse:UsernameToken></wsse:Security>"
    )
