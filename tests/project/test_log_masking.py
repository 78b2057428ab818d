"""Logs never hold the personal data a URL carries: a real gunicorn (started from the project
folder, as in production) and a real runserver answer requests with ?email=, ?phone=, a PII
custom field filter, a search box email and a referrer holding one; their logs name the
requests with those values masked, and the marker values appear nowhere."""

import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings

from crm_project.log_masking import MaskPersonalData, mask_query, mask_text
from customers.actors import SYSTEM
from customers.services.custom_fields import custom_field_create
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests import workers
from tests.factories import ContactFactory, SalesUserFactory

EMAIL = "marker.person@example.cn"
PHONE = "+86 138 7777 4242"
PHONE_DIGITS = "77774242"
WECHAT = "wechat-marker-991"
MARKERS = ["marker.person", quote(EMAIL), PHONE_DIGITS, "7777", WECHAT]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def environment() -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": workers.test_database_url(),
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
        "BLIND_INDEX_KEY": settings.BLIND_INDEX_KEY,
        "SECRET_KEY": settings.SECRET_KEY,
        "CRM_VAR_DIR": str(settings.VAR_DIR),
        "DEBUG": "true",
        "LOG_LEVEL": "INFO",
    }


@contextmanager
def serving(command: list[str], port: int, log: Path) -> Iterator[str]:
    """Run a web server until it answers on `port`; its stdout and stderr go to `log`."""
    with open(log, "w") as output:
        process = subprocess.Popen(
            command, cwd=workers.BASE_DIR, env=environment(), stdout=output, stderr=output
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                assert process.poll() is None, log.read_text()
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.2)
            else:
                raise AssertionError(f"no answer on {port}:\n{log.read_text()}")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            process.wait(timeout=20)


def get(url: str, **headers: str) -> int:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def send_pii_requests(base: str, key: str) -> list[int]:
    bearer = {"Authorization": f"Bearer {key}"}
    return [
        get(f"{base}/api/v1/contacts/?email={quote(EMAIL)}", **bearer),
        get(f"{base}/api/v1/contacts/?phone={quote(PHONE)}&page_size=5", **bearer),
        get(f"{base}/api/v1/contacts/?cf_wechat={WECHAT}", **bearer),
        get(f"{base}/api/v1/contacts/?email={quote(EMAIL)}"),  # 401, still logged
        get(f"{base}/contacts/?q={quote(EMAIL)}", Referer=f"{base}/contacts/?q={EMAIL}"),
        get(f"{base}/api/v1/nowhere/?phone={quote(PHONE)}"),  # 404: Django logs a warning
    ]


@pytest.fixture
def partner_key(transactional_db) -> str:
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    ContactFactory(first_name="Marker", email=EMAIL, phone=PHONE, custom_fields={"wechat": WECHAT})
    _, raw_key = api_key_create(user=SalesUserFactory(), name="logs", scopes=list(ALL_SCOPES))
    return raw_key


def assert_no_marker(text: str) -> None:
    for marker in MARKERS:
        assert marker not in text, (marker, text[-3000:])


@pytest.mark.slow
def test_gunicorn_logs_pii_query_parameters_masked(partner_key, tmp_path):
    port = free_port()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    command = [
        str(Path(sys.executable).with_name("gunicorn")),
        "crm_project.wsgi:application",
        *("--bind", f"127.0.0.1:{port}", "--workers", "1"),
        *("--access-logfile", str(access), "--error-logfile", str(errors)),
        *("--access-logformat", '%(h)s "%(r)s" %(s)s "%(f)s" %(q)s %({query_string}e)s'),
    ]

    with serving(command, port, tmp_path / "output.log") as base:
        statuses = send_pii_requests(base, partner_key)

    assert statuses[:3] == [200, 200, 200]
    logged = access.read_text()
    assert logged.count("email=***") >= 2 and "phone=***" in logged and "cf_wechat=***" in logged
    assert "q=***" in logged
    assert_no_marker(logged + errors.read_text() + (tmp_path / "output.log").read_text())


@pytest.mark.slow
def test_runserver_logs_pii_query_parameters_masked(partner_key, tmp_path):
    port = free_port()
    command = [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"]
    log = tmp_path / "runserver.log"

    with serving(command, port, log) as base:
        statuses = send_pii_requests(base, partner_key)

    assert statuses[:3] == [200, 200, 200]
    logged = log.read_text()
    assert "GET /api/v1/contacts/?email=*** HTTP/1.1" in logged
    assert "Not Found: /api/v1/nowhere/" in logged
    assert_no_marker(logged)


def test_every_configured_handler_masks_personal_data():
    configured = set(settings.LOGGING["handlers"])
    handlers = [
        handler
        for logger in [
            logging.getLogger(),
            *map(logging.getLogger, logging.root.manager.loggerDict),
        ]
        for handler in logger.handlers
        if handler.name in configured
    ]

    assert {handler.name for handler in handlers} == configured
    for handler in handlers:
        assert any(isinstance(f, MaskPersonalData) for f in handler.filters), handler.name


def test_a_record_logged_with_arguments_is_written_masked(caplog):
    logger = logging.getLogger("crm.test.masking")
    record = logger.makeRecord(
        logger.name, logging.INFO, __file__, 1, "GET %s -> %s", ("/x?phone=138", EMAIL), None
    )

    MaskPersonalData().filter(record)

    assert record.getMessage() == "GET /x?phone=*** -> ***"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("email=a%40b.cn&page=2", "email=***&page=2"),
        ("q=%E5%BC%A0%E4%BC%9F&sort=name", "q=%E5%BC%A0%E4%BC%9F&sort=name"),
        ("q=13800131234", "q=***"),
        ("search=li%40example.com", "search=***"),
        ("next=%2Fcontacts%2F%3Femail%3Da%2540b.cn", "next=***"),
        ("address=x&phone__in=1,2", "address=***&phone__in=***"),
        ("cf_never_defined=x", "cf_never_defined=***"),
        (
            "updated_since=2026-01-01T00:00:00Z&limit=5",
            "updated_since=2026-01-01T00:00:00Z&limit=5",
        ),
    ],
)
def test_mask_query_masks_personal_values_only(query, expected):
    assert mask_query(query) == expected


def test_mask_text_masks_a_bare_email_in_a_path():
    assert mask_text("GET /api/v1/contacts/by-external-id/zhang@example.cn/ 200") == (
        "GET /api/v1/contacts/by-external-id/***/ 200"
    )
