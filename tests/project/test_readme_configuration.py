"""The README's configuration table lists every environment variable the code reads (settings,
scripts, make's variables), no other, each with the default the code has."""

import re

from tests.project import readme


def test_every_variable_the_code_reads_is_in_the_configuration_table():
    documented = readme.configuration_table()
    read = readme.environment_reads()

    missing = {name: entry.where for name, entry in read.items() if name not in documented}

    assert missing == {}


def test_the_configuration_table_lists_no_variable_the_code_does_not_read():
    read = readme.environment_reads()

    assert sorted(set(readme.configuration_table()) - set(read)) == []


def test_each_literal_default_in_the_code_is_the_default_the_table_gives():
    documented = readme.configuration_table()
    wrong = {}
    for name, entry in readme.environment_reads().items():
        if not entry.has_literal_default or name not in documented:
            continue
        expected = readme.as_written_in_readme(entry.default)
        cell = documented[name]
        first_code = re.search(r"`([^`]*)`", cell)
        written = first_code[1] if first_code else cell
        # an empty default is written as the word "empty"
        ok = cell.startswith("empty") if expected == "" else written == expected
        if not ok:
            wrong[name] = (expected, cell)

    assert wrong == {}


def test_the_collector_sees_the_variables_the_issue_found_missing():
    """A guard on the collector itself: these are read through different helpers."""
    read = readme.environment_reads()

    for name in (
        "OUTBOUND_ALLOWED_NETWORKS",
        "API_KEY_RATE_LIMIT",
        "CACHE_URL",
        "IMPORT_CHUNK_SIZE",
        "EXCHANGE_FILE_RETENTION_DAYS",
        "WEBHOOK_RETRY_SCHEDULE",
        "HOST",
        "PORT",
    ):
        assert name in read
    assert read["IMPORT_CHUNK_SIZE"].default == 5000
    assert read["CELERY_BROKER_URL"].default == "filesystem://"
    assert read["HOST"].default == "127.0.0.1"
    assert not read["SECURE_SSL_REDIRECT"].has_literal_default  # computed: not DEBUG


def test_the_collector_sees_the_production_variables():
    """Read by gunicorn.conf.py (outside the packages) and by the log set-up."""
    read = readme.environment_reads()

    assert read["GUNICORN_TIMEOUT"].default == 30
    assert read["GUNICORN_BIND"].default == ["127.0.0.1:8000"]
    assert read["LOG_FORMAT"].default == "text"
    assert "WEB_CONCURRENCY" in read and not read["WEB_CONCURRENCY"].has_literal_default


def test_no_variable_is_read_under_a_name_the_collector_cannot_see():
    """A name computed at run time would escape the table; the one loop that does it reads
    the keys, each of which is also read by its own name."""
    from django.conf import settings

    assert readme.computed_reads() == ["crm_project/settings.py: env_str(name)"]
    assert set(settings._KEY_NAMES) <= set(readme.environment_reads())
