"""LOG_FORMAT=json: each log line one JSON object with the fields a log collector indexes, and
no personal data in any field (the gunicorn and Celery sides: test_production_mode.py and
test_request_id.py)."""

import json
import logging
import os
import subprocess
import sys
from datetime import datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from crm_project.json_logging import JsonFormatter, log_format
from crm_project.log_masking import MaskPersonalData
from crm_project.request_id import RequestIdFilter, bound
from tests.workers import BASE_DIR

EMAIL = "marker.person@example.cn"


def formatted(record: logging.LogRecord) -> dict:
    """`record` as a configured handler writes it: filters first, then the formatter."""
    MaskPersonalData().filter(record)
    RequestIdFilter().filter(record)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)


def record(message: str, *args: object, **extra: object) -> logging.LogRecord:
    logger = logging.getLogger("crm.test.json")
    return logger.makeRecord(
        logger.name, logging.WARNING, __file__, 1, message, args, None, extra=extra
    )


def test_a_line_holds_timestamp_level_logger_message_and_request_id():
    with bound("req-7"):
        line = formatted(record("Import %s done", 42))

    assert list(line) == ["timestamp", "level", "logger", "message", "request_id"]
    assert line["level"] == "WARNING" and line["logger"] == "crm.test.json"
    assert line["message"] == "Import 42 done"
    assert line["request_id"] == "req-7"
    assert datetime.fromisoformat(line["timestamp"]).utcoffset().total_seconds() == 0


def test_outside_a_request_the_request_id_is_null():
    assert formatted(record("beat tick"))["request_id"] is None


def test_the_request_django_attaches_to_its_records_is_not_written():
    """Django logs 4xx/5xx with extra={"request": request}: its text is the full URL."""
    request = RequestFactory().get(f"/contacts/?email={EMAIL}")

    line = formatted(record("Not Found: %s", request.path, request=request, status_code=404))

    assert "request" not in line and "status_code" not in line
    assert "marker.person" not in json.dumps(line)


def test_a_traceback_is_written_with_personal_data_masked():
    try:
        raise ValueError(f"cannot parse /contacts/?email={EMAIL}")
    except ValueError:
        failing = logging.getLogger("crm.test.json").makeRecord(
            "crm.test.json", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )

    line = formatted(failing)

    assert "ValueError: cannot parse /contacts/?email=***" in line["exc_info"]
    assert "marker.person" not in json.dumps(line)


def test_chinese_text_is_written_as_is():
    assert formatted(record("联系人 张伟 已导入"))["message"] == "联系人 张伟 已导入"


@pytest.mark.parametrize(
    ("value", "expected"), [(None, "text"), ("json", "json"), ("JSON", "json")]
)
def test_log_format_reads_log_format(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv("LOG_FORMAT", raising=False)
    else:
        monkeypatch.setenv("LOG_FORMAT", value)

    assert log_format() == expected


def test_an_unknown_log_format_refuses_to_start(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "xml")

    with pytest.raises(ImproperlyConfigured, match="LOG_FORMAT must be text or json"):
        log_format()


@pytest.mark.slow
def test_under_log_format_json_every_django_handler_writes_json(tmp_path):
    """Django's handlers (and runserver's request lines) as the settings configure them, in a
    process of their own started with LOG_FORMAT=json."""
    code = (
        "import logging; "
        "handlers = [h for name in ('', 'django', 'django.server') "
        "for h in logging.getLogger(name).handlers]; "
        "print(sorted({type(h.formatter).__name__ for h in handlers})); "
        f"logging.getLogger('django.server').warning('\"GET /contacts/?email={EMAIL}\" 200'); "
        f"logging.getLogger('crm').warning('lookup of {EMAIL} failed')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "CRM_VAR_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)

    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.stdout.split("\n")[0] == "['JsonFormatter']", done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert [(line["logger"], line["message"]) for line in lines] == [
        ("django.server", '"GET /contacts/?email=***" 200'),
        ("crm", "lookup of *** failed"),
    ]
