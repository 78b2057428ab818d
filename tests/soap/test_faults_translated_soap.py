"""SOAP's own refusals reach a caller who reads Simplified Chinese in Chinese (the envelope's
Accept-Language, as for REST), under the same Fault code; English stays the default.

Posted through Django's test client: the WS-Security refusals need no live server."""

import pytest
from django.test import Client

from integrations.services.api_keys import api_key_create
from tests.factories import SalesUserFactory
from tests.soap.support import WSSE, envelope, raw_fault

pytestmark = pytest.mark.django_db


def post_soap(body: str, language: str):
    return Client().post(
        "/soap/", body, content_type="text/xml; charset=utf-8", HTTP_ACCEPT_LANGUAGE=language
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "zh-hans",
            "需要身份验证：请发送 WS-Security UsernameToken（username = 您的用户名，"
            "password = 您的 API 密钥）。",
        ),
        (
            "en",
            "Authentication required: send a WS-Security UsernameToken (username = your user, "
            "password = your API key).",
        ),
    ],
    ids=["zh-hans", "en"],
)
def test_an_envelope_without_ws_security_is_a_fault_in_the_callers_language(language, expected):
    response = post_soap(envelope("GetContact", "<crm:id>1</crm:id>"), language)

    assert raw_fault(response) == ("Client.Authentication", expected)


def test_a_token_for_another_user_is_refused_in_chinese_with_the_same_fault_code():
    _, raw_key = api_key_create(user=SalesUserFactory(), name="k", scopes=["contacts:read"])
    security = (
        f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
        f"<wsse:Username>someone-else</wsse:Username><wsse:Password>{raw_key}</wsse:Password>"
        "</wsse:UsernameToken></wsse:Security>"
    )

    response = post_soap(envelope("SearchContacts", header=security), "zh-hans")

    assert raw_fault(response) == ("Client.Authentication", "API 密钥无效。")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "SOAP 请求不得超过 100 字节。"),
        ("en", "SOAP requests are limited to 100 bytes."),
    ],
    ids=["zh-hans", "en"],
)
def test_an_envelope_over_the_size_limit_is_a_fault_in_the_callers_language(
    settings, language, expected
):
    settings.API_MAX_REQUEST_BYTES = 100

    response = post_soap(envelope("GetContact", "<crm:id>1</crm:id>"), language)

    assert raw_fault(response) == ("Client.RequestTooLarge", expected)
