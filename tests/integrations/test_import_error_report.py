"""The import error report shows each rejected row as it was in the file: the file's own
columns in the file's order, in its delimiter, one line per row, then `import row` and
`import errors` last; a column the row lacked is blank. The JSON and XML report keep their
shape (one entry per problem) with the file's column names, in the file's order."""

import csv
import io

import pytest

from customers import selectors
from integrations.imports import services as imports
from integrations.imports.reports import import_error_report_csv
from tests.integrations.support import client_for, run_import

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

BOM = "\ufeff"


def report(job, *, bom: bool = False, can_view_pii: bool = True) -> str:
    return b"".join(import_error_report_csv(job=job, can_view_pii=can_view_pii, bom=bom)).decode()


def rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.removeprefix(BOM)), delimiter=delimiter))


def test_the_report_has_the_files_columns_in_the_files_order_then_ours():
    job = run_import(
        "Lieblingsfarbe,E-mail,Tags,First Name\n"
        "blau,ok@example.com,,Wei\n"
        "rot,not-an-email,vip|北京,Na\n"
    )

    assert rows(report(job)) == [
        ["Lieblingsfarbe", "E-mail", "Tags", "First Name", "import row", "import errors"],
        ["rot", "not-an-email", "vip|北京", "Na", "3", "email: Enter a valid email address."],
    ]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_the_report_is_written_in_the_files_delimiter(delimiter):
    content = delimiter.join(["first_name", "email", "notes"]) + "\n"
    content += delimiter.join(["Wei", "not-an-email", "a, b"]) + "\n"
    job = run_import(content.encode("gb18030"))
    assert job.delimiter == delimiter

    text = report(job)

    assert text.splitlines()[0] == delimiter.join(
        ["first_name", "email", "notes", "import row", "import errors"]
    )
    assert rows(text, delimiter)[1] == [
        "Wei",
        "not-an-email",
        "a, b",
        "2",
        "email: Enter a valid email address.",
    ]


def test_a_row_with_several_problems_is_one_line_listing_them_all():
    job = run_import("first_name,email,lifecycle_stage\nB,bad,zombie\nC,c@example.com,lead\n")

    (header, line) = rows(report(job))

    assert line[:4] == ["B", "bad", "zombie", "2"]
    assert line[4].split("; ") == [
        "email: Enter a valid email address.",
        "lifecycle_stage: Value 'zombie' is not a valid choice.",
    ]


def test_a_json_record_without_a_column_the_file_had_is_blank_there():
    job = run_import(
        '[{"first_name": "A", "title": "CEO", "email": "bad"},'
        ' {"email": "also bad", "first_name": "B", "notes": "n"}]',
        filename="people.json",
    )

    assert rows(report(job)) == [
        ["first_name", "title", "email", "notes", "import row", "import errors"],
        ["A", "CEO", "bad", "", "1", "email: Enter a valid email address."],
        ["B", "", "also bad", "n", "2", "email: Enter a valid email address."],
    ]


def test_an_unreadable_row_keeps_the_files_columns_blank():
    job = run_import('first_name,email\n"A"x,a@example.com\n')
    assert job.rows_failed == 1

    (header, line) = rows(report(job))

    assert header == ["first_name", "email", "import row", "import errors"]
    assert line[:3] == ["", "", "2"] and "cannot be read" in line[3]


def test_a_file_column_named_like_ours_keeps_its_name_and_ours_step_aside():
    job = run_import("import row,email\n7,bad\n")

    assert rows(report(job))[0] == ["import row", "email", "import row (2)", "import errors"]


def test_the_report_masks_pii_for_a_reader_without_pii_rights_and_keeps_the_shape():
    job = run_import(b"Notes;E-mail;Mobile;Lifecycle\nkept;m.li@example.org;13912345678;zombie\n")

    (header, line) = rows(report(job, can_view_pii=False), ";")

    assert header == ["Notes", "E-mail", "Mobile", "Lifecycle", "import row", "import errors"]
    assert line[:5] == ["kept", "m***@example.org", "'+86 *** **** 5678", "zombie", "2"]


def test_a_deals_contact_email_column_is_masked_for_a_reader_without_pii_rights():
    job = run_import(
        "Deal Name,Contact Email,Amount\nPilot,buyer@example.com,lots\n",
        resource="deals",
        filename="deals.csv",
    )

    (header, line) = rows(report(job, can_view_pii=False))

    assert header[:3] == ["Deal Name", "Contact Email", "Amount"]
    assert line[:3] == ["Pilot", "b***@example.com", "lots"]


def test_a_corrected_report_imports_as_it_is():
    job = run_import(
        "名;邮箱;标签\n伟;not-an-email;vip|北京\n娜;na@example.com;\n".encode("gb18030")
    )
    assert (job.rows_created, job.rows_failed) == (1, 1)
    text = report(job, bom=True)
    assert text.startswith(BOM)

    fixed = imports.import_create(
        user=None,
        file=io.BytesIO(text.replace("not-an-email", "wei@example.com").encode()),
        filename="fixed.csv",
        resource="contacts",
        match_key="email",
        enqueue=False,
    )
    fixed = imports.import_run(job_id=fixed.pk)

    assert (fixed.rows_created, fixed.rows_failed) == (1, 0)
    wei = selectors.find_contact_by_email("wei@example.com")
    assert wei.first_name == "伟"  # the first column, after the BOM
    assert sorted(tag.name for tag in wei.tags.all()) == ["vip", "北京"]


def test_the_json_report_names_values_by_the_files_columns_in_its_order(sales_user_api):
    api, user = sales_user_api
    job = imports.import_create(
        user=user,
        file=io.BytesIO(b"Zeta,E-mail,Alpha\nz,bad,a\n"),
        filename="p.csv",
        resource="contacts",
        enqueue=False,
    )
    imports.import_run(job_id=job.pk)

    (problem,) = api.get(f"/api/v1/imports/{job.pk}/errors/").json()["results"]

    assert list(problem["values"].items()) == [("Zeta", "z"), ("E-mail", "bad"), ("Alpha", "a")]
    assert (problem["row"], problem["field"]) == (2, "email")


@pytest.fixture
def sales_user_api(db):
    from tests.factories import SalesUserFactory

    user = SalesUserFactory()
    return client_for(user), user


def test_a_deals_contact_email_in_a_row_rejected_for_another_column_is_masked_too():
    job = run_import(
        "Deal Name,Amount,Contact Email\nExpansion,not a number,wei.zhang@example.com\n",
        resource="deals",
        filename="deals.csv",
    )
    assert job.rows_failed == 1

    (header, line) = rows(report(job, can_view_pii=False))

    assert header[:3] == ["Deal Name", "Amount", "Contact Email"]
    assert line[:3] == ["Expansion", "not a number", "w***@example.com"]
