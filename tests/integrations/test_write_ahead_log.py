"""A bulk run lets SQLite's write-ahead log grow before checkpointing, and gives the
connection's setting back when it ends; PostgreSQL is left alone."""

import uuid
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.imports.write_ahead_log import BULK_AUTOCHECKPOINT_PAGES, fewer_checkpoints
from integrations.models import JobStatus
from tests.integrations.support import run_import

pytestmark = pytest.mark.django_db

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite setting")


def autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


@sqlite_only
def test_the_log_grows_larger_during_the_block_and_the_setting_comes_back():
    before = autocheckpoint()

    with fewer_checkpoints():
        assert autocheckpoint() == BULK_AUTOCHECKPOINT_PAGES

    assert autocheckpoint() == before != BULK_AUTOCHECKPOINT_PAGES


@sqlite_only
def test_the_setting_comes_back_when_the_run_fails():
    before = autocheckpoint()

    with pytest.raises(RuntimeError), fewer_checkpoints():
        raise RuntimeError("chunk failed")

    assert autocheckpoint() == before != BULK_AUTOCHECKPOINT_PAGES


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_a_connection_replaced_during_the_run_keeps_its_own_defaults():
    before = autocheckpoint()

    with fewer_checkpoints():
        connection.close()

    assert autocheckpoint() == before != BULK_AUTOCHECKPOINT_PAGES


@sqlite_only
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_run_copies_what_it_wrote_into_the_database_file():
    database_file = Path(connection.settings_dict["NAME"])
    marker = f"written-by-the-run-{uuid.uuid4().hex}"
    try:
        with fewer_checkpoints(), connection.cursor() as cursor:
            cursor.execute("CREATE TABLE scratch (text TEXT)")
            cursor.executemany("INSERT INTO scratch VALUES (%s)", [(marker,)] * 500)
        # Far below the default's 4 MB of log, so only the run's own checkpoint copies the
        # rows from the log into the file (the file's size says nothing: earlier tests' freed
        # pages take them).
        assert marker.encode() in database_file.read_bytes()
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE scratch")


@sqlite_only
def test_an_import_runs_with_fewer_checkpoints(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    during = []

    job = run_import(
        "first_name,email\nWei,wei@example.cn\n",
        on_progress=lambda *_: during.append(autocheckpoint()),
    )

    assert job.status == JobStatus.SUCCEEDED
    assert during == [BULK_AUTOCHECKPOINT_PAGES]
    assert autocheckpoint() != BULK_AUTOCHECKPOINT_PAGES


@pytest.mark.skipif(connection.vendor == "sqlite", reason="the other databases")
def test_other_databases_are_not_asked_anything():
    with CaptureQueriesContext(connection) as queries, fewer_checkpoints():
        pass

    assert len(queries) == 0
