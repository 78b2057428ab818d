"""Run the development web server, a Celery worker and celery beat together, for `make run`
(POSIX). The web server listens on HOST:PORT from the environment (default 127.0.0.1:8000).

The children use this interpreter. Ctrl-C or SIGTERM is passed on to all and we wait for them;
if one exits on its own, the others are stopped and we exit with the first one's code.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STOP_TIMEOUT_SECONDS = 15
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "8000"


def address() -> str:
    """runserver's address: an IPv6 host goes in brackets."""
    host = os.environ.get("HOST") or DEFAULT_HOST
    port = os.environ.get("PORT") or DEFAULT_PORT
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def commands() -> dict[str, list[str]]:
    celery = Path(sys.executable).with_name("celery")  # not resolved: keep the venv's bin/
    celery_prefix = [str(celery)] if celery.exists() else [sys.executable, "-m", "celery"]
    return {
        "web server": [sys.executable, "manage.py", "runserver", address()],
        # Without -Q a worker consumes every queue of the settings (crm_project/queues.py).
        "Celery worker": [
            *celery_prefix,
            *("-A", "crm_project", "worker", "-l", "info", "--concurrency", "1"),
        ],
        # Schedules (connection syncs, the webhook sweep) from the database scheduler; a second
        # beat started by mistake stands by (integrations/scheduler/beat.py).
        "celery beat": [
            *celery_prefix,
            *("-A", "crm_project", "beat", "-l", "info"),
        ],
    }


def main() -> int:
    # Each child leads its own process group, so a terminal Ctrl-C reaches it once, through us,
    # and never twice: a second SIGINT turns Celery's warm shutdown into a cold one.
    names: dict[subprocess.Popen, str] = {}
    requested: list[int] = []

    def forward(signum: int, frame: object) -> None:
        requested.append(signum)
        for child in names:
            _signal_group(child, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    for name, command in commands().items():
        if not requested:
            names[subprocess.Popen(command, cwd=BASE_DIR, start_new_session=True)] = name
    children = list(names)

    while not requested:
        exited = next((child for child in children if child.poll() is not None), None)
        if exited is not None:
            message = f"run_dev: the {names[exited]} exited ({exited.returncode}), stopping."
            print(message, file=sys.stderr)
            for child in children:  # the exited one too: leftovers of its group go with it
                _signal_group(child, signal.SIGTERM)
            _wait_all(children)
            return _exit_code(exited.returncode)
        time.sleep(0.2)
    _wait_all(children)
    return 0


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    """Signal the child's whole group: runserver's autoreloader and Celery's pool included."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signum)


def _wait_all(children: list[subprocess.Popen]) -> None:
    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            print(f"run_dev: pid {child.pid} did not stop; killing it.", file=sys.stderr)
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _exit_code(returncode: int) -> int:
    """A child killed by signal N reports -N; a shell would say 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


if __name__ == "__main__":
    sys.exit(main())
