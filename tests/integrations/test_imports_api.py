"""The REST door of bulk imports: upload, preview, progress, cancel, the row error report,
scopes and permissions, and bad input refused in the uniform error shape. The jobs are run
in-process with ``imports.import_run``: there is no worker in these tests."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile

from customers import selectors
from customers.models import Company, Contact
from integrations import tasks
from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from integrations.scopes import ALL_SCOPES
from tests.api.support import assert_uniform_error
from tests.factories import ManagerFactory, SalesUserFactory, UserFactory
from tests.integrations.support import Queued, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

IMPORTS = "/api/v1/imports/"
PEOPLE = (
    "First Name,Last Name,E-mail,Tags\n"
    "Wei,Zhang,zhang.wei@example.cn,vip|北京\n"
    "Ann,Lee,not-an-email,\n"
    "Bo,Li,bo@example.com,\n"
)


@pytest.fixture
def queued(monkeypatch) -> Queued:
    calls = Queued()
    monkeypatch.setattr(tasks.run_import, "apply_async", calls)
    return calls


def upload(name: str = "people.csv", content: str | bytes = PEOPLE) -> SimpleUploadedFile:
    data = content.encode() if isinstance(content, str) else content
    return SimpleUploadedFile(name, data, content_type="text/csv")


def start(api, django_capture_on_commit_callbacks, **options):
    body = {"file": upload(), "resource": "contacts", **options}
    with django_capture_on_commit_callbacks(execute=True):
        return api.post(IMPORTS, body, format="multipart")


def test_an_upload_is_queued_and_its_progress_shows_the_counts(
    api, user, queued, django_capture_on_commit_callbacks
):
    response = start(api, django_capture_on_commit_callbacks, match_key="email")

    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    assert response["Location"] == f"http://testserver{IMPORTS}{job_id}/"
    assert response.json()["status"] == "queued"
    assert queued == [job_id]  # sent to the worker once the upload committed
    assert Contact.objects.count() == 0

    imports.import_run(job_id=job_id)
    job = api.get(response["Location"]).json()

    assert job["status"] == "partially_succeeded"
    assert (job["rows_total"], job["rows_processed"], job["percent"]) == (3, 3, 100.0)
    assert (job["rows_created"], job["rows_updated"], job["rows_failed"]) == (2, 0, 1)
    assert (job["filename"], job["match_key"], job["created_by"]["id"]) == (
        "people.csv",
        "email",
        user.pk,
    )
    assert job["started_at"] and job["finished_at"]
    assert job["links"]["errors_csv"] == f"http://testserver{IMPORTS}{job_id}/errors/?format=csv"
    wei = selectors.find_contact_by_email("ZHANG.WEI@example.cn")
    assert sorted(wei.tags.values_list("name", flat=True)) == ["vip", "北京"]


def test_options_reach_the_job(api, queued, django_capture_on_commit_callbacks):
    response = start(
        api,
        django_capture_on_commit_callbacks,
        mode="insert",
        mapping=json.dumps({"E-mail": None}),
        dry_run="true",
        all_or_nothing="true",
        format="csv",
    )

    job = ImportJob.objects.get(pk=response.json()["id"])
    assert (job.mode, job.mapping, job.dry_run, job.all_or_nothing, job.format) == (
        "insert",
        {"E-mail": None},
        True,
        True,
        "csv",
    )


def test_a_running_job_shows_live_progress(api, queued, django_capture_on_commit_callbacks):
    job_id = start(api, django_capture_on_commit_callbacks).json()["id"]
    ImportJob.objects.filter(pk=job_id).update(
        status=JobStatus.RUNNING, rows_total=8, rows_processed=2, rows_created=2
    )

    job = api.get(f"{IMPORTS}{job_id}/").json()

    assert (job["status"], job["percent"], job["rows_created"]) == ("running", 25.0, 2)
    assert job["finished_at"] is None


def test_preview_shows_the_detected_format_mapping_and_first_rows(api):
    content = "名,姓,电子邮件,Remarks\n伟,张,wei@example.cn,trade fair\n丽,王,li@example.cn,\n"

    response = api.post(
        f"{IMPORTS}preview/",
        {"file": upload("excel.csv", content.encode("gb18030")), "resource": "contacts", "rows": 1},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["format"], body["delimiter"]) == ("csv", ",")
    assert body["encoding"].lower() in ("gb18030", "gbk", "gb2312")
    assert body["headers"] == ["名", "姓", "电子邮件", "Remarks"]
    assert body["mapping"] == {"名": "first_name", "姓": "last_name", "电子邮件": "email"}
    assert body["ignored"] == ["Remarks"]
    assert body["rows"] == [
        {"名": "伟", "姓": "张", "电子邮件": "wei@example.cn", "Remarks": "trade fair"}
    ]
    assert ImportJob.objects.count() == 0


def test_preview_applies_an_explicit_mapping(api):
    response = api.post(
        f"{IMPORTS}preview/",
        {
            "file": upload(),
            "resource": "contacts",
            "mapping": json.dumps({"Last Name": "title", "Tags": None}),
        },
        format="multipart",
    )

    assert response.json()["mapping"] == {
        "First Name": "first_name",
        "Last Name": "title",
        "E-mail": "email",
    }


def test_cancelling_a_queued_job_and_then_a_finished_one(
    api, queued, django_capture_on_commit_callbacks
):
    job_id = start(api, django_capture_on_commit_callbacks).json()["id"]

    response = api.post(f"{IMPORTS}{job_id}/cancel/")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    imports.import_run(job_id=job_id)  # the queued message arrives: nothing runs
    assert Contact.objects.count() == 0
    body = assert_uniform_error(api.post(f"{IMPORTS}{job_id}/cancel/"), 409)
    assert body["code"] == "job_state_conflict"


def test_cancelling_a_running_job_stops_it_after_the_current_chunk(
    api, queued, django_capture_on_commit_callbacks
):
    job_id = start(api, django_capture_on_commit_callbacks).json()["id"]
    ImportJob.objects.filter(pk=job_id).update(status=JobStatus.RUNNING)

    response = api.post(f"{IMPORTS}{job_id}/cancel/")

    assert (response.json()["status"], response.json()["cancel_requested"]) == ("running", True)


@pytest.fixture
def finished_job_id(api, queued, django_capture_on_commit_callbacks) -> int:
    content = (
        "first_name,email,lifecycle_stage,tags\n"
        "A,a@example.com,lead,x\n"
        "B,not-an-email,zombie,y|z\n"
        "C,also bad,lead,\n"
    )
    body = {"file": upload("c.csv", content), "resource": "contacts"}
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.post(IMPORTS, body, format="multipart").json()["id"]
    imports.import_run(job_id=job_id)
    return job_id


def test_the_error_report_lists_each_problem_in_row_order(api, finished_job_id):
    response = api.get(f"{IMPORTS}{finished_job_id}/errors/")

    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [(e["row"], e["field"]) for e in results] == [
        (3, "email"),
        (3, "lifecycle_stage"),
        (4, "email"),
    ]
    assert results[0]["values"]["email"] == "not-an-email"
    assert results[0]["values"]["tags"] == "y|z"


def test_the_error_report_pages_and_speaks_xml(api, finished_job_id):
    first = api.get(f"{IMPORTS}{finished_job_id}/errors/", {"page_size": 2}).json()
    second = api.get(first["next"]).json()
    xml = api.get(f"{IMPORTS}{finished_job_id}/errors/", {"format": "xml"})

    assert [e["row"] for e in first["results"] + second["results"]] == [3, 3, 4]
    assert second["next"] is None
    assert xml["Content-Type"].startswith("application/xml")
    assert b"<message>" in xml.content


def test_the_error_report_downloads_as_csv_and_a_corrected_copy_imports(api, finished_job_id):
    response = api.get(f"{IMPORTS}{finished_job_id}/errors/", {"format": "csv"})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == (
        f'attachment; filename="import-{finished_job_id}-errors.csv"'
    )
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    # The file's columns in its order, then ours; one line per rejected row.
    header = ["first_name", "email", "lifecycle_stage", "tags", "import row", "import errors"]
    assert rows[0] == header
    assert rows[1:] == [
        [
            "B",
            "not-an-email",
            "zombie",
            "y|z",
            "3",
            "email: Enter a valid email address.; lifecycle_stage: Value 'zombie' is not a "
            "valid choice.",
        ],
        ["C", "also bad", "lead", "", "4", "email: Enter a valid email address."],
    ]

    fixed = text.replace("not-an-email", "b@example.com").replace("zombie", "lead")
    fixed = fixed.replace("also bad", "c@example.com")
    job = imports.import_create(
        user=None,
        file=io.BytesIO(fixed.encode()),
        filename="fixed.csv",
        resource="contacts",
        match_key="email",
        enqueue=False,
    )
    job = imports.import_run(job_id=job.pk)
    assert (job.rows_created, job.rows_failed) == (2, 0)
    assert selectors.find_contact_by_email("b@example.com").tags.count() == 2


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"resource": "planets"}, "resource"),
        ({"mode": "merge"}, "mode"),
        ({"match_key": "phone"}, "match_key"),
        ({"resource": "companies", "match_key": "email"}, "match_key"),
        ({"mapping": "{not json"}, "mapping"),
        ({"mapping": json.dumps(["a"])}, "mapping"),
        ({"mapping": json.dumps({"E-mail": "favourite_colour"})}, "mapping"),
        ({"file": upload("x.csv", b"\x00\x01\x02\x03binary" * 50)}, "file"),
        ({"file": upload("empty.csv", b"")}, "file"),
        ({"file": None}, "file"),
        ({"dry_run": "perhaps"}, "dry_run"),
    ],
)
def test_bad_options_are_a_400_and_store_nothing(api, queued, options, field):
    body = {"file": upload(), "resource": "contacts", **options}
    body = {key: value for key, value in body.items() if value is not None}

    response = api.post(IMPORTS, body, format="multipart")

    body = assert_uniform_error(response, 400)
    assert field in body["errors"], body
    assert ImportJob.objects.count() == 0 and queued == []


def test_a_json_body_is_refused_uploads_are_multipart(api):
    response = api.post(IMPORTS, {"resource": "contacts"}, format="json")

    assert assert_uniform_error(response, 415)["code"] == "unsupported_media_type"


def test_uploads_over_the_import_limit_get_413_before_anything_is_read(api, settings):
    settings.IMPORT_MAX_BYTES = 300
    big = "first_name\n" + "A\n" * 400

    response = api.post(IMPORTS, {"file": upload("big.csv", big), "resource": "contacts"})
    preview = api.post(
        f"{IMPORTS}preview/", {"file": upload("big.csv", big), "resource": "contacts"}
    )

    assert assert_uniform_error(response, 413)["code"] == "request_too_large"
    assert preview.status_code == 413
    assert ImportJob.objects.count() == 0


def test_uploads_may_exceed_the_general_api_body_limit(api, settings, queued):
    settings.API_MAX_REQUEST_BYTES = 300
    big = "first_name\n" + "A\n" * 400

    response = api.post(IMPORTS, {"file": upload("big.csv", big), "resource": "contacts"})

    assert response.status_code == 202, response.content


@pytest.mark.parametrize(
    ("scopes", "method", "path"),
    [
        (["imports:read"], "post", ""),
        (["imports:read"], "post", "preview/"),
        (["contacts:read", "contacts:write"], "get", ""),
        (["imports:write"], "get", ""),
        (["imports:write"], "get", "{id}/errors/"),
        (["imports:read"], "post", "{id}/cancel/"),
    ],
)
def test_keys_without_the_imports_scope_are_refused(user, scopes, method, path, queued):
    job = imports.import_create(
        user=user, file=io.BytesIO(PEOPLE.encode()), filename="p.csv", resource="contacts"
    )
    client = client_for(user, scopes)

    response = getattr(client, method)(IMPORTS + path.format(id=job.pk), {}, format="multipart")

    assert assert_uniform_error(response, 403)["code"] == "permission_denied"
    assert ImportJob.objects.count() == 1
    assert ImportJob.objects.get().status == JobStatus.QUEUED


def test_users_without_the_model_permission_are_refused_whatever_the_key():
    client = client_for(UserFactory(), ALL_SCOPES)

    response = client.post(IMPORTS, {"file": upload(), "resource": "contacts"})

    assert assert_uniform_error(response, 403)["message"].startswith("Your user lacks")


def test_users_see_their_own_jobs_and_managers_see_everyones(queued):
    mine, theirs = SalesUserFactory(), SalesUserFactory()
    jobs = {
        owner: imports.import_create(
            user=owner, file=io.BytesIO(PEOPLE.encode()), filename="p.csv", resource="contacts"
        ).pk
        for owner in (mine, theirs)
    }
    manager = client_for(ManagerFactory())

    listed = [job["id"] for job in client_for(mine).get(IMPORTS).json()["results"]]
    other = client_for(mine).get(f"{IMPORTS}{jobs[theirs]}/")
    cancel_other = client_for(mine).post(f"{IMPORTS}{jobs[theirs]}/cancel/")

    assert listed == [jobs[mine]]
    assert other.status_code == 404 and cancel_other.status_code == 404
    assert [job["id"] for job in manager.get(IMPORTS).json()["results"]] == [
        jobs[theirs],
        jobs[mine],
    ]
    assert manager.post(f"{IMPORTS}{jobs[theirs]}/cancel/").status_code == 200


def test_jobs_filter_by_status(api, user, queued):
    for _ in range(2):
        job = imports.import_create(
            user=user, file=io.BytesIO(PEOPLE.encode()), filename="p.csv", resource="contacts"
        )
    imports.import_cancel(job=job)

    response = api.get(IMPORTS, {"status": "cancelled"})

    assert [row["id"] for row in response.json()["results"]] == [job.pk]


def test_the_error_report_shows_the_rows_as_in_the_file_under_its_own_headers(
    api, queued, django_capture_on_commit_callbacks
):
    content = "E-mail,First Name,Lieblingsfarbe\nnot-an-email,Wei,blau\nok@example.com,Ann,rot\n"
    body = {"file": upload("c.csv", content), "resource": "contacts"}
    with django_capture_on_commit_callbacks(execute=True):
        job_id = api.post(IMPORTS, body, format="multipart").json()["id"]
    imports.import_run(job_id=job_id)

    results = api.get(f"{IMPORTS}{job_id}/errors/").json()["results"]
    report = api.get(f"{IMPORTS}{job_id}/errors/", {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(report.streaming_content).decode())))

    assert results[0]["values"] == {
        "E-mail": "not-an-email",
        "First Name": "Wei",
        "Lieblingsfarbe": "blau",  # not imported, but part of the row as the user sent it
    }
    assert rows[0] == ["E-mail", "First Name", "Lieblingsfarbe", "import row", "import errors"]
    assert rows[1][:4] == ["not-an-email", "Wei", "blau", "2"]


def test_the_job_shows_rows_left_unchanged(api, queued, django_capture_on_commit_callbacks):
    content = "external_id,first_name\ne1,A\ne2,B\n"
    job_ids = []
    for name in ("first.csv", "again.csv"):
        body = {"file": upload(name, content), "resource": "contacts"}
        with django_capture_on_commit_callbacks(execute=True):
            job_ids.append(api.post(IMPORTS, body, format="multipart").json()["id"])
        imports.import_run(job_id=job_ids[-1])

    again = api.get(f"{IMPORTS}{job_ids[1]}/").json()

    assert (again["rows_created"], again["rows_updated"], again["rows_unchanged"]) == (0, 0, 2)
    assert again["status"] == "succeeded"


def test_create_related_is_off_unless_asked_and_the_job_lists_the_companies_it_created(
    api, queued, django_capture_on_commit_callbacks
):
    salesforce = "First Name,Account Name\nWei,Company 0\nAnn,COMPANY 0\n"

    def post(**options):
        body = {"file": upload("sf.csv", salesforce), "resource": "contacts", **options}
        with django_capture_on_commit_callbacks(execute=True):
            response = api.post(IMPORTS, body, format="multipart")
        imports.import_run(job_id=response.json()["id"])
        return api.get(response["Location"]).json()

    plain = post()
    job = post(create_related="true")

    assert (plain["create_related"], plain["rows_failed"], plain["companies_created"]) == (
        False,
        2,
        0,
    )
    assert (job["create_related"], job["rows_created"], job["companies_created"]) == (True, 2, 1)
    listed = api.get(job["links"]["related"]).json()["results"]
    company = Company.objects.get()
    assert listed == [{"entity": "company", "id": company.pk, "row": 2, "name": "Company 0"}]


@pytest.mark.parametrize(
    ("scopes", "may_add_companies"),
    [
        ([scope for scope in ALL_SCOPES if scope != "companies:write"], True),
        (ALL_SCOPES, False),
    ],
    ids=["key without companies:write", "user who may not add companies"],
)
def test_create_related_needs_what_creating_companies_needs_and_stores_nothing(
    user, queued, scopes, may_add_companies
):
    if not may_add_companies:
        user.groups.clear()
        user.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=["customers", "integrations"]
            ).exclude(codename="add_company")
        )
    body = {"file": upload(), "resource": "contacts", "create_related": "true"}

    response = client_for(user, scopes=scopes).post(IMPORTS, body, format="multipart")

    assert "create_related" in assert_uniform_error(response, 400)["errors"]
    assert ImportJob.objects.count() == 0
    assert queued == []


def test_create_related_for_deals_also_needs_the_right_to_add_contacts():
    user = SalesUserFactory()
    user.groups.clear()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="customers").exclude(
            codename="add_contact"
        )
    )

    assert imports.can_create_related(user, "contacts")
    assert not imports.can_create_related(user, "deals")
