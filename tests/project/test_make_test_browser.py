"""`make test` runs the browser tests or says why it cannot: Chromium is installed when missing
(as root, with apt-get), else the run stops with the command to type; under `make test` a
missing browser fails the browser tests instead of skipping them."""

import os
import subprocess
from pathlib import Path

import pytest
from _pytest.outcomes import Failed, Skipped
from django.conf import settings

from tests.web import browser


def _without_outer_make() -> dict[str, str]:
    """This environment without an outer make's flags (these tests also run under make test)."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def _make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=settings.BASE_DIR,
        env={**_without_outer_make(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_chromium_and_apt_get_make_browser_fails_saying_what_to_install(tmp_path):
    completed = _make(
        "browser",
        f"CHROMIUM={tmp_path}/chromium",
        f"CHROMEDRIVER={tmp_path}/chromedriver",
        f"APT_GET={tmp_path}/no-apt-get",
    )

    assert completed.returncode != 0
    assert "apt-get install chromium chromium-driver" in completed.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="apt-get is only tried as root")
def test_as_root_make_browser_installs_chromium_with_apt_get(tmp_path):
    chromium, driver, calls = tmp_path / "chromium", tmp_path / "chromedriver", tmp_path / "calls"
    fake_apt_get = tmp_path / "apt-get"
    fake_apt_get.write_text(
        "#!/bin/sh\n"
        f'echo "$*" >> {calls}\n'
        f'case "$1" in install) printf "#!/bin/sh\\n" > {chromium}; cp {chromium} {driver}; '
        f"chmod +x {chromium} {driver};; esac\n"
    )
    fake_apt_get.chmod(0o755)

    completed = _make(
        "browser", f"CHROMIUM={chromium}", f"CHROMEDRIVER={driver}", f"APT_GET={fake_apt_get}"
    )

    assert completed.returncode == 0, completed.stderr
    assert calls.read_text().splitlines() == ["update -q", "install -y -q chromium chromium-driver"]


def test_with_chromium_present_make_browser_does_nothing(tmp_path):
    present = tmp_path / "present"
    present.write_text("#!/bin/sh\n")
    present.chmod(0o755)

    completed = _make(
        "browser", f"CHROMIUM={present}", f"CHROMEDRIVER={present}", f"APT_GET={tmp_path}/x"
    )

    assert completed.returncode == 0
    assert completed.stdout == completed.stderr == ""


def test_make_test_checks_chromium_first_and_requires_the_browser_tests():
    planned = _make("--dry-run", "--always-make", "test").stdout

    assert "CRM_REQUIRE_BROWSER=1 .venv/bin/pytest" in planned
    assert planned.index("chromium-driver") < planned.index("CRM_REQUIRE_BROWSER=1")


def test_under_make_test_a_missing_chromium_fails_the_browser_test(monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.setenv("CRM_REQUIRE_BROWSER", "1")

    with pytest.raises(Failed, match="apt-get install chromium chromium-driver"):
        browser.require_chromium()


def test_outside_make_test_a_missing_chromium_skips_the_browser_test(monkeypatch):
    monkeypatch.setattr(browser, "CHROMIUM", Path("/nonexistent/chromium"))
    monkeypatch.delenv("CRM_REQUIRE_BROWSER", raising=False)

    with pytest.raises(Skipped):
        browser.require_chromium()
