"""REST's own refusals (not a service's) reach a caller who reads Simplified Chinese in Chinese:
the error envelope and the batch outcomes, API-key authentication and scopes, the jobs API's
conflicts, a connector's configuration. What a program reads (``code``, the error keys) is the
same in every language; English stays the default. SOAP's: test_faults_translated_soap.py."""

import json

import pytest
from rest_framework.test import APIClient

from customers.models import Contact
from integrations.models import Connection, ExportJob
from tests.api.conftest import client_with_key
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

CHINESE = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
IDS = ["zh-hans", "en"]


# REST: the batch endpoint


@pytest.mark.parametrize(
    ("language", "message", "mode_error"),
    [
        ("zh-hans", "部分字段无效。", "请使用以下之一：create, update, upsert。"),
        ("en", "Some fields are invalid.", "Use one of create, update, upsert."),
    ],
    ids=IDS,
)
def test_a_batch_in_an_unknown_mode_is_refused_in_the_callers_language(
    api, language, message, mode_error
):
    response = api.post(
        "/api/v1/contacts/batch/?mode=merge",
        json.dumps([{"first_name": "Wei"}]),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 400, response.content
    assert response.json() == {
        "code": "invalid",
        "message": message,
        "errors": {"mode": [mode_error]},
    }
    assert Contact.objects.count() == 0


def test_an_atomic_batch_rolled_back_says_why_in_chinese_with_the_same_keys(api):
    response = api.post(
        "/api/v1/contacts/batch/?atomic=true",
        json.dumps([{"first_name": "Wei"}, "not a record"]),
        content_type="application/json",
        **CHINESE,
    )

    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "batch_rolled_back"
    assert body["message"] == "未写入任何内容：2 条记录中有 1 条无效（atomic=true）。"
    assert body["errors"] == {"records.1.non_field_errors": ["每条记录都必须是一个对象。"]}
    assert [result["status"] for result in body["results"]] == ["rolled_back", "error"]
    assert Contact.objects.count() == 0


def test_a_batch_update_of_an_unknown_record_is_refused_in_english_by_default(api):
    response = api.post(
        "/api/v1/contacts/batch/?mode=update",
        json.dumps([{"id": 987654, "first_name": "Wei"}]),
        content_type="application/json",
    )

    (result,) = response.json()["results"]
    assert result["errors"] == {"non_field_errors": ["No record with this id or external_id."]}


# REST: API-key authentication and scopes


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "Authorization 请求头无效；应为 'Bearer <API key>'。"),
        ("en", "Invalid Authorization header; expected 'Bearer <API key>'."),
    ],
    ids=IDS,
)
def test_a_malformed_authorization_header_is_refused_in_the_callers_language(language, expected):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer two parts")

    response = client.get("/api/v1/contacts/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 401
    assert response.json() == {"code": "authentication_failed", "message": expected, "errors": {}}


def test_a_key_without_the_scope_is_refused_in_chinese_naming_the_scope(sales_user):
    reader = client_with_key(sales_user, ["contacts:read"])

    response = reader.post("/api/v1/contacts/", {"first_name": "Wei"}, format="json", **CHINESE)

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert response.json()["message"] == "此 API 密钥缺少 'contacts:write' 权限范围。"
    assert Contact.objects.count() == 0


# REST: the jobs API


@pytest.mark.parametrize("language", IDS)
def test_downloading_an_export_that_has_not_run_is_a_conflict_in_the_callers_language(
    api, sales_user, language
):
    job = ExportJob.objects.create(created_by=sales_user, resource="contacts", format="csv")

    response = api.get(f"/api/v1/exports/{job.pk}/download/", HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 409, response.content
    assert response.json()["code"] == "job_state_conflict"
    assert (
        response.json()["message"]
        == {
            "zh-hans": "导出状态为 queued；尚无可下载的文件。",
            "en": "The export is queued; there is no file to download yet.",
        }[language]
    )


# REST: a connector's configuration, checked by the connector itself


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "请使用 http 或 https URL。"), ("en", "Use an http or https URL.")],
    ids=IDS,
)
def test_a_connection_to_an_ftp_source_is_refused_in_the_callers_language(language, expected):
    partner = client_with_key(ManagerFactory(), ["integrations:read", "integrations:write"])
    connection = {
        "name": "Legacy ERP",
        "connector": "rest_json",
        "resource": "contacts",
        "config": {"url": "ftp://erp.example.com/people"},
        "schedule": {"every_minutes": 15},
    }

    response = partner.post(
        "/api/v1/connections/", connection, format="json", HTTP_ACCEPT_LANGUAGE=language
    )

    assert response.status_code == 400, response.content
    assert response.json()["errors"] == {"config.url": [expected]}
    assert not Connection.objects.exists()


# REST: a body refused before anything parses it (before the locale middleware runs, too)


@pytest.mark.parametrize(
    ("language", "start"), [("zh-hans", "请求正文"), ("en", "Request bodies are limited")], ids=IDS
)
def test_a_body_over_the_limit_is_refused_in_the_callers_language(api, settings, language, start):
    settings.API_MAX_REQUEST_BYTES = 100

    response = api.post(
        "/api/v1/contacts/",
        json.dumps({"first_name": "W" * 200}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert response.json()["message"].startswith(start)
