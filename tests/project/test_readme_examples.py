"""Every example in README.md runs as written against a fresh `make run`.

The test starts `make run` itself (its install step taken as done: this is the installed
virtualenv) on the embedded default: no DATABASE_URL, broker, cache or keys from the
environment, CRM_VAR_DIR a new temporary folder, HOST unset (its default), PORT a free port and
DEMO_CONTACTS 60 rather than 500 (the examples use the fixed demo records, not the drawn ones).
The one change made to the README's text is `127.0.0.1:8000` → `127.0.0.1:<that port>`.

The fenced blocks then run in README order, from a scratch folder holding links to `.venv` and
`manage.py` (so files the examples write land there): `sh` blocks with `bash -euo pipefail`,
`python` blocks with the virtualenv's python. As in one terminal, variables a block exports
reach the blocks after it. Each block must exit 0, and where the README shows output (a
`# → TEXT` comment; "…" in TEXT stands for any text) that output must appear.

Blocks that must not run (they start servers, run suites or benchmarks) follow a
`<!-- readme-example: not run (reason) -->` comment.
"""

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.project import readme
from tests.workers import BASE_DIR

README_ADDRESS = "127.0.0.1:8000"
DEMO_CONTACTS = "60"  # make run's default is 500; the examples need only the fixed records
START_TIMEOUT_SECONDS = 240
BLOCK_TIMEOUT_SECONDS = 120
# The examples' own variables (KEY), the embedded default, and an outer make's flags (under
# `make test`): nothing of ours may leak in.
_CLEARED = set(readme.environment_reads()) | {"KEY", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}


def _environment(var_dir: Path, **extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if name not in _CLEARED}
    return {**env, "CRM_VAR_DIR": str(var_dir), **extra}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def make_run(tmp_path_factory):
    """`make run` on a free port; yields (its port, what it printed before serving)."""
    var_dir = tmp_path_factory.mktemp("readme-var")
    port = _free_port()
    log_path = var_dir.parent / "make-run.log"
    env = _environment(var_dir, PORT=str(port), DEMO_CONTACTS=DEMO_CONTACTS)
    with open(log_path, "w") as log:
        make = subprocess.Popen(
            ["make", "--no-print-directory", "-o", ".venv/.installed", "run"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_until_served(make, port, log_path)
        yield port, var_dir, log_path.read_text()
    finally:
        os.killpg(make.pid, signal.SIGINT)  # Ctrl-C, as a user stops it
        try:
            make.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(make.pid, signal.SIGKILL)
            make.wait()


def _wait_until_served(make: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if make.poll() is not None:
            raise RuntimeError(f"make run exited ({make.returncode}):\n{log_path.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/schema/", timeout=5):
                return
        except OSError:
            time.sleep(1)
    raise TimeoutError(f"make run did not serve in time:\n{log_path.read_text()}")


@pytest.mark.slow
def test_make_run_prints_the_crm_address_then_the_admin_address_on_its_own_line(make_run):
    port, _, printed = make_run
    lines = printed.splitlines()

    crm = lines.index(f"CRM:   http://127.0.0.1:{port}/")
    assert lines[crm + 1] == f"Admin: http://127.0.0.1:{port}/admin/"
    assert lines[crm + 2] == "  username: admin"
    assert "Initializing application" not in printed and "AXES" not in printed


@pytest.mark.slow
def test_every_readme_example_runs_as_written_and_prints_what_the_readme_shows(make_run, tmp_path):
    port, var_dir, _ = make_run
    for name in (".venv", "manage.py"):
        (tmp_path / name).symlink_to(BASE_DIR / name)
    env = _environment(var_dir)
    ran = []
    for example in readme.examples():
        if example.not_run:
            continue
        code = example.code.replace(README_ADDRESS, f"127.0.0.1:{port}")
        if example.language in readme.SHELL:
            completed, env = _run_shell(code, env, tmp_path)
        elif example.language in readme.PYTHON:
            completed = _run(
                [str(tmp_path / ".venv/bin/python"), "-c", code], env=env, cwd=tmp_path
            )
        else:
            pytest.fail(f"{example.label}: no way to run a {example.language!r} block; mark it")
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, (
            f"{example.label} exited {completed.returncode}:\n{output}"
        )
        for shown in example.shown:
            assert readme.shows(output, shown), (
                f"{example.label} did not print {shown!r}:\n{output}"
            )
        ran.append(example)

    ran_code = "".join(example.code for example in ran)
    for expected in ("create_api_token alice", "?email=Zhang.Wei@example.cn", "loyalty_tier"):
        assert expected in ran_code
    assert env["KEY"].startswith("crm_")  # the REST example's key reached the SOAP example


def test_only_a_few_examples_are_not_run_and_each_says_why():
    not_run = [example for example in readme.examples() if example.not_run]

    # make run (started by the test itself), a server started by hand, the PostgreSQL and Redis
    # set-up, the integration suite, a replica pair, the production processes, two benchmarks
    assert len(not_run) <= 7, [example.label for example in not_run]
    assert all(len(example.not_run) > 5 for example in not_run)


def _run_shell(code: str, env: dict[str, str], cwd: Path):
    """Run a shell block and return the environment it leaves, as a terminal would keep it."""
    env_file = cwd / ".readme-env"
    script = f"set -euo pipefail\n{code}\nenv -0 > {env_file}\n"
    completed = _run(["bash", "-c", script], env=env, cwd=cwd)
    if completed.returncode == 0:
        pairs = env_file.read_bytes().decode().split("\0")
        env = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
    return completed, env


def _run(command: list[str], *, env: dict[str, str], cwd: Path):
    return subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_SECONDS,
        stdin=subprocess.DEVNULL,
    )


def test_the_example_reader_finds_blocks_markers_and_shown_output():
    text = (
        "<!-- readme-example: not run (starts servers) -->\n"
        "```sh\nmake run\n```\n\n"
        "```python\nprint('a', 'b')  # → a … b\n```\n"
    )

    first, second = readme.examples(text)

    assert (first.not_run, second.not_run) == ("starts servers", None)
    assert second.shown == ["a … b"]
    assert readme.shows("a then b", "a … b") and not readme.shows("b then a", "a … b")
