"""Refusals the integration services raise (API keys, the change feed, exports, idempotency
keys, imports, connections) reach a caller who reads Simplified Chinese in Chinese, whichever
door shows them: REST with ``Accept-Language: zh-hans``, or a page for a user whose stored
language is zh-hans. The same requests in English keep today's English text."""

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from customers.models import Contact, UserPreference
from integrations.imports import services as imports
from integrations.models import ApiKey, Connection, ExportJob, ImportJob
from integrations.services import api_keys
from tests.factories import ManagerFactory
from tests.integrations.test_connectors import api_config

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
ENGLISH = {"HTTP_ACCEPT_LANGUAGE": "en"}


def errors_of(response, status: int) -> dict[str, list[str]]:
    """The field-keyed messages of a REST refusal, after checking its status."""
    assert response.status_code == status, response.content
    return response.json()["errors"]


# api_keys


def bearer(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(CHINESE, "此 API 密钥已被吊销。"), (ENGLISH, "This API key has been revoked.")],
)
def test_a_revoked_key_is_refused_in_the_callers_language(sales_user, headers, expected):
    api_key, raw_key = api_keys.api_key_create(
        user=sales_user, name="ERP", scopes=["contacts:read"]
    )
    api_keys.api_key_revoke(api_key=api_key, revoked_by=sales_user)

    response = bearer(raw_key).get("/api/v1/contacts/", **headers)

    assert response.status_code == 401
    assert response.json()["message"] == expected


def test_a_malformed_key_is_refused_in_chinese_naming_the_shape_expected(db):
    response = bearer("crm_not-a-key").get("/api/v1/contacts/", **CHINESE)

    assert response.status_code == 401
    assert response.json()["message"] == "API 密钥格式错误；应为 crm_<prefix>_<secret>。"


def test_a_chinese_manager_creating_a_key_that_expired_already_reads_why_in_chinese(client):
    manager = ManagerFactory()
    UserPreference.objects.create(user=manager, language="zh-hans")
    client.force_login(manager)

    response = client.post(
        reverse("web:api-key-create"),
        {"name": "ERP", "scopes": ["contacts:read"], "expires_at": "2001-01-01T00:00"},
        **ENGLISH,  # the stored language beats the browser's
    )

    assert response.status_code == 422
    assert response.context["form"].errors["expires_at"] == ["过期时间必须在将来。"]
    assert ApiKey.objects.count() == 0


# change_feed


def test_a_cursor_the_feed_never_gave_is_refused_in_chinese(api):
    response = api.get("/api/v1/changes/", {"after": "yesterday"}, **CHINESE)

    assert errors_of(response, 400) == {
        "after": ["这不是此变更流的游标；请使用它返回的 next_cursor。"]
    }


@pytest.mark.parametrize(
    ("headers", "expected"),
    [(CHINESE, "limit 应介于 1 和 1000 之间。"), (ENGLISH, "Use a limit from 1 to 1000.")],
)
def test_a_limit_out_of_range_is_refused_in_the_callers_language(api, headers, expected):
    response = api.get("/api/v1/changes/", {"limit": 0}, **headers)

    assert errors_of(response, 400) == {"limit": [expected]}


# exports


def test_export_filters_that_are_not_an_object_are_refused_in_chinese(api):
    response = api.post(
        "/api/v1/exports/",
        {"resource": "contacts", "format": "csv", "filters": {"tag": {"nested": 1}}},
        format="json",
        **CHINESE,
    )

    assert errors_of(response, 400) == {"filters.tag": ["应为文本、数字或 true/false。"]}
    assert ExportJob.objects.count() == 0


# idempotency


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (CHINESE, "此 Idempotency-Key 已用于另一个不同的请求。"),
        (ENGLISH, "This Idempotency-Key was already used for a different request."),
    ],
)
def test_a_key_reused_for_another_body_is_refused_in_the_callers_language(api, headers, expected):
    api.post("/api/v1/contacts/", {"first_name": "A"}, format="json", HTTP_IDEMPOTENCY_KEY="k")

    response = api.post(
        "/api/v1/contacts/",
        {"first_name": "B"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k",
        **headers,
    )

    assert response.status_code == 422
    assert response.json()["message"] == expected
    assert list(Contact.objects.values_list("first_name", flat=True)) == ["A"]


def test_an_overlong_idempotency_key_is_refused_in_chinese(api):
    response = api.post(
        "/api/v1/contacts/",
        {"first_name": "A"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 256,
        **CHINESE,
    )

    assert errors_of(response, 400) == {"Idempotency-Key": ["请使用 1 到 255 个字符。"]}
    assert Contact.objects.count() == 0


# imports


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (CHINESE, "只有联系人可以按电子邮件匹配。"),
        (ENGLISH, "Only contacts can be matched by email."),
    ],
)
def test_companies_matched_by_email_are_refused_in_the_callers_language(api, headers, expected):
    upload = io.BytesIO(b"name,domain\nAcme,acme.example\n")
    upload.name = "companies.csv"

    response = api.post(
        "/api/v1/imports/",
        {"file": upload, "resource": "companies", "match_key": "email"},
        format="multipart",
        **headers,
    )

    assert errors_of(response, 400) == {"match_key": [expected]}
    assert ImportJob.objects.count() == 0


def test_an_all_or_nothing_import_tells_a_chinese_user_in_chinese_why_it_wrote_nothing(
    api, sales_user, settings, tmp_path
):
    """The job runs later, in a worker, in the language its user stored."""
    settings.MEDIA_ROOT = tmp_path
    UserPreference.objects.create(user=sales_user, language="zh-hans")
    upload = io.BytesIO(b"first_name,email\nA,a@example.com\nB,bad\nC,worse\n")
    upload.name = "people.csv"
    created = api.post(
        "/api/v1/imports/",
        {"file": upload, "resource": "contacts", "all_or_nothing": True},
        format="multipart",
    )
    assert created.status_code == 202, created.content

    imports.import_run(job_id=created.json()["id"])
    job = api.get(created["Location"], **ENGLISH).json()

    assert job["status"] == "failed"
    assert job["error_message"] == "2 行无效；未导入任何内容（全部或全不）。"
    assert Contact.objects.count() == 0


# sync


@pytest.fixture
def partner(make_api_client, settings):
    """A manager's key that may write connections, to a source on a loopback address."""
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    return make_api_client(ManagerFactory(), ["integrations:read", "integrations:write"])


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (CHINESE, "contacts 的未知字段：shoe_size。"),
        (ENGLISH, "Unknown fields for contacts: shoe_size."),
    ],
)
def test_a_mapping_to_an_unknown_field_is_refused_in_the_callers_language(
    partner, headers, expected
):
    response = partner.post(
        "/api/v1/connections/",
        {
            "name": "Legacy ERP",
            "connector": "rest_json",
            "resource": "contacts",
            "config": api_config("https://erp.example.com"),
            "mapping": {"id": "external_id", "size": "shoe_size"},
        },
        format="json",
        **headers,
    )

    assert errors_of(response, 400) == {"mapping": [expected]}
    assert Connection.objects.count() == 0
