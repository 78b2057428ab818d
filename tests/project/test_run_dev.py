"""`make run` serves where HOST and PORT say (scripts/run_dev.py starts the web server)."""

import os
import subprocess

from django.conf import settings

from scripts import run_dev


def test_the_web_server_listens_on_host_and_port_from_the_environment(monkeypatch):
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "8123")

    assert run_dev.commands()["web server"][-2:] == ["runserver", "0.0.0.0:8123"]


def test_without_host_and_port_the_web_server_listens_on_127_0_0_1_port_8000(monkeypatch):
    monkeypatch.delenv("HOST", raising=False)
    monkeypatch.delenv("PORT", raising=False)

    assert run_dev.commands()["web server"][-1] == "127.0.0.1:8000"


def test_an_ipv6_host_is_bracketed(monkeypatch):
    monkeypatch.setenv("HOST", "::1")
    monkeypatch.setenv("PORT", "8000")

    assert run_dev.commands()["web server"][-1] == "[::1]:8000"


def test_make_run_hands_host_and_port_to_the_server_and_the_printed_login():
    outer_make = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")  # set when this runs under make test
    env = {k: v for k, v in os.environ.items() if k not in outer_make}
    env.update(HOST="10.1.2.3", PORT="8123")

    planned = subprocess.run(
        ["make", "--dry-run", "--always-make", "run"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout

    assert 'ensure_admin --host "10.1.2.3" --port "8123"' in planned
    assert 'HOST="10.1.2.3" PORT="8123" .venv/bin/python scripts/run_dev.py' in planned
