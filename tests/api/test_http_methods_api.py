"""OPTIONS and HEAD on every REST route, custom actions included, answer like GET does for
the route: never a server error (DRF's OPTIONS once asked by-external-id for a pk it lacks)."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from customers.models import Contact
from tests.api.support import V1, non_raising
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

# A value for each named group of the API's routes; unknown groups fail the test loudly.
_GROUP_VALUES = {"pk": "{pk}", "external_id": "ext-1", "job_id": "1", "delivery_id": "1"}
_GROUP = re.compile(r"\(\?P<(\w+)>[^)]*\)")


def _api_routes() -> list[str]:
    """Every /api/ path the URL conf serves (format-suffix variants aside)."""
    routes = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            regex = prefix + str(pattern.pattern.regex.pattern).lstrip("^").rstrip("$")
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, regex)
            elif isinstance(pattern, URLPattern) and regex.startswith("api/"):
                if "format" in pattern.pattern.regex.groupindex:
                    continue
                path = _GROUP.sub(lambda match: _GROUP_VALUES[match.group(1)], regex)
                routes.append("/" + path.replace("\\.", ".").replace("\\Z", ""))

    walk(get_resolver().url_patterns, "")
    return sorted(set(routes))


ROUTES = _api_routes()


def test_the_route_list_covers_the_custom_actions():
    assert f"{V1}/contacts/by-external-id/ext-1/" in ROUTES
    assert f"{V1}/contacts/batch/" in ROUTES


@pytest.fixture
def contact():
    return ContactFactory(external_id="ext-1")


@pytest.fixture
def client(api, contact):
    return non_raising(api)


@pytest.mark.parametrize("route", ROUTES)
def test_options_on_every_route_is_answered_without_a_server_error(client, contact, route):
    path = route.format(pk=contact.pk)

    response = client.options(path)

    assert response.status_code < 500, (path, response.content[:300])


@pytest.mark.parametrize("route", ROUTES)
def test_head_on_every_route_is_answered_without_a_server_error_or_a_write(client, contact, route):
    path = route.format(pk=contact.pk)

    response = client.head(path)

    assert response.status_code < 500, (path, response.content[:300])
    assert Contact.objects.count() == 1


def test_options_on_by_external_id_describes_put(client):
    response = client.options(f"{V1}/contacts/by-external-id/ext-1/")

    assert response.status_code == 200
    assert "PUT" in response.json()["actions"]


def test_options_on_an_unknown_external_id_still_answers(client):
    response = client.options(f"{V1}/contacts/by-external-id/nobody/")

    assert response.status_code == 200


def test_head_by_external_id_reads_and_never_upserts(client):
    found = client.head(f"{V1}/contacts/by-external-id/ext-1/")
    missing = client.head(f"{V1}/contacts/by-external-id/nobody/")

    assert found.status_code == 200 and found["ETag"]
    assert missing.status_code == 404
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["ext-1"]
