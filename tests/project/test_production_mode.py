"""Production mode: gunicorn started as the README says (from the project folder, so with
gunicorn.conf.py), DEBUG off, keys set, static files collected. Pages link their stylesheet by
its hashed name, which is served gzipped and cached for a year; the proxy's request id is
echoed; every log line is one JSON object naming its request, with no personal data."""

import json
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from tests.workers import BASE_DIR, wait_for

GUNICORN_CONF = BASE_DIR / "gunicorn.conf.py"
GUNICORN_VARIABLES = ("WEB_CONCURRENCY", "GUNICORN_TIMEOUT", "GUNICORN_BIND", "GUNICORN_THREADS")
ONE_YEAR = 365 * 24 * 3600
EMAIL = "marker.person@example.cn"
STYLESHEET = re.compile(r'<link rel="stylesheet" href="(/static/crm/crm\.[0-9a-f]{12}\.css)">')


def gunicorn_settings(monkeypatch, **env: str) -> dict:
    """gunicorn.conf.py's names, as gunicorn reads them, under `env`."""
    for name in GUNICORN_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(GUNICORN_CONF))


def test_gunicorn_conf_defaults(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)

    conf = gunicorn_settings(monkeypatch)

    assert conf["logger_class"] == "crm_project.gunicorn_logging.MaskingLogger"
    assert conf["bind"] == ["127.0.0.1:8000"]
    assert (conf["workers"], conf["worker_class"], conf["threads"]) == (5, "sync", 1)
    assert conf["timeout"] == conf["graceful_timeout"] == 30
    assert conf["keepalive"] == 5
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]


def test_gunicorn_conf_caps_the_default_worker_count_on_a_large_machine(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 64)

    assert gunicorn_settings(monkeypatch)["workers"] == 12


def test_gunicorn_conf_reads_its_environment(monkeypatch):
    conf = gunicorn_settings(
        monkeypatch,
        WEB_CONCURRENCY="3",
        GUNICORN_TIMEOUT="45",
        GUNICORN_BIND="0.0.0.0:8080, unix:/run/crm/web.sock",
        GUNICORN_THREADS="4",
    )

    assert conf["workers"] == 3
    assert (conf["worker_class"], conf["threads"]) == ("gthread", 4)
    assert conf["timeout"] == conf["graceful_timeout"] == 45
    assert conf["bind"] == ["0.0.0.0:8080", "unix:/run/crm/web.sock"]


def test_gunicorn_conf_refuses_a_worker_count_that_is_not_a_number(monkeypatch):
    with pytest.raises(ImproperlyConfigured, match="WEB_CONCURRENCY must be an integer"):
        gunicorn_settings(monkeypatch, WEB_CONCURRENCY="many")


def test_with_debug_on_static_files_are_served_from_their_apps_folders(client):
    """The test suite and a checkout run without collectstatic; gunicorn with DEBUG on too."""
    response = client.get("/static/crm/crm.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert b"".join(response.streaming_content) == (BASE_DIR / "static/crm/crm.css").read_bytes()


@dataclass
class Production:
    url: str
    log: Path
    pid: int

    def get(self, path: str, **headers: str) -> requests.Response:
        return requests.get(f"{self.url}{path}", headers=headers, timeout=30)

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(var: Path, static_root: Path, port: int) -> dict[str, str]:
    inherited = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("DATABASE_", "CELERY_", "CACHE_", "GUNICORN_", "DJANGO_"))
        and name not in GUNICORN_VARIABLES
    }
    return {
        **inherited,
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on the loopback; behind a TLS proxy the redirect stays on.
        "SECURE_SSL_REDIRECT": "false",
        "CRM_VAR_DIR": str(var),
        "STATIC_ROOT": str(static_root),
        "LOG_FORMAT": "json",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_CMD_ARGS": "--access-logfile -",
    }


@pytest.fixture(scope="module")
def production(collected_static, tmp_path_factory) -> Iterator[Production]:
    folder = tmp_path_factory.mktemp("production")
    port = free_port()
    log = folder / "gunicorn.log"
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with open(log, "w") as output:
        process = subprocess.Popen(
            [gunicorn, "crm_project.wsgi"],
            cwd=BASE_DIR,
            env=production_env(folder / "var", collected_static, port),
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: process.poll() is not None or _answers(port), timeout=60)
        assert process.poll() is None, log.read_text()
        yield Production(f"http://127.0.0.1:{port}", log, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
        return True
    except OSError:
        return False


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
def test_gunicorn_listens_where_gunicorn_bind_says_with_web_concurrency_workers(production):
    wait_for(lambda: len(children(production.pid)) == 2, timeout=30)

    assert production.get("/accounts/login/").status_code == 200


@pytest.mark.slow
def test_the_login_page_links_its_stylesheet_by_the_hashed_name(production):
    page = production.get("/accounts/login/")

    assert page.status_code == 200
    assert STYLESHEET.search(page.text), page.text[:1000]


@pytest.mark.slow
def test_a_hashed_stylesheet_is_cached_for_a_year_and_never_revalidated(production):
    stylesheet = STYLESHEET.search(production.get("/accounts/login/").text)[1]

    response = production.get(stylesheet)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/css")
    cache_control = response.headers["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", cache_control)[1]) >= ONE_YEAR
    assert "immutable" in cache_control and "public" in cache_control
    assert response.content == (BASE_DIR / "static/crm/crm.css").read_bytes()


@pytest.mark.slow
def test_the_gzip_copy_is_sent_to_a_client_that_accepts_gzip(production):
    stylesheet = STYLESHEET.search(production.get("/accounts/login/").text)[1]

    gzipped = production.get(stylesheet, **{"Accept-Encoding": "gzip"})
    plain = production.get(stylesheet, **{"Accept-Encoding": "identity"})

    assert gzipped.headers["Content-Encoding"] == "gzip"
    assert int(gzipped.headers["Content-Length"]) < int(plain.headers["Content-Length"])
    assert "Accept-Encoding" in gzipped.headers["Vary"]
    assert "Content-Encoding" not in plain.headers
    assert gzipped.content == plain.content  # requests decompressed it


@pytest.mark.slow
def test_the_proxys_request_id_is_echoed_and_an_unusable_one_replaced(production):
    echoed = production.get("/accounts/login/", **{"X-Request-ID": "proxy-4bf92f35.77"})
    replaced = production.get("/accounts/login/", **{"X-Request-ID": "x" * 129})
    static = production.get("/static/crm/crm.css", **{"X-Request-ID": "proxy-static"})

    assert echoed.headers["X-Request-ID"] == "proxy-4bf92f35.77"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["X-Request-ID"])
    assert static.headers["X-Request-ID"] == "proxy-static"


@pytest.mark.slow
def test_every_log_line_is_one_json_object_naming_its_request_without_personal_data(
    production,
):
    missing = production.get(
        f"/contacts/{EMAIL}/nowhere/?email={EMAIL}", **{"X-Request-ID": "req-json-404"}
    )
    assert missing.status_code == 404

    def lines_of_that_request() -> list[dict]:
        lines = production.json_lines()  # fails on any line that is not JSON
        return [line for line in lines if line["request_id"] == "req-json-404"]

    lines = wait_for(lambda: len(found := lines_of_that_request()) >= 2 and found, timeout=30)

    by_logger = {line["logger"]: line for line in lines}
    assert by_logger["django.request"]["level"] == "WARNING"
    assert by_logger["django.request"]["message"] == "Not Found: /contacts/***/nowhere/"
    assert (
        '"GET /contacts/***/nowhere/?email=*** HTTP/1.1" 404'
        in (by_logger["gunicorn.access"]["message"])
    )
    assert {"timestamp", "level", "logger", "message", "request_id"} <= set(lines[0])
    assert "marker.person" not in production.log.read_text()
    assert any(line["logger"] == "gunicorn.error" for line in production.json_lines())
