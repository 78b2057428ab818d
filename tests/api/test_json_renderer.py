"""The orjson renderer writes the bytes DRF's JSON renderer writes, faster."""

import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.utils.translation import gettext_lazy
from rest_framework import renderers
from rest_framework.exceptions import ErrorDetail

from customers.api.json_renderer import JSONRenderer

SHANGHAI = ZoneInfo("Asia/Shanghai")

PAYLOADS = {
    "a page of records": {
        "next": "http://127.0.0.1/api/v1/contacts/?cursor=cD0y",
        "previous": None,
        "results": [
            {
                "id": 1,
                "first_name": "伟",
                "tags": ["vip", "客户"],
                "custom_fields": {"score": 9, "ratio": 0.25, "ok": True, "gone": None},
            }
        ],
    },
    "times in and out of UTC": {
        "utc": datetime(2026, 11, 26, 5, 0, 0, 123456, tzinfo=UTC),
        "shanghai": datetime(2026, 11, 26, 13, 0, tzinfo=SHANGHAI),
        "naive": datetime(2026, 11, 26, 5, 0),
        "day": date(2026, 11, 26),
        "clock": time(9, 30, 5),
    },
    "decimals, ids and lazy text": {
        "amount": Decimal("12500.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "label": gettext_lazy("owner"),
    },
    "an error": {"email": [ErrorDetail("Enter a valid email address.", code="invalid")]},
    "quotes, escapes and controls": {"text": 'say "hi"\\ \n\t\x01 </script> 😀'},
    "line separators": {"text": "a\u2028b\u2029c — d"},
    "integers beyond 64 bits": {"big": 2**70, "negative": -(2**64)},
    "keys that are not text": {1: "one", None: "none", 2.5: "half"},
    "a bare list": [1, "two", [3.5, None]],
    "tuples and sets": {"pair": (1, 2), "set": {3}},
}


@pytest.mark.parametrize("name", list(PAYLOADS))
def test_the_bytes_are_drfs(name):
    data = PAYLOADS[name]

    assert JSONRenderer().render(data) == renderers.JSONRenderer().render(data)


def test_an_indented_answer_is_drfs():
    data = PAYLOADS["a page of records"]
    media_type = "application/json; indent=4"

    ours = JSONRenderer().render(data, media_type, {})

    assert ours == renderers.JSONRenderer().render(data, media_type, {})
    assert b'\n    "next"' in ours


def test_line_separators_are_escaped_for_javascript():
    assert JSONRenderer().render({"text": "a\u2028b\u2029"}) == b'{"text":"a\\u2028b\\u2029"}'


def test_no_data_is_an_empty_body():
    assert JSONRenderer().render(None) == b""


def test_a_float_json_cannot_carry_is_null_instead_of_a_server_error():
    with pytest.raises(ValueError):
        renderers.JSONRenderer().render({"x": float("nan")})

    assert JSONRenderer().render({"x": float("nan"), "y": float("inf")}) == b'{"x":null,"y":null}'


def test_the_api_answers_with_it(api):
    response = api.get("/api/v1/contacts/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, JSONRenderer)
