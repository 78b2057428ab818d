"""Content negotiation: the common requests take a short cut to the JSON renderer; every other
Accept header or ?format= still goes through DRF's negotiation, with the same outcome."""

import pytest

from tests.api.support import V1
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("accept", "query", "content_type"),
    [
        (None, "", "application/json"),
        ("*/*", "", "application/json"),
        ("application/json", "", "application/json"),
        ("*/*", "?format=xml", "application/xml; charset=utf-8"),
        (None, "?format=csv", "text/csv; charset=utf-8"),
        ("text/csv", "", "text/csv; charset=utf-8"),
        ("application/xml", "", "application/xml; charset=utf-8"),
        ("application/json; indent=2", "", "application/json"),
        ("text/html", "", "text/html; charset=utf-8"),
    ],
)
def test_each_accept_header_gets_the_renderer_drf_picks(api, accept, query, content_type):
    ContactFactory()
    headers = {} if accept is None else {"HTTP_ACCEPT": accept}

    response = api.get(f"{V1}/contacts/{query}", **headers)

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == content_type


@pytest.mark.parametrize(
    ("accept", "query"), [("image/png", ""), ("application/json", "?format=csv")]
)
def test_an_accept_header_the_chosen_renderers_cannot_meet_is_refused(api, accept, query):
    response = api.get(f"{V1}/contacts/{query}", HTTP_ACCEPT=accept)

    assert response.status_code == 406
