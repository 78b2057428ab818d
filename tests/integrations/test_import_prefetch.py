"""Preparing the next chunk in a forked child changes nothing about what an import does."""

import io
import json
import os

import pytest

from customers.models import Contact
from customers.services.custom_fields import custom_field_create
from integrations.formats import FormatError
from integrations.models import ImportJob, ImportRowError
from integrations.services import imports
from integrations.services.import_prefetch import prepared_in_child
from tests.factories import CompanyFactory, ContactFactory, SalesUserFactory

MIXED_ROWS = (
    "first_name,email,phone,company.external_id,owner,Tier,tags\n"
    "A,a@example.com,+86 138 0000 0001,acc-1,li,gold,vip\n"
    "B,not-an-email,+86 138 0000 0002,acc-404,nobody,silver,\n"
    "C,c@example.com,12,,,gold,x|y\n"
    "D,old@example.com,,,li,,vip\n"
    "E,e@example.com,,acc-1,,bronze,\n"
    "F,a@example.com,,,,gold,late\n"
    ",,,,,,\n"
)


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def outcome(
    settings, content: str, *, ahead: bool, filename="contacts.csv", chunk_size=2, **options
):
    """Everything a run leaves behind, in a comparable shape."""
    settings.IMPORT_PREPARE_AHEAD = ahead
    settings.IMPORT_CHUNK_SIZE = chunk_size  # several: the child prepares all but the first
    job = imports.import_create(
        user=None,
        file=io.BytesIO(content.encode()),
        filename=filename,
        resource="contacts",
        enqueue=False,
        **options,
    )
    job = imports.import_run(job_id=job.pk)
    counts = (job.status, job.rows_created, job.rows_updated, job.rows_failed, job.rows_skipped)
    report = list(
        ImportRowError.objects.filter(job=job)
        .order_by("id")
        .values_list("row_number", "field", "message")
    )
    stored = sorted(
        (c.first_name, c.email, c.phone, c.company_id, c.owner_id, json.dumps(c.custom_fields))
        for c in Contact.objects.all()
    )
    return counts, report, stored


@pytest.mark.django_db
@pytest.mark.parametrize("options", [{}, {"match_key": "email"}, {"dry_run": True}])
def test_an_import_prepared_ahead_in_a_child_ends_exactly_as_one_prepared_in_process(
    settings, options
):
    def fresh_run(ahead: bool):
        Contact.objects.all().delete()
        ContactFactory(first_name="Old", email="old@example.com", phone="+86 138 0000 0009")
        return outcome(settings, MIXED_ROWS, ahead=ahead, **options)

    CompanyFactory(external_id="acc-1")
    SalesUserFactory(username="li")
    custom_field_create(
        entity="contact", name="tier", label="Tier", type="choice", choices=["gold", "silver"]
    )

    in_child, in_process = fresh_run(ahead=True), fresh_run(ahead=False)

    assert in_child == in_process
    assert in_child[1], "the file has bad rows: both runs must report them"


@pytest.mark.django_db
def test_a_broken_file_fails_the_job_the_same_way(settings):
    good = ", ".join(f'{{"first_name": "P{n:04d}"}}' for n in range(30))
    broken = f'[{good}, {{"first_name": '

    def fresh_run(ahead: bool):
        counts, _, stored = outcome(settings, broken, ahead=ahead, filename="c.json")
        job = ImportJob.objects.latest("pk")
        return counts[0], len(stored), job.error_message

    in_child, in_process = fresh_run(ahead=True), fresh_run(ahead=False)

    assert in_child == in_process
    assert in_child[0] == "failed" and "Malformed JSON" in in_child[2]


def test_the_child_hands_over_its_items_in_order_then_raises_its_error_here():
    def produce():
        yield from ["one", "two"]
        raise FormatError("line 3 is not valid JSON")

    received = []
    with pytest.raises(FormatError, match="line 3"):
        for item in prepared_in_child(produce):
            received.append(item)

    assert received == ["one", "two"]


def test_a_reader_that_stops_early_leaves_no_child_behind():
    def endless():
        number = 0
        while True:
            number += 1
            yield number

    items = prepared_in_child(endless)
    assert [next(items), next(items)] == [1, 2]
    items.close()

    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)  # no child left, not even a zombie
