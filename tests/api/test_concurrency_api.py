"""ETags and conditional requests: optimistic concurrency for single records."""

import pytest

from customers.models import Contact
from tests.api.support import V1, assert_uniform_error, send, snapshot
from tests.factories import ContactFactory, ManagerFactory

pytestmark = pytest.mark.django_db

STALE = '"0123456789abcdef0123456789abcdef"'


@pytest.fixture
def contact():
    return ContactFactory(first_name="Lin", notes="n")


@pytest.fixture
def manager_api(make_api_client):
    return make_api_client(ManagerFactory(), ["contacts:read", "contacts:write"])


def url_of(contact: Contact) -> str:
    return f"{V1}/contacts/{contact.pk}/"


# Every single-record response names its version -------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_every_single_record_response_has_an_etag(api, contact, fmt):
    reads = [
        api.get(f"{url_of(contact)}?format={fmt}"),
        api.head(url_of(contact)),
    ]
    writes = [
        send(api, "post", f"{V1}/contacts/", fmt, {"first_name": "New"}),
        send(api, "put", url_of(contact), fmt, {"title": "A"}),
        send(api, "patch", url_of(contact), fmt, {"title": "B"}),
        send(api, "put", f"{V1}/contacts/by-external-id/x-{fmt}/", fmt, {"first_name": "X"}),
        api.get(f"{V1}/contacts/by-external-id/x-{fmt}/?format={fmt}"),
    ]

    for response in reads + writes:
        assert response.status_code in (200, 201), response.content
        assert response["ETag"].startswith('"') and response["ETag"].endswith('"')


def test_the_etag_is_the_same_in_every_format_and_changes_on_every_write(api, contact):
    etags = {api.get(f"{url_of(contact)}?format={fmt}")["ETag"] for fmt in ("json", "xml", "csv")}

    written = api.patch(url_of(contact), {"title": "New title"}, format="json")

    assert len(etags) == 1
    assert written["ETag"] not in etags
    assert api.get(url_of(contact))["ETag"] == written["ETag"]


# If-Match ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_stale_if_match_gets_412_and_writes_nothing(api, contact, method, fmt):
    before = snapshot(contact)
    updated_at = Contact.objects.get(pk=contact.pk).updated_at

    response = send(api, method, url_of(contact), fmt, {"first_name": "Lost"}, HTTP_IF_MATCH=STALE)

    assert assert_uniform_error(response, 412)["code"] == "precondition_failed"
    assert snapshot(contact) == before
    assert Contact.objects.get(pk=contact.pk).updated_at == updated_at


@pytest.mark.parametrize("method", ["put", "patch"])
def test_current_if_match_lets_the_write_through(api, contact, method):
    etag = api.get(url_of(contact))["ETag"]

    response = getattr(api, method)(
        url_of(contact), {"first_name": "Won"}, format="json", HTTP_IF_MATCH=etag
    )

    assert response.status_code == 200
    contact.refresh_from_db()
    assert contact.first_name == "Won"


def test_weak_and_listed_etags_and_the_wildcard_match_too(api, contact):
    etag = api.get(url_of(contact))["ETag"]

    weak = api.patch(url_of(contact), {"title": "1"}, format="json", HTTP_IF_MATCH=f"W/{etag}")
    listed = api.patch(
        url_of(contact), {"title": "2"}, format="json", HTTP_IF_MATCH=f"{STALE}, {weak['ETag']}"
    )
    wildcard = api.patch(url_of(contact), {"title": "3"}, format="json", HTTP_IF_MATCH="*")

    assert (weak.status_code, listed.status_code, wildcard.status_code) == (200, 200, 200)
    contact.refresh_from_db()
    assert contact.title == "3"


def test_the_second_of_two_writers_holding_the_same_etag_gets_412(api, api_without_pii, contact):
    etag = api.get(url_of(contact))["ETag"]

    first = api.patch(url_of(contact), {"title": "First"}, format="json", HTTP_IF_MATCH=etag)
    second = api_without_pii.patch(
        url_of(contact), {"title": "Second"}, format="json", HTTP_IF_MATCH=etag
    )

    assert (first.status_code, second.status_code) == (200, 412)
    contact.refresh_from_db()
    assert contact.title == "First"


def test_stale_if_match_on_delete_gets_412_and_keeps_the_record(manager_api, contact):
    response = manager_api.delete(url_of(contact), HTTP_IF_MATCH=STALE)

    assert_uniform_error(response, 412)
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_current_if_match_on_delete_removes_the_record(manager_api, contact):
    etag = manager_api.get(url_of(contact))["ETag"]

    response = manager_api.delete(url_of(contact), HTTP_IF_MATCH=etag)

    assert response.status_code == 204
    assert not Contact.objects.filter(pk=contact.pk).exists()


def test_stale_if_match_on_upsert_of_an_existing_record_gets_412(api):
    ContactFactory(external_id="ext-1", first_name="Kept")

    response = api.put(
        f"{V1}/contacts/by-external-id/ext-1/",
        {"first_name": "Lost"},
        format="json",
        HTTP_IF_MATCH=STALE,
    )

    assert_uniform_error(response, 412)
    assert Contact.objects.get(external_id="ext-1").first_name == "Kept"


def test_an_invalid_body_with_a_current_if_match_writes_nothing(api, contact):
    before = snapshot(contact)
    etag = api.get(url_of(contact))["ETag"]

    response = api.put(url_of(contact), {"email": "nope"}, format="json", HTTP_IF_MATCH=etag)

    assert_uniform_error(response, 400)
    assert snapshot(contact) == before
    assert api.get(url_of(contact))["ETag"] == etag


def test_if_match_on_upsert_of_a_missing_record_gets_412_and_creates_nothing(api):
    response = api.put(
        f"{V1}/contacts/by-external-id/gone-1/",
        {"first_name": "Ghost"},
        format="json",
        HTTP_IF_MATCH=STALE,
    )

    assert_uniform_error(response, 412)
    assert not Contact.objects.exists()


# If-None-Match -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_if_none_match_with_the_current_etag_gets_304_without_a_body(api, contact, fmt):
    etag = api.get(url_of(contact))["ETag"]

    response = api.get(f"{url_of(contact)}?format={fmt}", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert response.content == b""
    assert response["ETag"] == etag


def test_if_none_match_with_an_old_etag_gets_the_new_record(api, contact):
    old = api.get(url_of(contact))["ETag"]
    api.patch(url_of(contact), {"title": "Changed"}, format="json")

    response = api.get(url_of(contact), HTTP_IF_NONE_MATCH=old)

    assert response.status_code == 200
    assert response.json()["title"] == "Changed"


def test_if_none_match_on_get_by_external_id_gets_304(api):
    ContactFactory(external_id="ext-304")
    etag = api.get(f"{V1}/contacts/by-external-id/ext-304/")["ETag"]

    response = api.get(f"{V1}/contacts/by-external-id/ext-304/", HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
