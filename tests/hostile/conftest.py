"""A real production-mode server for the hostile-input suite: gunicorn (bench.harness.Server),
DEBUG off, fresh keys, SQLite in a temporary folder, seeded with one superuser's API key and
web session. Each request is timed and the workers' peak memory read from /proc around it.

Imports run eagerly (CELERY_TASK_ALWAYS_EAGER) inside the web worker that receives the
upload: the job's outcome is known when the POST answers, and its memory is the worker's.
"""

import contextlib
import json
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests

from bench.harness import PYTHON, ROOT, Server, server_env

# Every hostile request answers within this, and grows no worker's peak memory beyond this.
SECONDS_PER_REQUEST = 5.0
PEAK_GROWTH_MB = 100.0
WORKERS = 2
# gunicorn kills a worker stuck longer than this (it would otherwise hold on for minutes).
WORKER_TIMEOUT_SECONDS = 20
TABLES = ("customers_contact", "customers_company", "customers_deal")


@dataclass
class Answer:
    """A response with what it cost: wall time and the largest peak-RSS growth of a worker."""

    response: requests.Response
    seconds: float
    peak_growth_mb: float

    @property
    def status(self) -> int:
        return self.response.status_code

    def json(self):
        return self.response.json()


class HostileServer:
    def __init__(self, server: Server, database: Path, credentials: dict, var_dir: Path) -> None:
        self.server = server
        self.database = database
        self.var_dir = var_dir  # the server's CRM_VAR_DIR (its drop folders live under it)
        self.api_key = credentials["api_key"]
        self.session = credentials["session"]
        self.http = requests.Session()

    def url(self, path: str) -> str:
        return self.server.url(path)

    def counts(self) -> dict[str, int]:
        """Rows per table, read from the server's SQLite file directly."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as connection:
            return {
                table: connection.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
                for table in TABLES
            }

    @contextlib.contextmanager
    def unchanged(self) -> Iterator[None]:
        """The row counts after the block equal those before it (checked in the test itself,
        so an expected failure covers it too)."""
        before = self.counts()
        yield
        assert self.counts() == before, "a hostile request wrote rows"

    def send(self, method: str, path: str, *, door: str = "api", **kwargs) -> Answer:
        """One request through `door` ("api": the key; "web": the session; "soap": none, the
        envelope carries its own WS-Security header), timed and measured."""
        headers = {"Host": "127.0.0.1", **kwargs.pop("headers", {})}
        cookies = {}
        if door == "api":
            headers.setdefault("Authorization", f"Bearer {self.api_key}")
        elif door == "web":
            cookies["sessionid"] = self.session
        self.server.reset_peak_memory()
        before = self.server.worker_memory("VmRSS")
        started = time.perf_counter()
        response = self.http.request(
            method,
            self.url(path),
            headers=headers,
            cookies=cookies,
            timeout=WORKER_TIMEOUT_SECONDS + 10,
            allow_redirects=False,
            **kwargs,
        )
        seconds = time.perf_counter() - started
        peaks = self.server.worker_memory("VmHWM")
        growth = max(
            (peak - before[pid] for pid, peak in peaks.items() if pid in before), default=0.0
        )
        return Answer(response=response, seconds=seconds, peak_growth_mb=growth)


def _seed(env: dict[str, str]) -> dict:
    completed = subprocess.run(
        [PYTHON, "-m", "tests.hostile.seed"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def live(collected_static) -> Iterator[HostileServer]:
    """One server for the whole suite (about 5 s to migrate, seed and start)."""
    with tempfile.TemporaryDirectory(prefix="crm-hostile-") as folder:
        tmp = Path(folder)
        database = tmp / "crm.sqlite3"
        env = server_env(tmp, f"sqlite:///{database}", conn_max_age=None)
        env.update(
            DJANGO_SETTINGS_MODULE="crm_project.settings",
            CELERY_TASK_ALWAYS_EAGER="true",
            LOG_LEVEL="ERROR",
            STATIC_ROOT=str(collected_static),  # DEBUG off: pages link the hashed names
        )
        subprocess.run(
            [PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        credentials = _seed(env)
        stand_in = SimpleNamespace(tmp=tmp, env=env, raw_key=credentials["api_key"], pg_name=None)
        args = SimpleNamespace(workers=WORKERS, threads=1, timeout=WORKER_TIMEOUT_SECONDS)
        with Server(stand_in, args) as server:
            yield HostileServer(server, database, credentials, Path(env["CRM_VAR_DIR"]))


def assert_bounded(answer: Answer) -> None:
    assert answer.seconds < SECONDS_PER_REQUEST, f"took {answer.seconds:.1f} s"
    assert answer.peak_growth_mb < PEAK_GROWTH_MB, f"a worker grew {answer.peak_growth_mb:.0f} MB"
