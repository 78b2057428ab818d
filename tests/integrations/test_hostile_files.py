"""Small hostile import files: each costs bounded memory and time, a bad record is that row's
error, and a file that cannot be read as a whole writes nothing."""

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Contact
from integrations.imports import services as imports
from integrations.models import ImportRowError, JobStatus
from tests.factories import SalesUserFactory
from tests.integrations.support import client_for, run_import

pytestmark = pytest.mark.slow  # each file is read in a fresh process, to measure its memory

MEMORY_BOUND_MB = 100
TIME_BOUND_SECONDS = 10  # each case takes well under a second here; the margin is for load


def nested_json(size: int) -> bytes:
    """`{"first_name": [[[…]]]}` filling `size` bytes, then a good record."""
    depth = (size - 60) // 2
    nested = "[" * depth + "]" * depth
    return f'[{{"first_name": {nested}}}, {{"first_name": "Ana"}}]'.encode()


HOSTILE = {
    # 15,000 levels: a web worker went from ~270 MB to 615 MB reading the first record
    "nested-json-30KB": lambda: nested_json(30_000),
    # 200,000 levels: a worker went to 14 GB (memory grew with the square of the depth)
    "nested-json-400KB": lambda: nested_json(400_000),
    "nested-xml-15000": lambda: (
        b"<root><contact>" + b"<a>" * 15_000 + b"</a>" * 15_000 + b"</contact></root>"
    ),
    # 2,000,000 empty elements in one record: each costs ~60 times its 4 bytes as an object
    "wide-xml-record": lambda: b"<root><contact>" + b"<a/>" * 2_000_000 + b"</contact></root>",
    # a header of 100,000 columns
    "csv-100000-columns": lambda: ",".join(f"c{i}" for i in range(100_000)).encode() + b"\n",
    # one 30 MB line: the csv module reads a line whole, and made a list of its cells
    "csv-endless-line": lambda: b"first_name,email\n" + b"," * 30_000_000,
}

READ_IN_A_CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, time
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))  # a runaway stops at 2 GB
    import django
    django.setup()
    from integrations.formats import FormatError, open_reader
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        with open_reader(sys.argv[1]) as reader:
            outcome = [record.error for record in reader]
    except FormatError as error:
        outcome = str(error)
    except MemoryError:
        outcome = "MemoryError"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": time.perf_counter() - start,
                      "megabytes": (peak - before) / 1024, "outcome": outcome}))
    """
)


def read_in_a_child(path: Path) -> dict:
    """Reads `path` in a fresh process: its peak memory (RSS, less what Django's start took)
    and time, and what the reader said."""
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm_project.settings"}
    finished = subprocess.run(
        [sys.executable, "-c", READ_IN_A_CHILD, str(path)],
        cwd=django_settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode == 0, finished.stderr[-2000:]  # a crash is a failure too
    return json.loads(finished.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(HOSTILE))
def test_a_hostile_file_is_read_in_bounded_memory_and_time(name, tmp_path):
    path = tmp_path / f"{name}.{next(kind for kind in ('json', 'xml', 'csv') if kind in name)}"
    path.write_bytes(HOSTILE[name]())

    measured = read_in_a_child(path)

    assert measured["outcome"] != "MemoryError"
    assert measured["megabytes"] < MEMORY_BOUND_MB, measured
    assert measured["seconds"] < TIME_BOUND_SECONDS, measured
    if isinstance(measured["outcome"], list):  # what was read: the bad record as its error
        assert measured["outcome"][0], measured


@pytest.mark.django_db
class TestImports:
    @pytest.fixture(autouse=True)
    def media_in_tmp(self, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path

    def problems(self, job):
        return list(
            ImportRowError.objects.filter(job=job)
            .order_by("row_number")
            .values_list("row_number", "field", "message")
        )

    def test_a_too_deep_record_is_one_row_error_and_the_other_rows_import(self):
        nested = "[" * 5_000 + "]" * 5_000
        body = (
            '[{"first_name": "Ana", "email": "ana@example.com"},'
            f' {{"first_name": {nested}, "email": "x@example.com"}},'
            ' {"first_name": "Ben", "email": "ben@example.com"}]'
        )

        job = run_import(body, filename="contacts.json")

        assert (job.status, job.rows_created, job.rows_failed) == (
            JobStatus.PARTIALLY_SUCCEEDED,
            2,
            1,
        )
        assert self.problems(job) == [(2, "", "Record 2 is nested more than 32 levels deep.")]
        assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Ana", "Ben"]

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ({"given": "Ana"}, "Expected text or a number, not an object."),
            (["Ana", "Maria"], "Expected text or a number, not a list."),
            ({"id": {"x": 1}}, "Expected text or a number, not an object."),
        ],
        ids=["object", "list", "object-under-id"],
    )
    def test_an_object_or_list_where_one_value_belongs_is_that_fields_row_error(
        self, value, message
    ):
        body = json.dumps(
            [
                {"first_name": "Ana", "email": "ana@example.com"},
                {"first_name": value, "email": "x@example.com"},
                {"first_name": "Ben", "email": "ben@example.com", "tags": ["vip"]},
            ]
        )

        job = run_import(body, filename="contacts.json")

        assert (job.rows_created, job.rows_failed) == (2, 1)
        assert self.problems(job) == [(2, "first_name", message)]
        assert sorted(Contact.objects.values_list("first_name", flat=True)) == ["Ana", "Ben"]

    def test_an_xml_element_with_children_where_one_value_belongs_is_a_row_error(self):
        body = (
            "<root><contact><first_name><given>Ana</given></first_name></contact>"
            "<contact><first_name>Ben</first_name></contact></root>"
        )

        job = run_import(body, filename="contacts.xml")

        assert self.problems(job) == [
            (1, "first_name", "Expected text or a number, not an object.")
        ]
        assert list(Contact.objects.values_list("first_name", flat=True)) == ["Ben"]

    def test_tags_holding_objects_are_a_row_error(self):
        body = json.dumps([{"first_name": "Ana", "tags": [{"name": "vip"}]}])

        job = run_import(body, filename="contacts.json")

        assert self.problems(job) == [
            (1, "tags", "Each tag must be a name, not an object or a list.")
        ]
        assert Contact.objects.count() == 0

    def test_a_csv_quote_open_to_the_end_is_refused_with_the_file_and_writes_nothing(self):
        before = Contact.objects.count()

        with pytest.raises(ValidationError) as refused:
            run_import('first_name,email\n"unterminated,a@b.co\nx,y,z,w\n')

        assert "is not closed before the end of the file" in refused.value.message_dict["file"][0]
        assert Contact.objects.count() == before

    def test_a_csv_quote_open_to_the_end_past_the_first_chunk_fails_the_job_writing_nothing(
        self, settings
    ):
        settings.IMPORT_CHUNK_SIZE = 5
        good = "".join(f"N{n},n{n}@example.com\n" for n in range(30))

        job = run_import(f'first_name,email\n{good}"unterminated,a@b.co\nx,y\n')

        assert job.status == JobStatus.FAILED
        assert "row 32 (line 32) is not closed before the end of the file" in job.error_message
        assert Contact.objects.count() == 0

    def test_a_preview_whose_first_record_is_too_deep_shows_its_error_and_maps_the_next(self):
        preview = imports.import_preview(file=io.BytesIO(nested_json(30_000)), resource="contacts")

        assert preview.errors == ["Record 1 is nested more than 32 levels deep."]
        assert preview.rows == [{}, {"first_name": "Ana"}]
        assert preview.headers == ["first_name"]
        assert preview.mapping.targets == {"first_name": "first_name"}

    def test_a_preview_of_a_csv_header_too_wide_is_a_file_error(self):
        header = ",".join(f"c{i}" for i in range(100_000))

        with pytest.raises(ValidationError) as refused:
            imports.import_preview(file=io.BytesIO(f"{header}\nx\n".encode()), resource="contacts")

        assert "has 100,000 columns; at most 1,000" in refused.value.message_dict["file"][0]

    def test_the_rest_preview_of_a_too_deep_first_record_answers_its_error_row(self):
        upload = SimpleUploadedFile("people.json", nested_json(30_000), "application/json")

        response = client_for(SalesUserFactory()).post(
            "/api/v1/imports/preview/",
            {"file": upload, "resource": "contacts"},
            format="multipart",
        )

        assert response.status_code == 200, response.content[:500]
        body = response.json()
        assert (body["headers"], body["rows"]) == (["first_name"], [{}, {"first_name": "Ana"}])
