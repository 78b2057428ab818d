"""Who may call what: API keys and their scopes, the user's model permissions, rate limits."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from customers.models import Contact
from integrations.models import ApiKey
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create, api_key_revoke
from tests.api.support import V1, assert_uniform_error
from tests.factories import ActivityFactory, ContactFactory, DealFactory, UserFactory

pytestmark = pytest.mark.django_db

RESOURCES = ["contacts", "companies", "deals", "activities", "pipelines", "tags", "users"]


def bearer(raw_key: str) -> APIClient:
    return APIClient(HTTP_AUTHORIZATION=f"Bearer {raw_key}")


# Authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_anonymous_requests_get_401_with_a_bearer_challenge(db, resource):
    response = APIClient().get(f"{V1}/{resource}/")

    assert assert_uniform_error(response, 401)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_anonymous_writes_get_401_and_write_nothing(db):
    response = APIClient().post(f"{V1}/contacts/", {"first_name": "A"}, format="json")

    assert_uniform_error(response, 401)
    assert not Contact.objects.exists()


def test_a_revoked_key_gets_401(sales_user):
    api_key, raw_key = api_key_create(user=sales_user, name="old", scopes=ALL_SCOPES)
    api_key_revoke(api_key=api_key, revoked_by=api_key.user)

    response = bearer(raw_key).get(f"{V1}/contacts/")

    assert "revoked" in assert_uniform_error(response, 401)["message"]


def test_an_expired_key_gets_401(sales_user):
    expires_at = timezone.now() + datetime.timedelta(hours=1)
    api_key, raw_key = api_key_create(
        user=sales_user, name="short", scopes=ALL_SCOPES, expires_at=expires_at
    )
    ApiKey.objects.filter(pk=api_key.pk).update(expires_at=timezone.now() - datetime.timedelta(1))

    response = bearer(raw_key).get(f"{V1}/contacts/")

    assert "expired" in assert_uniform_error(response, 401)["message"]


@pytest.mark.parametrize(
    "header",
    [
        "Bearer crm_abcdefgh_" + "x" * 43,  # well formed, unknown
        "Bearer not-a-key",
        "Bearer two parts",
    ],
)
def test_unknown_or_malformed_keys_get_401(db, header):
    response = APIClient(HTTP_AUTHORIZATION=header).get(f"{V1}/contacts/")

    assert_uniform_error(response, 401)


def test_a_key_of_a_deactivated_user_gets_401(sales_user):
    _, raw_key = api_key_create(user=sales_user, name="k", scopes=ALL_SCOPES)
    sales_user.is_active = False
    sales_user.save()

    assert_uniform_error(bearer(raw_key).get(f"{V1}/contacts/"), 401)


# Scopes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("resource", RESOURCES)
def test_a_key_lacking_the_read_scope_gets_403_naming_the_scope(
    make_api_client, sales_user, resource
):
    others = [scope for scope in ALL_SCOPES if scope != f"{resource}:read"]
    client = make_api_client(sales_user, others)

    response = client.get(f"{V1}/{resource}/")

    body = assert_uniform_error(response, 403)
    assert f"'{resource}:read'" in body["message"]


def test_a_read_only_key_cannot_create_and_nothing_is_written(make_api_client, sales_user):
    client = make_api_client(sales_user, ["contacts:read"])

    response = client.post(f"{V1}/contacts/", {"first_name": "A"}, format="json")

    assert "'contacts:write'" in assert_uniform_error(response, 403)["message"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [("put", "{pk}/"), ("patch", "{pk}/"), ("put", "by-external-id/e-1/"), ("post", "batch/")],
)
def test_a_read_only_key_cannot_change_anything(make_api_client, sales_user, method, path):
    contact = ContactFactory(first_name="Kept", external_id="e-1")
    client = make_api_client(sales_user, ["contacts:read"])

    response = getattr(client, method)(
        f"{V1}/contacts/{path.format(pk=contact.pk)}",
        [{"first_name": "Changed"}] if method == "post" else {"first_name": "Changed"},
        format="json",
    )

    assert_uniform_error(response, 403)
    contact.refresh_from_db()
    assert contact.first_name == "Kept"
    assert Contact.objects.count() == 1


def test_a_write_scope_does_not_imply_read(make_api_client, sales_user):
    client = make_api_client(sales_user, ["contacts:write"])

    assert_uniform_error(client.get(f"{V1}/contacts/"), 403)


@pytest.mark.parametrize("parent", ["contacts", "deals"])
def test_nested_activities_need_the_activities_read_scope(make_api_client, sales_user, parent):
    contact = ContactFactory()
    deal = DealFactory(primary_contact=contact)
    ActivityFactory(contact=contact, deal=deal, subject="Confidential call")
    client = make_api_client(sales_user, ["contacts:read", "deals:read"])
    parent_id = contact.pk if parent == "contacts" else deal.pk

    response = client.get(f"{V1}/{parent}/{parent_id}/activities/")

    assert b"Confidential call" not in response.content
    assert "'activities:read'" in assert_uniform_error(response, 403)["message"]


# Model permissions -------------------------------------------------------------------------


def test_a_user_lacking_the_model_permission_gets_403_even_with_every_scope(make_api_client):
    client = make_api_client(UserFactory(), ALL_SCOPES)

    response = client.get(f"{V1}/contacts/")

    assert "'customers.view_contact'" in assert_uniform_error(response, 403)["message"]


def test_a_sales_user_cannot_delete_even_with_the_write_scope(api):
    contact = ContactFactory()

    response = api.delete(f"{V1}/contacts/{contact.pk}/")

    assert "'customers.delete_contact'" in assert_uniform_error(response, 403)["message"]
    assert Contact.objects.filter(pk=contact.pk).exists()


def test_nested_activities_need_the_view_activity_permission(make_api_client):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename="view_contact"))
    contact = ContactFactory()
    ActivityFactory(contact=contact, subject="Confidential call")
    client = make_api_client(user, ALL_SCOPES)

    response = client.get(f"{V1}/contacts/{contact.pk}/activities/")

    assert "view_activity" in assert_uniform_error(response, 403)["message"]


# Rate limits -------------------------------------------------------------------------------


@pytest.fixture
def three_per_minute(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"api_key": "3/min"},
    }


def test_the_fourth_request_in_a_minute_gets_429_with_retry_after(api, three_per_minute):
    allowed = [api.get(f"{V1}/tags/") for _ in range(3)]

    refused = api.get(f"{V1}/tags/")

    assert [response.status_code for response in allowed] == [200, 200, 200]
    body = assert_uniform_error(refused, 429)
    assert body["code"] == "throttled"
    assert 0 < int(refused["Retry-After"]) <= 60
    assert body["retry_after"] == refused["Retry-After"]


def test_a_throttled_write_writes_nothing(api, three_per_minute):
    for _ in range(3):
        api.get(f"{V1}/tags/")

    response = api.post(f"{V1}/contacts/", {"first_name": "A"}, format="json")

    assert_uniform_error(response, 429)
    assert not Contact.objects.exists()


def test_each_key_has_its_own_budget_even_for_the_same_user(
    make_api_client, sales_user, three_per_minute
):
    first = make_api_client(sales_user, ["tags:read"])
    second = make_api_client(sales_user, ["tags:read"])
    for _ in range(3):
        first.get(f"{V1}/tags/")

    assert first.get(f"{V1}/tags/").status_code == 429
    assert second.get(f"{V1}/tags/").status_code == 200
