"""Processes of the cluster test: each in a session of its own (so a kill takes its children:
gunicorn's and Celery's workers, the import's encryption helpers), logging to a file, and
always stopped, with SIGKILL to the whole group when SIGTERM is not enough."""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from .units import ROOT

START_TIMEOUT_SECONDS = 90


class Process:
    """One named process. `start()` may be called again after `kill()` (a restart)."""

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        env: dict[str, str],
        log_dir: Path,
        ready: Callable[["Process"], bool],
        user: str | None = None,
        cwd: Path = ROOT,
    ) -> None:
        self.name, self.command, self.env, self.user, self.cwd = name, command, env, user, cwd
        self.log_path = log_dir / f"{name}.log"
        self.ready = ready
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> "Process":
        self.starts += 1
        with open(self.log_path, "a") as log:
            log.write(f"\n==== start {self.starts}: {' '.join(self.command)}\n")
            log.flush()
            self.popen = subprocess.Popen(
                self.command,
                cwd=self.cwd,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                user=self.user,
            )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self.tail()}")
            if self.ready(self):
                return self
            time.sleep(0.2)
        self.stop()
        raise TimeoutError(f"{self.name} not ready in {START_TIMEOUT_SECONDS} s:\n{self.tail()}")

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """kill -9 of the process and everything it started (its session's group)."""
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if self.popen is None or self.popen.poll() is not None:
            self._reap_group()
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout=timeout)
        self._reap_group()

    def _reap_group(self) -> None:
        """Children left behind by a dead leader (a worker's pool) die with the group."""
        if self.popen is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def tail(self, characters: int = 4000) -> str:
        return self.log_text()[-characters:]

    def current_log(self) -> str:
        """The log since the latest start."""
        return self.log_text().rsplit(f"==== start {self.starts}:", 1)[-1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def listening(port: int) -> Callable[[Process], bool]:
    return lambda process: port_open(port)


def logged(marker: str) -> Callable[[Process], bool]:
    return lambda process: marker in process.current_log()


def run(command: list[str], *, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if completed.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed ({completed.returncode}):\n{completed.stderr[-3000:]}"
        )
    return completed.stdout
