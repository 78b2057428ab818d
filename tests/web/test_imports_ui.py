"""The import wizard: upload, preview with the detected encoding and format, column mapping
pre-filled from the headers, dry run, import, the job page (htmx progress, cancel, error
report). Jobs are run by calling the service the worker calls; the browser test runs them on a
real worker."""

import csv
import io
import os
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation

from customers.actors import SYSTEM
from customers.models import Contact, CustomField
from customers.services.custom_fields import custom_field_create
from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from tests.factories import ManagerFactory, SalesUserFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads and job files of these tests in a folder of their own."""
    settings.MEDIA_ROOT = tmp_path / "media"


CHINESE_CSV = (
    "姓,名,电子邮件,手机\n"
    "张,伟,zhang.wei@example.cn,+86 138 0000 0001\n"
    "李,娜,li.na@example.cn,+86 138 0000 0002\n"
)


def upload(client, content: bytes, *, name="people.csv", resource="contacts", format=""):
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    data = {"file": file, "resource": resource, "format": format}
    return client.post(reverse("web:import-new"), data)


def map_url(response) -> str:
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def start(client, map_page: str, action: str = "run", **overrides):
    """Submit the mapping step as the page proposes it (its pre-selected options)."""
    form = client.get(map_page).context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({"mode": "upsert", "match_key": "email", "action": action, **overrides})
    data = {name: value for name, value in data.items() if value is not False}
    return client.post(map_page, data)


def test_anonymous_users_go_to_the_login_page(client):
    response = client.get(reverse("web:import-new"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_a_user_without_the_import_permission_gets_403(client):
    client.force_login(UserFactory())
    assert client.get(reverse("web:import-new")).status_code == 403


def test_upload_page_has_labelled_fields_and_csrf(sales_client):
    body = sales_client.get(reverse("web:import-new")).content.decode()
    assert 'for="id_file"' in body and 'for="id_resource"' in body
    assert 'enctype="multipart/form-data"' in body
    assert "csrfmiddlewaretoken" in body


def test_preview_shows_the_detected_encoding_and_maps_chinese_headers(sales_client):
    page = sales_client.get(map_url(upload(sales_client, CHINESE_CSV.encode("gb18030"))))
    body = page.content.decode()
    assert page.status_code == 200
    assert page.context["preview"].encoding.lower() in {"gb18030", "gbk"}
    assert "CSV" in body and "张" in body and "zhang.wei@example.cn" in body
    form = page.context["form"]
    proposed = {field.label: field.value() for field in form.column_fields}
    assert proposed == {"姓": "last_name", "名": "first_name", "电子邮件": "email", "手机": "phone"}


def test_custom_field_headers_are_proposed_by_label(sales_client):
    custom_field_create(actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text")
    content = b"first_name,Tier\nWei,gold\n"
    form = sales_client.get(map_url(upload(sales_client, content))).context["form"]
    assert [field.value() for field in form.column_fields] == ["first_name", "custom_fields.tier"]


def test_an_unreadable_file_is_refused_at_upload_and_nothing_is_kept(sales_client):
    response = upload(sales_client, b"\x00\x01binary\xff")
    assert response.status_code == 422
    assert "binary" in str(response.context["form"].errors["file"])
    assert 'role="alert"' in response.content.decode()
    assert not sales_client.session.get("crm_import_drafts")


def test_two_columns_for_one_field_are_refused_and_no_job_is_created(sales_client):
    page = map_url(upload(sales_client, CHINESE_CSV.encode()))
    response = start(sales_client, page, column_0="email")  # 姓 and 电子邮件 both → email
    assert response.status_code == 422
    assert response.context["form"].errors["column_0"]
    assert ImportJob.objects.count() == 0


def test_import_creates_a_job_with_the_chosen_mapping_and_drops_the_upload(sales_client):
    page = map_url(upload(sales_client, CHINESE_CSV.encode()))
    draft = next(iter(sales_client.session["crm_import_drafts"].values()))
    response = start(sales_client, page, column_3="")  # leave the phone column out

    job = ImportJob.objects.get()
    assert response["Location"] == reverse("web:import-detail", args=[job.pk])
    assert job.mapping == {"姓": "last_name", "名": "first_name", "电子邮件": "email", "手机": None}
    assert (job.dry_run, job.match_key, job.status) == (False, "email", JobStatus.QUEUED)
    assert not default_storage.exists(draft["path"])

    imports.import_run(job_id=job.pk)  # what the worker does
    assert sorted(Contact.objects.values_list("last_name", flat=True)) == ["张", "李"]
    assert not any(contact.phone for contact in Contact.objects.all())
    page = sales_client.get(reverse("web:import-detail", args=[job.pk]))
    assert page.context["job"].percent_done == 100.0
    assert 'value="100' in page.content.decode()


def test_a_dry_run_saves_nothing_and_can_then_run_for_real(sales_client):
    page = map_url(upload(sales_client, CHINESE_CSV.encode()))
    start(sales_client, page, action="dry_run")
    dry_run = ImportJob.objects.get()
    assert dry_run.dry_run
    imports.import_run(job_id=dry_run.pk)
    assert Contact.objects.count() == 0
    body = sales_client.get(reverse("web:import-detail", args=[dry_run.pk])).content.decode()
    assert reverse("web:import-run", args=[dry_run.pk]) in body

    response = sales_client.post(reverse("web:import-run", args=[dry_run.pk]))
    real = ImportJob.objects.exclude(pk=dry_run.pk).get()
    assert response["Location"] == reverse("web:import-detail", args=[real.pk])
    assert (real.dry_run, real.mapping, real.mode) == (False, dry_run.mapping, dry_run.mode)
    imports.import_run(job_id=real.pk)
    assert Contact.objects.count() == 2


def test_only_a_finished_dry_run_can_be_run_for_real(sales_client, sales_user):
    job = _job(sales_user)  # a queued real import
    response = sales_client.post(reverse("web:import-run", args=[job.pk]))
    assert response.status_code == 302
    assert ImportJob.objects.count() == 1


def test_htmx_polls_the_progress_panel_until_the_job_finishes(sales_client, sales_user):
    job = _job(sales_user)
    url = reverse("web:import-detail", args=[job.pk])
    panel = sales_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in panel
    assert 'hx-trigger="every 1s"' in panel and f'hx-get="{url}"' in panel

    imports.import_run(job_id=job.pk)
    panel = sales_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "hx-trigger" not in panel
    assert 'data-status="succeeded"' in panel


def test_a_queued_job_can_be_cancelled_from_its_page(sales_client, sales_user):
    job = _job(sales_user)
    response = sales_client.post(reverse("web:import-cancel", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    imports.import_run(job_id=job.pk)
    assert Contact.objects.count() == 0


def test_cancel_and_run_are_posts_only(sales_client, sales_user):
    job = _job(sales_user)
    assert sales_client.get(reverse("web:import-cancel", args=[job.pk])).status_code == 405
    assert sales_client.get(reverse("web:import-run", args=[job.pk])).status_code == 405


def test_someone_elses_job_is_not_found_but_a_manager_sees_it(client, sales_user):
    job = _job(sales_user)
    url = reverse("web:import-detail", args=[job.pk])
    client.force_login(SalesUserFactory(username="colleague"))
    assert client.get(url).status_code == 404
    assert client.post(reverse("web:import-cancel", args=[job.pk])).status_code == 404
    client.force_login(ManagerFactory(username="boss"))
    assert client.get(url).status_code == 200


def test_the_error_report_lists_each_rejected_row(sales_client, sales_user):
    content = b"external_id,first_name,email\nx1,Wei,wei@example.com\nx2,Na,not-an-email\n"
    job = _job(sales_user, content)
    imports.import_run(job_id=job.pk)
    page = sales_client.get(reverse("web:import-detail", args=[job.pk]))
    # Rows are numbered as the file's lines, the header being line 1.
    assert [problem.row_number for problem in page.context["row_errors"]] == [3]
    assert reverse("web:import-errors", args=[job.pk]) in page.content.decode()

    response = sales_client.get(reverse("web:import-errors", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    data = b"".join(response.streaming_content)
    assert data.startswith(b"\xef\xbb\xbf")  # a person's file: Excel reads Chinese with it
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        {
            "external_id": "x2",
            "first_name": "Na",
            "email": "not-an-email",
            "import row": "3",
            "import errors": "email: Enter a valid email address.",
        }
    ]


def test_the_upload_page_lists_my_recent_imports_only(sales_client, sales_user):
    mine = _job(sales_user, filename="mine.csv")
    _job(SalesUserFactory(username="other"), filename="theirs.csv")
    body = sales_client.get(reverse("web:import-new")).content.decode()
    assert "mine.csv" in body and reverse("web:import-detail", args=[mine.pk]) in body
    assert "theirs.csv" not in body


def test_custom_field_choices_appear_in_the_mapping(sales_client):
    custom_field_create(actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text")
    custom_field_create(actor=SYSTEM, entity="company", name="region", label="Region", type="text")
    form = sales_client.get(map_url(upload(sales_client, b"a\n1\n"))).context["form"]
    targets = [value for value, _label in form.fields["column_0"].choices]
    assert "custom_fields.tier" in targets and "custom_fields.region" not in targets
    assert CustomField.objects.count() == 2


def _job(user, content: bytes = CHINESE_CSV.encode(), filename: str = "people.csv"):
    return imports.import_create(
        user=user,
        file=io.BytesIO(content),
        filename=filename,
        resource="contacts",
        match_key="email",
        enqueue=False,
    )


@pytest.mark.parametrize("name", ["web:import-new"])
def test_the_wizard_speaks_chinese(sales_client, name):
    with translation.override("zh-hans"):
        heading = translation.gettext("Import records")
        hint = translation.gettext("Detect from the file")
    assert heading != "Import records"
    body = sales_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert heading in body and hint in body


def test_uploads_abandoned_in_the_wizard_are_deleted_a_day_later(sales_client):
    map_url(upload(sales_client, CHINESE_CSV.encode()))
    old = next(iter(sales_client.session["crm_import_drafts"].values()))["path"]
    map_url(upload(sales_client, CHINESE_CSV.encode()))
    fresh = list(sales_client.session["crm_import_drafts"].values())[-1]["path"]
    assert default_storage.exists(old)

    two_days_ago = (timezone.now() - timedelta(days=2)).timestamp()
    os.utime(default_storage.path(old), (two_days_ago, two_days_ago))
    colleague = Client()
    colleague.force_login(SalesUserFactory(username="colleague"))
    map_url(upload(colleague, CHINESE_CSV.encode()))  # anyone's next upload tidies up
    assert not default_storage.exists(old)
    assert default_storage.exists(fresh)


def test_my_recent_imports_cost_the_same_queries_however_many(sales_client, sales_user):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert sales_client.get(reverse("web:import-new")).status_code == 200
        return len(captured)

    _job(sales_user)
    one = queries()
    for _n in range(6):
        _job(sales_user)
    assert queries() == one


def submit_as_proposed(client, map_page: str):
    """Press "Import" without touching anything: the page's own pre-selected options."""
    form = client.get(map_page).context["form"]
    data = {name: form[name].value() for name in form.fields}
    data = {name: value for name, value in data.items() if value not in (False, None)}
    response = client.post(map_page, {**data, "action": "run"})
    assert response.status_code == 302, response.content.decode()[:2000]
    job = ImportJob.objects.latest("pk")
    return imports.import_run(job_id=job.pk)


def test_a_file_without_an_external_id_column_is_matched_by_email_and_reuploads_cleanly(
    sales_client,
):
    spreadsheet = "First Name,Email\n" + "".join(f"P{n},p{n}@example.com\n" for n in range(200))

    page = map_url(upload(sales_client, spreadsheet.encode()))
    response = sales_client.get(page)
    first = submit_as_proposed(sales_client, page)
    again = submit_as_proposed(sales_client, map_url(upload(sales_client, spreadsheet.encode())))

    assert response.context["form"]["match_key"].value() == "email"
    assert "matched by email: no column holds an external id" in response.content.decode()
    assert (first.match_key, first.rows_created) == ("email", 200)
    assert (again.rows_unchanged, again.rows_failed, again.rows_created) == (200, 0, 0)


def test_a_file_with_an_external_id_column_is_matched_by_it_and_the_page_says_so(sales_client):
    content = "Record ID,First Name,Email\nh-1,A,a@example.com\n"

    response = sales_client.get(map_url(upload(sales_client, content.encode())))

    assert response.context["form"]["match_key"].value() == "external_id"
    body = response.content.decode()
    assert "matched by external id: the column “Record ID” holds it" in body


def test_email_is_not_proposed_to_a_user_who_may_not_look_people_up_by_it(no_pii_client):
    response = no_pii_client.get(map_url(upload(no_pii_client, b"Name,Email\nA,a@example.com\n")))

    assert response.context["form"]["match_key"].value() == "external_id"
    assert "needs the right to read personal data" in response.content.decode()


def test_the_match_key_sentence_is_translated(sales_client):
    page = map_url(upload(sales_client, b"First Name,Email\nA,a@example.com\n"))

    body = sales_client.get(page, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "按电子邮件匹配" in body


def test_a_file_naming_companies_ticks_create_related_and_the_job_page_lists_them(sales_client):
    salesforce = "First Name,Last Name,Account Name,Email\nWei,Zhang,Company 0,w@example.cn\n"
    plain = sales_client.get(map_url(upload(sales_client, b"First Name\nA\n"))).context["form"]

    page = map_url(upload(sales_client, salesforce.encode()))
    form = sales_client.get(page).context["form"]
    job = submit_as_proposed(sales_client, page)
    body = sales_client.get(reverse("web:import-detail", args=[job.pk])).content.decode()

    assert plain["create_related"].value() is False and form["create_related"].value() is True
    assert (job.create_related, job.rows_created, job.companies_created) == (True, 1, 1)
    assert 'data-count="companies-created">1<' in body
    assert ">Company 0</a>" in body
