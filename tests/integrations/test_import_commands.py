"""`import_data` and `export_data`: the command-line doors of bulk imports and exports."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from customers import selectors
from customers.models import Contact
from integrations.formats import open_reader
from integrations.models import ImportJob, JobStatus
from tests.factories import ContactFactory, SalesUserFactory

pytestmark = pytest.mark.django_db

PEOPLE = "first_name,email,tags\nWei,wei@example.cn,vip|北京\nAnn,ann@example.com,\n"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def people_csv(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text(PEOPLE, encoding="utf-8")
    return path


def import_data(*args, **options) -> str:
    """Run the command; return what it wrote to stderr."""
    stderr = io.StringIO()
    call_command("import_data", *map(str, args), stderr=stderr, stdout=io.StringIO(), **options)
    return stderr.getvalue()


def export_data(*args) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("export_data", *args, stdout=stdout, stderr=stderr)
    return stdout.getvalue(), stderr.getvalue()


# import_data


def test_import_data_runs_the_import_here_and_sums_it_up(people_csv):
    output = import_data(people_csv, "--resource", "contacts", "--match", "email")

    assert "2 created, 0 updated, 0 unchanged, 0 skipped, 0 failed of 2 (succeeded" in output
    assert "100.0%" in output  # the progress bar's last state
    job = ImportJob.objects.get()
    assert (job.status, job.match_key, job.original_filename) == (
        JobStatus.SUCCEEDED,
        "email",
        "people.csv",
    )
    wei = selectors.find_contact_by_email("wei@example.cn")
    assert sorted(wei.tags.values_list("name", flat=True)) == ["vip", "北京"]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_progress_bar_is_redrawn_after_each_chunk(settings, tmp_path):
    settings.IMPORT_CHUNK_SIZE = 2
    many = tmp_path / "many.csv"
    many.write_text("first_name\n" + "".join(f"P{n}\n" for n in range(5)), encoding="utf-8")
    terminal = Terminal()

    call_command("import_data", str(many), "--resource=contacts", stderr=terminal)

    bar = terminal.getvalue().split("\n")[0]
    assert bar.count("\r") == 3  # chunks of 2, 2 and 1 rows
    assert bar.endswith("[##############################] 100.0%  5/5 rows")
    assert " 40.0%  2/5 rows" in bar and " 80.0%  4/5 rows" in bar
    assert Contact.objects.count() == 5


def test_options_reach_the_job(people_csv, tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"first_name": "last_name"}), encoding="utf-8")
    user = SalesUserFactory(username="li")

    import_data(
        people_csv,
        "--resource=contacts",
        "--format=csv",
        "--mode=insert",
        f"--mapping={mapping}",
        "--user=li",
    )

    job = ImportJob.objects.get()
    assert (job.mode, job.mapping, job.created_by, job.format) == (
        "insert",
        {"first_name": "last_name"},
        user,
        "csv",
    )
    assert Contact.objects.filter(last_name="Wei").exists()


def test_a_dry_run_writes_nothing(people_csv):
    output = import_data(people_csv, "--resource", "contacts", "--dry-run")

    assert "Dry run: would have 2 created" in output
    assert Contact.objects.count() == 0


def test_rejected_rows_are_listed_and_exit_with_status_2(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("first_name,email\nA,a@example.com\nB,not-an-email\n", encoding="utf-8")
    stderr = io.StringIO()

    with pytest.raises(CommandError) as excinfo:
        call_command("import_data", str(path), "--resource", "contacts", stderr=stderr)

    assert excinfo.value.returncode == 2
    assert "row 3: email: Enter a valid email address." in stderr.getvalue()
    assert Contact.objects.count() == 1


def test_unchanged_and_skipped_rows_are_not_reported_as_rejected(people_csv):
    import_data(people_csv, "--resource", "contacts", "--match", "email")
    people_csv.write_text(PEOPLE + "Li,li@example.cn,\n", encoding="utf-8")

    output = import_data(
        people_csv, "--resource", "contacts", "--match", "email", "--mode", "update"
    )  # no CommandError: exit status 0

    assert "0 created, 0 updated, 2 unchanged, 1 skipped, 0 failed of 3" in output
    assert "rejected" not in output
    assert Contact.objects.count() == 2


def test_a_failed_job_exits_with_status_1(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("first_name,email\nA,a@example.com\nB,not-an-email\n", encoding="utf-8")

    with pytest.raises(CommandError) as excinfo:
        import_data(path, "--resource", "contacts", "--all-or-nothing")

    assert excinfo.value.returncode == 1
    assert "failed" in str(excinfo.value) and "nothing was imported" in str(excinfo.value)
    assert Contact.objects.count() == 0


@pytest.mark.parametrize(
    ("content", "options", "message"),
    [
        (b"\x00\x01\x02binary" * 50, [], "file:"),
        (PEOPLE.encode(), ["--resource=companies", "--match=email"], "match_key:"),
    ],
)
def test_bad_input_stores_no_job_and_says_why(tmp_path, content, options, message):
    path = tmp_path / "in.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=message) as excinfo:
        import_data(path, *(options or ["--resource=contacts"]))

    assert excinfo.value.returncode == 1
    assert ImportJob.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv", "--resource=contacts"], "No such file"),
        (["{people}", "--resource=contacts", "--mapping=nope.json"], "No such mapping file"),
        (["{people}", "--resource=contacts", "--user=nobody"], "No user named"),
    ],
)
def test_missing_files_and_users_are_reported(people_csv, args, message):
    args = [arg.format(people=people_csv) for arg in args]

    with pytest.raises(CommandError, match=message):
        import_data(*args)

    assert ImportJob.objects.count() == 0


# export_data


@pytest.fixture
def contacts():
    ContactFactory(first_name="伟", email="wei@example.cn", lifecycle_stage="lead", tags=["vip"])
    ContactFactory(first_name="Ann", email="ann@example.com", lifecycle_stage="customer")
    ContactFactory(first_name="Bo", email="bo@example.com", lifecycle_stage="churned")


def parse(text: str, format: str) -> list[dict]:
    with open_reader(io.BytesIO(text.encode()), format=format) as reader:
        return [record.values for record in reader]


@pytest.mark.parametrize("format", ["csv", "json", "xml"])
def test_export_data_streams_to_stdout(contacts, format):
    output, notes = export_data("--resource=contacts", f"--format={format}")

    rows = parse(output, format)
    assert [(row["first_name"], row["email"]) for row in rows] == [
        ("伟", "wei@example.cn"),
        ("Ann", "ann@example.com"),
        ("Bo", "bo@example.com"),
    ]
    assert notes.strip() == "Exported 3 contacts."


def test_repeated_filters_take_several_values_and_no_pii_masks(contacts):
    output, _ = export_data(
        "--resource=contacts",
        "--format=json",
        "--filter",
        "lifecycle_stage=lead",
        "--filter",
        "lifecycle_stage=customer",
        "--no-pii",
    )

    assert [(row["first_name"], row["email"]) for row in json.loads(output)] == [
        ("伟", "w***@example.cn"),
        ("Ann", "a***@example.com"),
    ]


def test_export_data_writes_a_file_that_imports_back(contacts, tmp_path):
    path = tmp_path / "out.xml"

    output, _ = export_data("--resource=contacts", "--format=xml", f"--output={path}")
    import_data(path, "--resource=contacts")

    assert output == ""
    assert path.read_bytes().startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    job = ImportJob.objects.get()
    assert (job.rows_unchanged, job.rows_updated, job.rows_created) == (3, 0, 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--filter", "tag"], "NAME=VALUE"),
        (["--filter", "planet=mars"], "filters.planet: Unknown filter."),
        (["--filter", "lifecycle_stage=zombie"], "filters.lifecycle_stage"),
    ],
)
def test_bad_filters_are_reported(contacts, args, message):
    with pytest.raises(CommandError, match=message):
        export_data("--resource=contacts", "--format=csv", *args)
