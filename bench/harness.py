"""What a benchmark run stands on: a fresh seeded database, a gunicorn server over it, and
readings from /proc (worker memory and CPU, and the CPU other jobs on the machine take).

Everything here cleans up after itself on exit, Ctrl-C and SIGTERM included.
"""

import argparse
import base64
import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
READY_PATH = "/api/v1/contacts/"


def log(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


class BenchDatabase:
    """A fresh, migrated, seeded database and the environment to serve it; removed on exit."""

    def __init__(
        self, vendor: str, args: argparse.Namespace, *, custom_fields: int = 0, pii: int = 0
    ) -> None:
        self.vendor = vendor
        self.args = args
        self.custom_fields, self.pii_custom_fields = custom_fields, pii
        self.rows = args.seed_rows
        self.tmp = Path(tempfile.mkdtemp(prefix=f"crm-bench-{vendor}-"))
        self.pg_name: str | None = None
        self.raw_key = ""
        self.seed_seconds = 0.0

    def __enter__(self) -> "BenchDatabase":
        try:
            if self.vendor == "postgres":
                self.pg_name = f"crm_bench_{os.getpid()}_{secrets.token_hex(3)}"
                self._pg_admin(f'CREATE DATABASE "{self.pg_name}"')
                database_url = f"{self.args.postgres_url.rstrip('/')}/{self.pg_name}"
            else:
                database_url = f"sqlite:///{self.tmp / 'bench.sqlite3'}"
            self.env = server_env(self.tmp, database_url, self.args.conn_max_age)
            log(f"[{self.vendor}] migrating {database_url}")
            run([PYTHON, "manage.py", "migrate", "--noinput", "-v", "0"], self.env)
            # DEBUG off serves static files as collected (hashed names): what a deploy does
            run([PYTHON, "manage.py", "collectstatic", "--noinput", "-v", "0"], self.env)
            extra = (
                f" with {self.custom_fields} custom fields ({self.pii_custom_fields} PII)"
                if self.custom_fields
                else ""
            )
            log(f"[{self.vendor}] seeding {self.rows:,} contacts{extra}")
            started = time.perf_counter()
            key_file = self.tmp / "api-key"
            seed = [PYTHON, "-m", "bench.seed", "--contacts", str(self.rows)]
            seed += ["--custom-fields", str(self.custom_fields)]
            seed += ["--pii-custom-fields", str(self.pii_custom_fields)]
            run([*seed, "--key-file", str(key_file)], self.env)
            self.seed_seconds = time.perf_counter() - started
            self.raw_key = key_file.read_text().strip()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self.pg_name:
            try:
                self._pg_admin(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')
            except Exception as error:  # report, never mask the original failure
                log(f"could not drop database {self.pg_name}: {error}")
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _pg_admin(self, sql: str) -> None:
        import psycopg

        url = f"{self.args.postgres_url.rstrip('/')}/postgres"
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute(sql)


def production_keys() -> dict[str, str]:
    """DEBUG off and fresh keys: what production settings require."""
    return {
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(50),
    }


def server_env(tmp: Path, database_url: str, conn_max_age: int | None) -> dict[str, str]:
    """Production-like settings (DEBUG off, fresh keys) minus HTTPS, which 127.0.0.1 lacks.
    `conn_max_age` None keeps the app's default."""
    unset = ("CACHE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE", "DATABASE_CONN_MAX_AGE")
    env = {key: value for key, value in os.environ.items() if key not in unset}
    if conn_max_age is not None:
        env["DATABASE_CONN_MAX_AGE"] = str(conn_max_age)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        CRM_VAR_DIR=str(tmp / "var"),
        **production_keys(),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        SECURE_HSTS_SECONDS="0",
        # One key drives the whole load: the shipped 1200/min would answer 429 within a second.
        # A one-second window keeps the throttle's work (its history list) realistic.
        API_KEY_RATE_LIMIT="1000000/s",
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    return env


def run(command: list[str], env: dict[str, str]) -> None:
    completed = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600
    )
    if completed.stderr.strip():
        log(completed.stderr.strip().splitlines()[-1])
    if completed.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{completed.stderr[-3000:]}")


class Server:
    """gunicorn on 127.0.0.1 in its own session, stopped (its whole group) on exit."""

    def __init__(self, bench_db: BenchDatabase, args: argparse.Namespace) -> None:
        self.bench_db = bench_db
        self.args = args
        self.port = _free_port()
        self.log = bench_db.tmp / "gunicorn.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Server":
        # Every server setting the measurement depends on is given here: gunicorn.conf.py's
        # production sizing (threads, worker recycling) must not change what a bench measures.
        workers = ["--workers", str(self.args.workers), "--worker-class", "sync"]
        workers += ["--threads", str(self.args.threads), "--max-requests", "0"]
        if self.args.threads > 1:
            workers[3] = "gthread"
        command = [
            str(Path(PYTHON).with_name("gunicorn")),
            "crm_project.wsgi:application",
            *("--bind", f"127.0.0.1:{self.port}", *workers),
            # a 1M-row export is one long response; the hostile-input suite sets a short one
            *("--timeout", str(getattr(self.args, "timeout", 900))),
            *("--graceful-timeout", "5", "--chdir", str(ROOT)),
            *("--error-logfile", str(self.log), "--log-level", "warning"),
        ]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.bench_db.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            self._wait_ready()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc_info) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)  # our own session only
            self.process.wait(timeout=5)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{self.log.read_text()[-3000:]}")
            if len(self.workers()) >= self.args.workers:
                with contextlib.suppress(OSError):
                    if self.get(READY_PATH, timeout=30)[0] == 200:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer in 60 s:\n{self.log.read_text()[-3000:]}")

    def get(self, path: str, timeout: float = 60) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request("GET", path, headers=self.headers())
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.bench_db.raw_key}", "Host": "127.0.0.1"}

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in children.read_text().split()]
        except OSError:
            return []

    def cpu_seconds(self) -> float:
        """CPU time the workers (all their threads) have used so far."""
        ticks = 0
        for pid in self.workers():
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def database_cpu_seconds(self) -> float:
        """CPU time this database's PostgreSQL backends have used so far (0 on SQLite, which
        runs inside the workers): with the workers, what a request really costs the machine.
        Backends that ended meanwhile are missed (the app keeps its connections)."""
        name = self.bench_db.pg_name
        if not name:
            return 0.0
        ticks = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                if name in (stat.parent / "cmdline").read_text():
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                    ticks += int(fields[11]) + int(fields[12])  # utime + stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Until the workers stop using CPU: a sync worker finishes the requests it accepted
        after the load generator hung up, and that work belongs to the endpoint just measured,
        not to the next one (whose first requests would also queue behind it)."""
        deadline = time.monotonic() + timeout
        before = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(0.1)
            after = self.cpu_seconds()
            if after - before < 0.005:
                return
            before = after

    def reset_peak_memory(self) -> float:
        """Reset each worker's VmHWM; returns the largest current RSS (MB)."""
        for pid in self.workers():
            # if refused, the peak includes earlier requests: still an upper bound
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")
        return max((_proc_kb(pid, "VmRSS") for pid in self.workers()), default=0) / 1024

    def peak_memory(self) -> float:
        """The largest VmHWM (peak RSS) of the workers since the last reset, in MB."""
        return max((_proc_kb(pid, "VmHWM") for pid in self.workers()), default=0) / 1024

    def worker_memory(self, name: str = "VmRSS") -> dict[int, float]:
        """Each worker's VmRSS (or VmHWM, its peak since the last reset) in MB, by pid."""
        return {pid: _proc_kb(pid, name) / 1024 for pid in self.workers()}


def _proc_kb(pid: int, name: str) -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{name}:"):
                return int(line.split()[1])
    return 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OtherCpu:
    """CPU used meanwhile by processes this benchmark did not start (other jobs on the machine),
    in % of one core: a noisy neighbour lowers every figure here. Processes that start and end
    inside the window are missed, so this is a lower bound."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.percent = 0.0

    def __enter__(self) -> "OtherCpu":
        self.before, self.started = self._others(), time.monotonic()
        return self

    def __exit__(self, *exc_info) -> None:
        after, elapsed = self._others(), time.monotonic() - self.started
        ticks = sum(count - self.before.get(pid, 0) for pid, count in after.items())
        self.percent = 100 * ticks / os.sysconf("SC_CLK_TCK") / max(elapsed, 1e-9)

    def _others(self) -> dict[int, int]:
        ours = {os.getpid(), self.server.process.pid, *self.server.workers()}
        database = self.server.bench_db.pg_name  # its backends are ours too
        ticks = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            pid = int(stat.parent.name)
            if pid in ours:
                continue
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if database and database in (stat.parent / "cmdline").read_text():
                    continue
            except (OSError, IndexError):
                continue
            ticks[pid] = int(fields[11]) + int(fields[12])  # utime + stime
        return ticks


def wait_until_quiet(server: Server, args: argparse.Namespace) -> None:
    """Give other jobs on the machine up to --max-wait seconds to go quiet before measuring."""
    deadline = time.monotonic() + args.max_wait
    while True:
        with OtherCpu(server) as others:
            time.sleep(2)
        if others.percent < args.quiet_threshold:
            return
        if time.monotonic() >= deadline:
            log(f"other jobs still use {others.percent:.0f}% of a core; measuring anyway")
            return
        log(f"waiting: other jobs use {others.percent:.0f}% of a core")
        time.sleep(3)
