"""The integrations page: managers only; API keys created with scopes (the key shown once,
only its hash stored) and revoked; the latest import and export jobs."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from integrations.imports import services as imports
from integrations.models import ApiKey, ExportJob
from integrations.services import api_keys
from tests.factories import ManagerFactory, SalesUserFactory, UserFactory

pytestmark = pytest.mark.django_db

PAGE = "web:integration-list"


@pytest.fixture
def manager():
    return ManagerFactory(username="boss")


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(reverse(PAGE))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_sales_users_get_403_on_every_integrations_door(sales_client, manager):
    api_key, _raw = api_keys.api_key_create(user=manager, name="ERP", scopes=["contacts:read"])
    assert sales_client.get(reverse(PAGE)).status_code == 403
    create = sales_client.post(
        reverse("web:api-key-create"), {"name": "x", "scopes": ["contacts:read"]}
    )
    assert create.status_code == 403
    revoke = sales_client.post(reverse("web:api-key-revoke", args=[api_key.pk]))
    assert revoke.status_code == 403
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


def test_a_new_key_is_shown_once_and_only_its_hash_is_stored(manager_client, manager):
    response = manager_client.post(
        reverse("web:api-key-create"),
        {"name": "ERP sync", "scopes": ["contacts:read", "pii:read"]},
    )
    assert response.status_code == 201
    assert "no-store" in response["Cache-Control"]
    raw_key = response.context["raw_key"]
    assert raw_key in response.content.decode()
    api_key = ApiKey.objects.get()
    assert (api_key.user, api_key.name, api_key.scopes) == (
        manager,
        "ERP sync",
        ["contacts:read", "pii:read"],
    )
    assert raw_key not in str(ApiKey.objects.values().get())
    assert api_keys.api_key_verify(raw_key) == api_key

    page = manager_client.get(reverse(PAGE)).content.decode()
    assert api_key.prefix in page and raw_key not in page


def test_a_key_without_scopes_is_refused_with_the_error_next_to_them(manager_client):
    response = manager_client.post(reverse("web:api-key-create"), {"name": "ERP"})
    assert response.status_code == 422
    body = response.content.decode()
    assert 'id="id_scopes_error"' in body and 'role="alert"' in body
    assert ApiKey.objects.count() == 0


def test_an_expiry_in_the_past_is_refused_by_the_service(manager_client):
    response = manager_client.post(
        reverse("web:api-key-create"),
        {"name": "ERP", "scopes": ["contacts:read"], "expires_at": "2001-01-01T00:00"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["expires_at"]
    assert ApiKey.objects.count() == 0


def test_a_revoked_key_stops_working(manager_client, manager):
    api_key, raw_key = api_keys.api_key_create(user=manager, name="ERP", scopes=["deals:read"])
    response = manager_client.post(reverse("web:api-key-revoke", args=[api_key.pk]))
    assert response["Location"] == reverse(PAGE)
    assert api_keys.api_key_authenticate(raw_key) is None
    row = manager_client.get(reverse(PAGE)).content.decode()
    assert reverse("web:api-key-revoke", args=[api_key.pk]) not in row


def test_a_manager_cannot_revoke_a_superusers_key_and_is_not_offered_to(manager_client):
    root = UserFactory(username="root", is_superuser=True)
    api_key, raw_key = api_keys.api_key_create(user=root, name="Ops", scopes=["deals:read"])

    page = manager_client.get(reverse(PAGE)).content.decode()
    response = manager_client.post(reverse("web:api-key-revoke", args=[api_key.pk]))

    assert reverse("web:api-key-revoke", args=[api_key.pk]) not in page
    assert response.status_code == 403
    assert api_keys.api_key_authenticate(raw_key) == api_key


def test_recent_jobs_of_everyone_link_to_their_pages(manager_client):
    colleague = SalesUserFactory(username="colleague")
    job = _import(colleague)
    ExportJob.objects.create(created_by=colleague, resource="deals", format="xml")
    body = manager_client.get(reverse(PAGE)).content.decode()
    assert reverse("web:import-detail", args=[job.pk]) in body
    assert "colleague" in body and "XML" in body


def test_the_page_costs_the_same_queries_whatever_the_number_of_jobs_and_keys(
    manager_client, manager
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(reverse(PAGE)).status_code == 200
        return len(captured)

    _add_rows(manager, 2)
    few = queries()
    _add_rows(manager, 10)
    assert queries() == few


def _add_rows(user, count: int) -> None:
    for n in range(count):
        owner = SalesUserFactory()
        _import(owner)
        ExportJob.objects.create(created_by=owner, resource="contacts", format="csv")
        api_keys.api_key_create(user=user, name=f"key {n}", scopes=["contacts:read"])


def _import(user):
    return imports.import_create(
        user=user,
        file=io.BytesIO(b"first_name\nWei\n"),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )


def test_the_page_speaks_chinese(manager_client):
    with translation.override("zh-hans"):
        expected = [translation.gettext(text) for text in ("API keys", "Recent imports")]
    assert "API keys" not in expected
    body = manager_client.get(reverse(PAGE), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert all(text in body for text in expected)
