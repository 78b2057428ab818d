"""Serve the project with gunicorn, as in production, against the test database."""

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.workers import BASE_DIR, READY_TIMEOUT_SECONDS, shared_environment

# Nothing listens on port 1: a connection there is refused at once, as a stopped server's is.
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/9"


@contextmanager
def web_server(
    log_path: Path,
    extra_env: dict[str, str] | None = None,
    *,
    workers: int = 1,
    threads: int = 2,
) -> Iterator[str]:
    """One gunicorn worker by default (so one process holds any per-process state) on a free
    port; yields its base URL. It shares this process's keys, broker and test database."""
    port = _free_port()
    env = shared_environment({"LOG_LEVEL": "INFO", **(extra_env or {})})
    command = [sys.executable, "-m", "gunicorn", "crm_project.wsgi", "-b", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--threads", str(threads), "--timeout", "60"]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=BASE_DIR, env=env, stdout=log, stderr=log)
        try:
            _wait_for_port(process, port, log_path)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(process: subprocess.Popen, port: int, log_path: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early:\n{log_path.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"gunicorn not ready in time:\n{log_path.read_text()}")
