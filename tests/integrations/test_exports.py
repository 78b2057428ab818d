"""Bulk exports: the service (options, the REST list's filters, PII, the file in each format)
and its REST door (202, progress, download, scopes). Jobs run in-process with
``exports.export_run``: there is no worker in these tests."""

import csv
import io
import json

import pytest
from django.core.exceptions import ValidationError

from customers import selectors
from customers.actors import SYSTEM
from customers.representation import export_rows
from customers.services.custom_fields import custom_field_create
from integrations import tasks
from integrations.exports import services as exports
from integrations.formats import open_reader
from integrations.models import ExportJob, JobStatus
from integrations.scopes import ALL_SCOPES
from tests.api.support import assert_uniform_error
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    ManagerFactory,
    SalesUserFactory,
    UserFactory,
)
from tests.integrations.support import Queued, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

EXPORTS = "/api/v1/exports/"
FORMATS = ["csv", "json", "xml"]
NO_PII = [scope for scope in ALL_SCOPES if scope != "pii:read"]


@pytest.fixture
def queued(monkeypatch) -> Queued:
    calls = Queued()
    monkeypatch.setattr(tasks.run_export, "apply_async", calls)
    return calls


@pytest.fixture
def user(db):
    return SalesUserFactory(username="zhang.min")


@pytest.fixture
def people(user):
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    custom_field_create(actor=SYSTEM, entity="contact", name="score", label="Score", type="integer")
    acme = CompanyFactory(name="Acme 贸易", owner=user, tags=["key"])
    return {
        "wei": ContactFactory(
            first_name="伟",
            last_name="张",
            email="zhang.wei@example.cn",
            company=acme,
            owner=user,
            lifecycle_stage="customer",
            tags=["vip"],
            custom_fields={"wechat": "wx_wei", "score": 9},
        ),
        "ann": ContactFactory(first_name="Ann", email="ann@example.com", lifecycle_stage="lead"),
        "bo": ContactFactory(first_name="Bo", email="bo@example.com", lifecycle_stage="churned"),
    }


def records(content: bytes, format: str) -> list[dict]:
    with open_reader(io.BytesIO(content), format=format) as reader:
        return [record.values for record in reader]


def write(resource="contacts", format="json", filters=None, include_pii=True) -> bytes:
    stream = io.BytesIO()
    exports.export_write(
        resource=resource,
        format=format,
        filters=filters or {},
        include_pii=include_pii,
        stream=stream,
    )
    return stream.getvalue()


# The service.


@pytest.mark.parametrize(
    ("filters", "names"),
    [
        ({}, ["伟", "Ann", "Bo"]),
        ({"lifecycle_stage": ["lead", "customer"]}, ["伟", "Ann"]),
        ({"email": "ZHANG.WEI@example.cn"}, ["伟"]),  # through the blind index
        ({"tag": "VIP"}, ["伟"]),
        ({"cf_score__gte": 5}, ["伟"]),
        ({"cf_wechat": "wx_wei"}, ["伟"]),  # a PII custom field, through its blind index
        ({"search": "ann"}, ["Ann"]),
        ({"lifecycle_stage": "churned", "search": "ann"}, []),
    ],
)
def test_filters_are_the_rest_lists_query_parameters(people, filters, names):
    exported = json.loads(write(filters=filters))

    assert [row["first_name"] for row in exported] == names


def test_the_owner_filter_takes_an_id(people, user):
    exported = json.loads(write(filters={"owner": user.pk}))

    assert [row["first_name"] for row in exported] == ["伟"]


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"resource": "planets"}, "resource"),
        ({"format": "xlsx"}, "format"),
        ({"filters": {"planet": "mars"}}, "filters.planet"),
        ({"filters": {"ordering": "-id"}}, "filters.ordering"),
        ({"filters": {"lifecycle_stage": "zombie"}}, "filters.lifecycle_stage"),
        ({"filters": {"owner": 99999}}, "filters.owner"),
        ({"filters": {"updated_since": "yesterday"}}, "filters.updated_since"),
        ({"filters": {"updated_since": "9999-12-31T23:59:59-05:00"}}, "filters.updated_since"),
        ({"filters": {"search": "a " * 1200}}, "filters.search"),
        ({"filters": {"cf_nope": "1"}}, "filters.cf_nope"),
        ({"filters": {"tag": {"name": "vip"}}}, "filters.tag"),
        ({"filters": ["tag"]}, "filters"),
    ],
)
def test_bad_options_and_filters_are_refused_up_front(user, options, field):
    arguments = {"resource": "contacts", "format": "csv", "filters": {}, **options}

    with pytest.raises(ValidationError) as excinfo:
        exports.export_create(user=user, include_pii=True, enqueue=False, **arguments)

    assert field in excinfo.value.message_dict
    assert ExportJob.objects.count() == 0


def test_pii_needs_the_users_right_to_read_it(people):
    allowed = exports.export_create(
        user=SalesUserFactory(), resource="contacts", format="json", filters={}, include_pii=True
    )
    refused = exports.export_create(
        user=UserFactory(), resource="contacts", format="json", filters={}, include_pii=True
    )
    declined = exports.export_create(
        user=SalesUserFactory(), resource="contacts", format="json", filters={}, include_pii=False
    )

    assert (allowed.include_pii, refused.include_pii, declined.include_pii) == (True, False, False)
    exports.export_run(job_id=refused.pk)
    rows = json.loads(ExportJob.objects.get(pk=refused.pk).file.read())
    wei = next(row for row in rows if row["first_name"] == "伟")
    assert (wei["email"], wei["custom_fields"]["wechat"]) == ("z***@example.cn", "***")


@pytest.mark.parametrize("format", FORMATS)
def test_a_job_writes_its_file_under_media_root(people, user, format, tmp_path):
    job = exports.export_create(
        user=user,
        resource="contacts",
        format=format,
        filters={"lifecycle_stage": ["lead", "customer"]},
        include_pii=True,
        enqueue=False,
    )

    job = exports.export_run(job_id=job.pk)

    assert (job.status, job.rows_written) == (JobStatus.SUCCEEDED, 2)
    assert (tmp_path / job.file.name).is_file()
    rows = records((tmp_path / job.file.name).read_bytes(), format)
    assert [row["first_name"] for row in rows] == ["伟", "Ann"]
    email = rows[0]["email"]
    assert email == "zhang.wei@example.cn"
    assert (job.started_at, job.finished_at) != (None, None)


def test_running_a_finished_job_again_changes_nothing(people, user):
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )
    first = exports.export_run(job_id=job.pk)

    again = exports.export_run(job_id=job.pk)

    assert (again.file.name, again.finished_at) == (first.file.name, first.finished_at)


def test_a_job_whose_filters_no_longer_hold_fails_with_the_reason(people, user):
    owner = SalesUserFactory()
    job = exports.export_create(
        user=user,
        resource="contacts",
        format="csv",
        filters={"owner": owner.pk},
        include_pii=True,
        enqueue=False,
    )
    owner.delete()

    job = exports.export_run(job_id=job.pk)

    assert job.status == JobStatus.FAILED
    assert "Select a valid choice" in job.error_message
    assert not job.file


def test_creating_a_job_queues_it_after_commit(user, queued, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = exports.export_create(
            user=user, resource="deals", format="xml", filters={}, include_pii=True
        )

    assert queued == [job.pk]


# The rows are the REST representation.


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals"])
def test_json_rows_are_what_the_rest_list_returns(people, user, resource):
    DealFactory(
        name="Pilot",
        amount="1234.5",
        company=people["wei"].company,
        primary_contact=people["wei"],
        owner=user,
        expected_close_date="2026-12-31",
        tags=["q4", "big"],
    )
    DealFactory(name="Bare")
    listed = client_for(user).get(f"/api/v1/{resource}/", {"page_size": 1000}).json()["results"]

    exported = json.loads(write(resource=resource))

    assert exported == listed
    assert exported


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals"])
def test_masked_rows_are_what_the_rest_list_returns_without_pii_read(people, user, resource):
    listed = client_for(user, NO_PII).get(f"/api/v1/{resource}/").json()["results"]

    assert json.loads(write(resource=resource, include_pii=False)) == listed


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals"])
def test_csv_columns_are_the_rest_lists_with_custom_fields_by_name(people, user, resource):
    custom_field_create(actor=SYSTEM, entity="deal", name="region", label="Region", type="text")
    rest = client_for(user).get(f"/api/v1/{resource}/", {"format": "csv"}).content.decode()

    exported = write(resource=resource, format="csv").decode()

    assert exported.splitlines()[0] == rest.splitlines()[0]
    assert exported == rest


def test_a_csv_file_starts_with_a_bom_for_spreadsheets(people, user):
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )

    content = exports.export_run(job_id=job.pk).file.read()

    assert content.startswith(b"\xef\xbb\xbfid,external_id,")
    assert records(content, "csv")[0]["first_name"] == "伟"


def test_rows_are_read_in_chunks_of_two_queries(people, django_assert_num_queries):
    CompanyFactory.create_batch(5)
    queryset = selectors.company_list()

    with django_assert_num_queries(2 * 3 + 1):  # rows and tags per chunk of 2, then the end
        rows = list(export_rows.company_rows(queryset, can_view_pii=True, chunk_size=2))

    assert len(rows) == 6


# The REST door.


@pytest.mark.parametrize(
    ("format", "content_type"),
    [
        ("csv", "text/csv; charset=utf-8"),
        ("json", "application/json"),
        ("xml", "application/xml; charset=utf-8"),
    ],
)
def test_an_export_is_queued_run_and_downloaded(
    people, user, queued, django_capture_on_commit_callbacks, format, content_type
):
    api = client_for(user)
    body = {"resource": "contacts", "format": format, "filters": {"tag": "vip"}}
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(EXPORTS, body, format="json")

    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"] == f"http://testserver{EXPORTS}{job_id}/"
    assert (response.json()["status"], response.json()["download"]) == ("queued", None)
    assert queued == [job_id]
    assert_uniform_error(api.get(f"{EXPORTS}{job_id}/download/"), 409)

    exports.export_run(job_id=job_id)
    job = api.get(response["Location"]).json()
    download = api.get(job["download"])

    assert (job["status"], job["rows_written"], job["include_pii"]) == ("succeeded", 1, True)
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"] == (f'attachment; filename="contacts-{job_id}.{format}"')
    rows = records(b"".join(download.streaming_content), format)
    assert [(row["first_name"], row["email"]) for row in rows] == [("伟", "zhang.wei@example.cn")]


def test_a_download_is_the_file_whatever_the_client_accepts(people, user):
    job = exports.export_create(
        user=user, resource="contacts", format="xml", filters={}, include_pii=True, enqueue=False
    )
    exports.export_run(job_id=job.pk)

    response = client_for(user).get(
        f"{EXPORTS}{job.pk}/download/", HTTP_ACCEPT="application/octet-stream"
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")


def test_without_pii_read_the_export_is_masked(people, user, queued):
    api = client_for(user, NO_PII)

    response = api.post(EXPORTS, {"resource": "contacts", "format": "csv"}, format="json")
    exports.export_run(job_id=response.json()["id"])
    download = api.get(f"{EXPORTS}{response.json()['id']}/download/")

    assert response.json()["include_pii"] is False
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    rows = {row["first_name"]: row for row in csv.DictReader(io.StringIO(text))}
    assert (rows["伟"]["email"], rows["伟"]["wechat"]) == ("z***@example.cn", "***")
    assert "zhang.wei@example.cn" not in text and "wx_wei" not in text


def test_a_pii_file_is_not_handed_to_a_key_without_pii_read(people, user):
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )
    exports.export_run(job_id=job.pk)

    response = client_for(user, NO_PII).get(f"{EXPORTS}{job.pk}/download/")

    assert assert_uniform_error(response, 403)["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"resource": "planets", "format": "csv"}, "resource"),
        ({"resource": "contacts", "format": "pdf"}, "format"),
        ({"resource": "contacts", "format": "csv", "filters": "[1]"}, "filters"),
        ({"resource": "contacts", "format": "csv", "filters": {"plant": "x"}}, "filters.plant"),
        (
            {"resource": "deals", "format": "csv", "filters": {"status": "pending"}},
            "filters.status",
        ),
    ],
)
def test_bad_export_options_are_a_400(user, queued, body, field):
    response = client_for(user).post(EXPORTS, body, format="json")

    assert field in assert_uniform_error(response, 400)["errors"]
    assert ExportJob.objects.count() == 0 and queued == []


def test_filters_may_come_as_json_text_in_a_form(people, user, queued):
    response = client_for(user).post(
        EXPORTS,
        {"resource": "contacts", "format": "json", "filters": json.dumps({"tag": "vip"})},
    )

    assert response.status_code == 202, response.content
    assert ExportJob.objects.get().filters == {"tag": "vip"}


@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        (["exports:read"], "post", ""),
        (["contacts:read", "exports:write"], "get", ""),
        (["exports:write"], "get", "{id}/"),
        (["exports:write", "pii:read"], "get", "{id}/download/"),
    ],
)
def test_keys_without_the_exports_scope_are_refused(people, user, scopes, method, path):
    job = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )
    exports.export_run(job_id=job.pk)
    client = client_for(user, scopes)

    body = {"resource": "contacts", "format": "csv"} if method == "post" else None
    response = getattr(client, method)(EXPORTS + path.format(id=job.pk), body)

    assert assert_uniform_error(response, 403)["code"] == "permission_denied"
    assert ExportJob.objects.count() == 1


def test_users_see_their_own_exports_and_managers_everyones(user):
    mine = exports.export_create(
        user=user, resource="contacts", format="csv", filters={}, include_pii=True, enqueue=False
    )
    theirs = exports.export_create(
        user=SalesUserFactory(),
        resource="contacts",
        format="csv",
        filters={},
        include_pii=True,
        enqueue=False,
    )

    listed = [job["id"] for job in client_for(user).get(EXPORTS).json()["results"]]
    other = client_for(user).get(f"{EXPORTS}{theirs.pk}/download/")
    everyone = client_for(ManagerFactory()).get(EXPORTS).json()["results"]

    assert listed == [mine.pk]
    assert other.status_code == 404
    assert [job["id"] for job in everyone] == [theirs.pk, mine.pk]
