"""The cluster on one machine, as separate processes on ports 18600-18699: PostgreSQL primary
and streaming replica, PgBouncer (transaction mode) in front of the primary, Redis, an S3
server (moto), two gunicorn web nodes, nginx in front of them, two Celery workers (one per
queue set) and one beat. The web nodes, workers and beat are started from the systemd units of
docs/deploy with its environment file; nginx from its site file.

Whatever is missing (nginx, PgBouncer, PostgreSQL, Redis) is installed from Debian's packages
when running as root, as .ci/services.sh does; otherwise the test fails and says what to
install.
"""

import base64
import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import requests

from .processes import Process, listening, logged, port_open, run
from .units import DEPLOY, ROOT, exec_start, read_environment_file, read_unit

sys.path.insert(0, str(ROOT / "scripts" / "cluster"))
import pg_replica  # noqa: E402  (a script, not a package; the replica tests start theirs with it)


@dataclass(frozen=True)
class Ports:
    nginx_http: int = 18600
    nginx_https: int = 18601
    primary: int = 18610
    replica: int = 18611
    pgbouncer: int = 18612
    redis: int = 18620
    s3: int = 18630
    web: tuple[int, ...] = (18640, 18641)
    outside: int = 18650  # the webhook receiver and the connector's source (the test process)


PORTS = Ports()
BUCKET = "crm-files"
WORKER_QUEUES = ("crm,syncs,webhooks", "imports,exports")
# The Debian package holding each program the cluster runs.
PACKAGES = {
    "nginx": "nginx",
    "pgbouncer": "pgbouncer",
    "redis-server": "redis-server",
    "openssl": "openssl",
}
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin/initdb"


def ensure_programs() -> None:
    missing = [package for program, package in PACKAGES.items() if not shutil.which(program)]
    if not list(Path("/").glob(PG_BIN_GLOB.lstrip("/"))):
        missing.append("postgresql")
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"The cluster test needs: apt-get install {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
    install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing]
    subprocess.run(install, check=True, env=env, timeout=900, stdout=subprocess.DEVNULL)


def program(name: str) -> str:
    for folder in (*os.environ.get("PATH", "").split(":"), "/usr/sbin", "/sbin"):
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise RuntimeError(f"{name} not found")


def fernet_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def web_ready(port: int):
    def ready(process: Process) -> bool:
        if not port_open(port):
            return False
        try:
            response = requests.get(
                f"http://127.0.0.1:{port}/api/v1/",
                headers={"X-Forwarded-Proto": "https"},
                timeout=5,
            )
        except requests.RequestException:
            return False
        return response.status_code < 500

    return ready


class Cluster:
    """`overrides`: environment values that replace the test's (a benchmark lifts the rate
    limit); `worker_queues`: one worker per entry, consuming that queue list."""

    def __init__(
        self,
        tmp: Path,
        *,
        overrides: dict[str, str] | None = None,
        worker_queues: tuple[str, ...] = WORKER_QUEUES,
    ) -> None:
        self.tmp = tmp
        self.overrides = overrides or {}
        self.worker_queues = worker_queues
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True)
        self.processes: list[Process] = []
        self.pg_dir = tmp / "pg"
        self.pg_started = False
        self.metrics_token = secrets.token_urlsafe(16)

    # -- the environment every CRM process gets: the unit's file, then this machine's values
    def crm_environment(self) -> dict[str, str]:
        base = read_environment_file(DEPLOY / "crm.env.example")
        var = self.tmp / "var"
        local = {
            "SECRET_KEY": self.keys["SECRET_KEY"],
            "FIELD_ENCRYPTION_KEYS": self.keys["FIELD_ENCRYPTION_KEYS"],
            "BLIND_INDEX_KEY": self.keys["BLIND_INDEX_KEY"],
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "CSRF_TRUSTED_ORIGINS": f"https://127.0.0.1:{PORTS.nginx_https}",
            "CRM_VAR_DIR": str(var),
            "STATIC_ROOT": str(self.tmp / "static"),
            "MEDIA_ROOT": str(var / "media"),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PORTS.pgbouncer}/crm",
            "DATABASE_REPLICA_URL": f"postgres://postgres@127.0.0.1:{PORTS.replica}/crm",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{PORTS.redis}/0",
            "CACHE_URL": f"redis://127.0.0.1:{PORTS.redis}/1",
            "STORAGE_URL": (
                f"s3://{BUCKET}?endpoint_url=http://127.0.0.1:{PORTS.s3}&region_name=us-east-1"
            ),
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "WEB_CONCURRENCY": "2",
            "METRICS_TOKEN": self.metrics_token,
            # The test's own receiver and source listen on loopback.
            "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
            # Low enough that the dedicated key reaches it in a few seconds; the load's keys
            # pace themselves below it.
            "API_KEY_RATE_LIMIT": "300/min",
            # A killed worker's import is resumed within seconds, not minutes.
            "IMPORT_HEARTBEAT_STALE_SECONDS": "10",
            "JOB_SWEEP_INTERVAL_SECONDS": "5",
            "WEBHOOK_RETRY_SCHEDULE": "2,2,4,4,8,8,16",
            "WEBHOOK_TIMEOUT_SECONDS": "5",
            "IMPORT_ENCRYPTION_PROCESSES": "0",
            "EXPORT_PROCESSES": "0",
            "LOG_LEVEL": "INFO",
        }
        environment = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "HOME": str(self.tmp),
            "PYTHONUNBUFFERED": "1",
            **base,
            **local,
            **self.overrides,
        }
        if "GUNICORN_BIND" not in (ROOT / "gunicorn.conf.py").read_text():
            # Until gunicorn.conf.py reads GUNICORN_BIND: gunicorn's own variable.
            environment["GUNICORN_CMD_ARGS"] = "--timeout 60"
        return environment

    def web_environment(self, port: int) -> dict[str, str]:
        environment = {**self.crm_environment(), "GUNICORN_BIND": f"127.0.0.1:{port}"}
        if "GUNICORN_CMD_ARGS" in environment:
            environment["GUNICORN_CMD_ARGS"] += f" --bind 127.0.0.1:{port}"
        return environment

    # -- start and stop
    def start(self) -> None:
        ensure_programs()
        self.keys = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "FIELD_ENCRYPTION_KEYS": fernet_key(),
            "BLIND_INDEX_KEY": secrets.token_urlsafe(50),
        }
        busy = [port for port in self.all_ports() if port_open(port)]
        if busy:
            raise RuntimeError(f"ports already in use: {busy}")
        os.chmod(self.tmp, 0o755)  # PostgreSQL and PgBouncer run as the postgres user
        self.start_postgres()
        self.start_pgbouncer()
        self.redis = self.add(
            "redis",
            [
                program("redis-server"),
                *("--bind", "127.0.0.1", "--port", str(PORTS.redis)),
                *("--save", "", "--appendonly", "no", "--dir", str(self.tmp)),
            ],
            ready=listening(PORTS.redis),
        )
        self.start_s3()
        self.prepare_database()
        self.web = [
            self.add(
                f"web{index + 1}",
                exec_start(read_unit("crm-web.service"), self.web_environment(port)),
                env=self.web_environment(port),
                ready=web_ready(port),
            )
            for index, port in enumerate(PORTS.web)
        ]
        self.workers: list[Process] = []
        for queues in self.worker_queues:
            self.start_worker(queues)
        self.beat = self.add(
            "beat",
            exec_start(read_unit("crm-beat.service"), self.crm_environment()),
            ready=logged("beat: Starting"),
        )
        self.start_nginx()

    def start_worker(self, queues: str) -> Process:
        worker = self.add(
            f"worker{len(self.workers) + 1}-{queues.replace(',', '-')}",
            exec_start(read_unit("crm-worker@.service"), self.crm_environment(), instance=queues),
            ready=logged(" ready."),
        )
        self.workers.append(worker)
        return worker

    def stop(self) -> None:
        for process in reversed(self.processes):
            with contextlib.suppress(Exception):
                process.stop()
        if self.pg_started:
            pg_replica.stop_server(self.pg_dir / "replica", mode="immediate")
            pg_replica.stop_server(self.pg_dir / "primary", mode="immediate")

    def add(self, name: str, command: list[str], *, ready, env=None, user=None) -> Process:
        process = Process(
            name,
            command,
            env=env if env is not None else self.crm_environment(),
            log_dir=self.logs,
            ready=ready,
            user=user,
        )
        self.processes.append(process)
        return process.start()

    @staticmethod
    def all_ports() -> list[int]:
        return [
            PORTS.nginx_http,
            PORTS.nginx_https,
            PORTS.primary,
            PORTS.replica,
            PORTS.pgbouncer,
            PORTS.redis,
            PORTS.s3,
            *PORTS.web,
            PORTS.outside,
        ]

    # -- the pieces
    def start_postgres(self) -> None:
        self.pg_started = True
        pg_replica.start(self.pg_dir, primary_port=PORTS.primary, replica_port=PORTS.replica)

    def start_pgbouncer(self) -> None:
        folder = self.tmp / "pgbouncer"
        folder.mkdir()
        (folder / "userlist.txt").write_text('"postgres" ""\n')
        (folder / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"crm = host=127.0.0.1 port={PORTS.primary} dbname=crm\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {PORTS.pgbouncer}\n"
            f"unix_socket_dir = {folder}\n"
            "auth_type = trust\n"
            f"auth_file = {folder / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            "max_client_conn = 200\ndefault_pool_size = 20\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
        )
        shutil.chown(folder, "postgres")
        user = "postgres" if os.geteuid() == 0 else None
        self.add(
            "pgbouncer",
            [program("pgbouncer"), str(folder / "pgbouncer.ini")],
            ready=listening(PORTS.pgbouncer),
            user=user,
        )

    def start_s3(self) -> None:
        self.add(
            "s3",
            [str(Path(sys.executable).with_name("moto_server")), "-H", "127.0.0.1"]
            + ["-p", str(PORTS.s3)],
            ready=listening(PORTS.s3),
        )
        import boto3

        boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{PORTS.s3}",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_bucket(Bucket=BUCKET)

    def prepare_database(self) -> None:
        """Migrations straight to the primary (a deploy step, not through the pooler), static
        files collected as a release would."""
        environment = {
            **self.crm_environment(),
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{PORTS.primary}/crm",
        }
        python = str(ROOT / ".venv" / "bin" / "python")
        run([python, "manage.py", "migrate", "--noinput", "-v", "0"], env=environment)
        run([python, "manage.py", "collectstatic", "--noinput", "-v", "0"], env=environment)

    def start_nginx(self) -> None:
        folder = self.tmp / "nginx"
        folder.mkdir()
        certificate, key = folder / "cert.pem", folder / "key.pem"
        run(
            [
                program("openssl"),
                *("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
                *("-nodes", "-days", "1"),
                *("-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
                *("-keyout", str(key), "-out", str(certificate)),
            ]
        )
        self.certificate = certificate  # clients verify nginx against it
        (folder / "crm.conf").write_text(self.nginx_site(certificate, key))
        user = "user root;\n" if os.geteuid() == 0 else ""
        (folder / "nginx.conf").write_text(
            f"{user}worker_processes 1;\ndaemon off;\npid {folder / 'nginx.pid'};\n"
            f"error_log {self.logs / 'nginx-error.log'} warn;\n"
            "events { worker_connections 512; }\n"
            "http {\n"
            '  log_format upstream \'$remote_addr "$request" $status $upstream_addr '
            "$upstream_status $request_time';\n"
            f"  access_log {self.logs / 'nginx-access.log'} upstream;\n"
            + "".join(
                f"  {kind}_temp_path {folder / kind};\n"
                for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
            )
            + f"  include {folder / 'crm.conf'};\n"
            "}\n"
        )
        self.nginx = self.add(
            "nginx",
            [program("nginx"), "-c", str(folder / "nginx.conf"), "-p", str(folder)],
            ready=listening(PORTS.nginx_https),
        )

    def nginx_site(self, certificate: Path, key: Path) -> str:
        """docs/deploy/nginx-crm.conf with this machine's addresses and certificate, and the
        X-Upstream header (which node answered) switched on."""
        site = (DEPLOY / "nginx-crm.conf").read_text()
        servers = re.findall(r"^\s*server\s+\S+:\d+\s[^;]*;", site, flags=re.M)
        assert len(servers) == len(PORTS.web), "the site file lists one server per web node"
        for line, port in zip(servers, PORTS.web, strict=True):
            site = site.replace(line, re.sub(r"server\s+\S+:\d+", f"server 127.0.0.1:{port}", line))
        site = re.sub(r"^\s*listen \[::\].*\n", "", site, flags=re.M)
        site = site.replace("listen 80;", f"listen 127.0.0.1:{PORTS.nginx_http};")
        site = site.replace("listen 443 ssl", f"listen 127.0.0.1:{PORTS.nginx_https} ssl")
        site = re.sub(r"ssl_certificate\s+\S+;", f"ssl_certificate {certificate};", site)
        site = re.sub(r"ssl_certificate_key\s+\S+;", f"ssl_certificate_key {key};", site)
        switched_on = site.replace("# add_header X-Upstream", "add_header X-Upstream")
        assert switched_on != site, "the site file has the X-Upstream line to switch on"
        return switched_on

    # -- addresses
    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{PORTS.nginx_https}"

    @staticmethod
    def node_url(index: int) -> str:
        return f"http://127.0.0.1:{PORTS.web[index]}"

    @property
    def primary_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{PORTS.primary}/crm"

    def manage(self, *arguments: str) -> str:
        python = str(ROOT / ".venv" / "bin" / "python")
        return run([python, "manage.py", *arguments], env=self.crm_environment())
