"""The partner API's door: Bearer API keys, scopes on top of model permissions, who sees PII
decrypted, and the per-key rate limit. Exercised through a probe view defined here."""

import base64

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.urls import path
from django.utils import timezone
from rest_framework import generics, status
from rest_framework.authentication import BasicAuthentication, SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from customers.models import Contact
from integrations.api_auth import (
    ApiKeyAuthentication,
    ApiKeyRateThrottle,
    ScopePermission,
    request_can_view_pii,
)
from integrations.models import ApiKey
from integrations.services import api_keys
from tests.factories import ManagerFactory, SalesUserFactory, UserFactory


class ContactProbe(generics.GenericAPIView):
    # Explicit classes: APIView reads DRF's defaults once, at import, so settings overrides in
    # a test would not reach them.
    authentication_classes = [ApiKeyAuthentication, SessionAuthentication]
    permission_classes = [ScopePermission]
    throttle_classes = [ApiKeyRateThrottle]
    scope_resource = "contacts"
    queryset = Contact.objects.all()

    def get(self, request):
        return Response({"user": request.user.username, "pii": request_can_view_pii(request)})

    def post(self, request):
        return Response({}, status=status.HTTP_201_CREATED)

    def delete(self, request):
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProbeWithoutResource(APIView):
    permission_classes = [ScopePermission]
    queryset = Contact.objects.all()

    def get(self, request):
        return Response({})


class OpenProbe(APIView):
    """Like the API schema: anyone may read it, the rate limit still applies."""

    permission_classes = [AllowAny]
    throttle_classes = [ApiKeyRateThrottle]

    def get(self, request):
        return Response({})


URL = "/probe/contacts/"
urlpatterns = [
    path("probe/contacts/", ContactProbe.as_view()),
    path("probe/open/", OpenProbe.as_view()),
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def rest_settings(api_key_rate: str) -> dict:
    """The settings the project is meant to run with (see the api_auth module)."""
    return {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "integrations.api_auth.ApiKeyAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
        "DEFAULT_PERMISSION_CLASSES": ["integrations.api_auth.ScopePermission"],
        "DEFAULT_THROTTLE_CLASSES": ["integrations.api_auth.ApiKeyRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"api_key": api_key_rate},
    }


@pytest.fixture(autouse=True)
def generous_rate(settings):
    settings.REST_FRAMEWORK = rest_settings("1000/min")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


def key_for(user, *scopes: str) -> str:
    return api_keys.api_key_create(user=user, name="partner", scopes=list(scopes))[1]


def bearer(raw_key: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"}


def user_with(*codenames: str):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


# Authentication


def test_missing_credentials_get_401_with_a_bearer_challenge(api):
    response = api.get(URL)

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("Bearer", "expected 'Bearer <API key>'"),
        ("Bearer two parts", "expected 'Bearer <API key>'"),
        ("Bearer not-a-crm-key", "Malformed API key"),
        ("Bearer crm_zzzzzzzz_" + "a" * 43, "Invalid API key."),
    ],
)
def test_a_bad_key_gets_401_saying_why(api, header, message):
    response = api.get(URL, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert message in response.data["detail"]
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_a_key_with_a_wrong_secret_gets_401(api):
    raw_key = key_for(SalesUserFactory(), "contacts:read")
    tampered = raw_key[:-1] + ("A" if raw_key[-1] != "A" else "B")

    response = api.get(URL, **bearer(tampered))

    assert response.status_code == 401 and response.data["detail"] == "Invalid API key."


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"revoked_at": timezone.now()}, "revoked"),
        ({"expires_at": timezone.now()}, "expired"),
    ],
)
def test_revoked_and_expired_keys_get_401(api, change, message):
    raw_key = key_for(SalesUserFactory(), "contacts:read")
    ApiKey.objects.update(**change)

    response = api.get(URL, **bearer(raw_key))

    assert response.status_code == 401 and message in response.data["detail"]


def test_a_valid_key_acts_as_its_user(api):
    user = SalesUserFactory()

    response = api.get(URL, **bearer(key_for(user, "contacts:read")))

    assert response.status_code == 200 and response.data["user"] == user.username


# Scopes and model permissions


def test_a_key_without_the_needed_scope_gets_403_naming_it(api):
    raw_key = key_for(SalesUserFactory(), "contacts:write", "deals:read")

    response = api.get(URL, **bearer(raw_key))

    assert response.status_code == 403
    assert "'contacts:read'" in response.data["detail"]


def test_a_key_with_the_scope_but_a_user_without_the_model_permission_gets_403(api):
    raw_key = key_for(UserFactory(), "contacts:read", "contacts:write")

    response = api.get(URL, **bearer(raw_key))

    assert response.status_code == 403
    assert "customers.view_contact" in response.data["detail"]


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("contacts:read", {"get": 200, "post": 403, "delete": 403}),
        ("contacts:write", {"get": 403, "post": 201, "delete": 204}),
    ],
)
def test_reads_need_the_read_scope_and_writes_the_write_scope(api, scope, expected):
    raw_key = key_for(ManagerFactory(), scope)

    got = {method: getattr(api, method)(URL, **bearer(raw_key)).status_code for method in expected}

    assert got == expected


def test_a_write_scope_does_not_lift_the_users_own_limits(api):
    raw_key = key_for(SalesUserFactory(), "contacts:write")  # sales may add, not delete

    assert api.post(URL, **bearer(raw_key)).status_code == 201
    response = api.delete(URL, **bearer(raw_key))
    assert response.status_code == 403 and "customers.delete_contact" in response.data["detail"]


@pytest.mark.parametrize(
    ("user_factory", "expected"),
    [
        (SalesUserFactory, {"get": 200, "post": 201, "delete": 403}),
        (ManagerFactory, {"get": 200, "post": 201, "delete": 204}),
        (UserFactory, {"get": 403, "post": 403, "delete": 403}),
    ],
)
def test_session_users_need_the_model_permission_for_the_method(api, user_factory, expected):
    api.force_login(user_factory())

    got = {method: getattr(api, method)(URL).status_code for method in expected}

    assert got == expected


def test_a_view_without_scope_resource_is_a_configuration_error():
    request = APIRequestFactory().get("/")
    force_authenticate(request, user=ManagerFactory())

    with pytest.raises(ImproperlyConfigured, match="scope_resource"):
        ProbeWithoutResource.as_view()(request)


# Who sees personal data decrypted


@pytest.mark.parametrize(
    ("codenames", "scopes", "expected"),
    [
        (("view_contact", "view_pii"), ("contacts:read", "pii:read"), True),
        (("view_contact", "view_pii"), ("contacts:read",), False),
        (("view_contact",), ("contacts:read", "pii:read"), False),
        (("view_contact",), ("contacts:read",), False),
    ],
)
def test_pii_over_an_api_key_needs_the_permission_and_the_scope(api, codenames, scopes, expected):
    raw_key = key_for(user_with(*codenames), *scopes)

    response = api.get(URL, **bearer(raw_key))

    assert response.status_code == 200 and response.data["pii"] is expected


@pytest.mark.parametrize(
    ("codenames", "expected"),
    [(("view_contact", "view_pii"), True), (("view_contact",), False)],
)
def test_pii_in_a_session_needs_the_permission(api, codenames, expected):
    api.force_login(user_with(*codenames))

    assert api.get(URL).data["pii"] is expected


def test_forced_authentication_counts_as_a_session_unless_it_carries_a_key():
    user = user_with("view_contact", "view_pii")
    api_key, _ = api_keys.api_key_create(user=user, name="p", scopes=["contacts:read"])
    factory = APIRequestFactory()
    as_person, as_key = factory.get(URL), factory.get(URL)
    force_authenticate(as_person, user=user)
    force_authenticate(as_key, user=user, token=api_key)

    assert ContactProbe.as_view()(as_person).data["pii"] is True
    assert ContactProbe.as_view()(as_key).data["pii"] is False


def test_pii_is_refused_to_any_other_authentication():
    user = user_with("view_contact", "view_pii")
    user.set_password("pw")
    user.save()
    request = APIRequestFactory().get(URL, HTTP_AUTHORIZATION=basic_auth(user.username, "pw"))

    response = ContactProbe.as_view(authentication_classes=[BasicAuthentication])(request)

    assert response.status_code == 200 and response.data["pii"] is False


def basic_auth(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


# Rate limit


def test_the_request_past_the_rate_gets_429_with_retry_after_for_that_key_only(api, settings):
    settings.REST_FRAMEWORK = rest_settings("3/min")
    user = SalesUserFactory()
    busy, quiet = key_for(user, "contacts:read"), key_for(user, "contacts:read")

    codes = [api.get(URL, **bearer(busy)).status_code for _ in range(4)]
    refused = api.get(URL, **bearer(busy))

    assert codes == [200, 200, 200, 429]
    assert refused.status_code == 429 and 0 < int(refused["Retry-After"]) <= 60
    assert api.get(URL, **bearer(quiet)).status_code == 200  # keyed by key, not by user


def test_session_users_are_rate_limited_by_user(api, settings):
    settings.REST_FRAMEWORK = rest_settings("2/min")
    api.force_login(SalesUserFactory())

    assert [api.get(URL).status_code for _ in range(3)] == [200, 200, 429]


def test_anonymous_callers_are_limited_by_their_address_whatever_x_forwarded_for_says(
    api, settings
):
    settings.REST_FRAMEWORK = rest_settings("2/min")
    settings.TRUSTED_PROXY_COUNT = 0  # no proxy: the header is the client's own writing

    codes = [
        api.get("/probe/open/", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)
    ]

    assert codes == [200, 200, 429]


# What a request costs


def test_permissions_count_whether_granted_directly_or_through_a_group(api):
    user = user_with("view_pii")  # directly; view_contact comes with the sales group
    user.groups.add(*SalesUserFactory().groups.all())
    user.groups.first().permissions.remove(Permission.objects.get(codename="view_pii"))

    response = api.get(URL, **bearer(key_for(user, "contacts:read", "pii:read")))

    assert response.status_code == 200 and response.data["pii"] is True


def test_a_key_request_reads_the_key_and_the_users_permissions_in_one_query_each(
    api, django_assert_num_queries
):
    raw_key = key_for(SalesUserFactory(), "contacts:read", "pii:read")
    api.get(URL, **bearer(raw_key))  # the first use also records last_used_at

    with django_assert_num_queries(2):
        response = api.get(URL, **bearer(raw_key))

    assert response.status_code == 200 and response.data["pii"] is True


def test_a_permission_taken_away_counts_from_the_next_request(api):
    user = user_with("view_contact", "view_pii")
    raw_key = key_for(user, "contacts:read", "pii:read")
    assert api.get(URL, **bearer(raw_key)).data["pii"] is True

    user.user_permissions.remove(Permission.objects.get(codename="view_pii"))

    assert api.get(URL, **bearer(raw_key)).data["pii"] is False
