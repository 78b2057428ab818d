"""A throwaway PostgreSQL primary with one streaming replica, and PgBouncer in front of the
primary on request: what the read-replica and pooler tests run against, and a way to try
``DATABASE_REPLICA_URL`` by hand.

    python scripts/cluster/pg_replica.py start /tmp/crm-cluster   # prints the URLs
    python scripts/cluster/pg_replica.py stop /tmp/crm-cluster

The servers run as the ``postgres`` OS user (PostgreSQL refuses root), trust local TCP
connections only, and live entirely under the given folder. Every wait is bounded.
"""

import argparse
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# The newest installed server's binaries (Debian 12: PostgreSQL 15).
BIN = max(
    (path.parent for path in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
    key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    default=Path("/usr/lib/postgresql/15/bin"),
)
OS_USER = "postgres"
DATABASE = "crm"
PRIMARY_PORT, REPLICA_PORT, PGBOUNCER_PORT = 18501, 18502, 18503
WAIT_SECONDS = 60

# fsync off: a test cluster thrown away after the run need not survive a power cut.
_SERVER_SETTINGS = """
listen_addresses = '127.0.0.1'
port = {port}
unix_socket_directories = '{root}'
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
timezone = 'UTC'
max_connections = 60
"""

_PGBOUNCER_INI = """[databases]
* = host=127.0.0.1 port={primary_port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir = {root}
auth_type = trust
auth_file = {root}/userlist.txt
pool_mode = transaction
max_client_conn = 200
default_pool_size = 10
ignore_startup_parameters = extra_float_digits,options
logfile = {root}/pgbouncer.log
pidfile = {root}/pgbouncer.pid
"""


@dataclass(frozen=True)
class Cluster:
    root: Path
    primary_port: int = PRIMARY_PORT
    replica_port: int = REPLICA_PORT
    pgbouncer_port: int = PGBOUNCER_PORT

    @property
    def primary_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.primary_port}/{DATABASE}"

    @property
    def replica_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.replica_port}/{DATABASE}"

    @property
    def pgbouncer_url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.pgbouncer_port}/{DATABASE}"

    @property
    def primary_dir(self) -> Path:
        return self.root / "primary"

    @property
    def replica_dir(self) -> Path:
        return self.root / "replica"


def start(root: Path, **ports: int) -> Cluster:
    """Make and start the primary (with an empty ``crm`` database) and its replica."""
    cluster = Cluster(Path(root), **ports)
    for port in (cluster.primary_port, cluster.replica_port):
        if _listening(port):
            raise RuntimeError(f"Port {port} is taken: a cluster from an earlier run?")
    cluster.root.mkdir(parents=True, exist_ok=True)
    _give_to_os_user(cluster.root)
    _as_os_user(BIN / "initdb", "-D", cluster.primary_dir, "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--no-sync")  # fmt: skip
    _append(cluster.primary_dir / "postgresql.conf", cluster.primary_port, cluster.root)
    start_server(cluster.primary_dir)
    _as_os_user(BIN / "createdb", "-h", "127.0.0.1", "-p", cluster.primary_port, "-U", "postgres",
                DATABASE)  # fmt: skip
    _as_os_user(BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", cluster.primary_port,
                "-U", "postgres", "-D", cluster.replica_dir, "-R", "-X", "stream",
                "--checkpoint=fast", "--no-sync")  # fmt: skip
    _append(cluster.replica_dir / "postgresql.conf", cluster.replica_port, cluster.root)
    start_server(cluster.replica_dir)
    return cluster


def start_server(data_dir: Path) -> None:
    _as_os_user(BIN / "pg_ctl", "-D", data_dir, "-l", f"{data_dir}.log", "-w",
                "-t", WAIT_SECONDS, "start")  # fmt: skip


def stop_server(data_dir: Path, *, mode: str = "fast") -> None:
    if (data_dir / "postmaster.pid").exists():
        _as_os_user(BIN / "pg_ctl", "-D", data_dir, "-m", mode, "-w", "-t", WAIT_SECONDS,
                    "stop", check=False)  # fmt: skip


def stop(cluster: Cluster) -> None:
    """Stop everything (PgBouncer, the replica, the primary) and remove the folder."""
    stop_pgbouncer(cluster)
    stop_server(cluster.replica_dir)
    stop_server(cluster.primary_dir)
    shutil.rmtree(cluster.root, ignore_errors=True)


def start_pgbouncer(cluster: Cluster) -> None:
    """PgBouncer in transaction mode on ``pgbouncer_port``, in front of the primary."""
    if shutil.which("pgbouncer") is None:
        raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer).")
    ini = cluster.root / "pgbouncer.ini"
    ini.write_text(
        _PGBOUNCER_INI.format(
            primary_port=cluster.primary_port, port=cluster.pgbouncer_port, root=cluster.root
        )
    )
    (cluster.root / "userlist.txt").write_text('"postgres" ""\n')
    _give_to_os_user(cluster.root)
    _as_os_user(shutil.which("pgbouncer"), "-d", ini)
    _wait_until(lambda: _listening(cluster.pgbouncer_port), "PgBouncer to listen")


def stop_pgbouncer(cluster: Cluster) -> None:
    """Stop PgBouncer at once (SIGTERM: its clients' connections drop, as in a crash)."""
    pidfile = cluster.root / "pgbouncer.pid"
    if not pidfile.exists():
        return
    try:
        os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
    except (ProcessLookupError, ValueError):
        pidfile.unlink(missing_ok=True)
        return
    _wait_until(lambda: not pidfile.exists(), "PgBouncer to stop")


def pgbouncer_version() -> str:
    result = subprocess.run(["pgbouncer", "--version"], capture_output=True, text=True, timeout=10)
    return result.stdout.splitlines()[0] if result.stdout else ""


def _append(conf: Path, port: int, root: Path) -> None:
    with conf.open("a") as handle:
        handle.write(_SERVER_SETTINGS.format(port=port, root=root))


def _give_to_os_user(path: Path) -> None:
    if os.geteuid() != 0:
        return
    user = pwd.getpwnam(OS_USER)
    for folder, _dirs, files in os.walk(path):
        os.chown(folder, user.pw_uid, user.pw_gid)
        for name in files:
            os.chown(os.path.join(folder, name), user.pw_uid, user.pw_gid)


def _as_os_user(*command: object, check: bool = True) -> None:
    words = [str(word) for word in command]
    if os.geteuid() == 0:
        words = ["su", OS_USER, "-s", "/bin/sh", "-c", shlex.join(words)]
    result = subprocess.run(words, capture_output=True, text=True, timeout=WAIT_SECONDS + 30)
    if check and result.returncode != 0:
        raise RuntimeError(f"{shlex.join(words)} failed:\n{result.stdout}{result.stderr}")


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _wait_until(condition, what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"Gave up waiting for {what}.")
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=["start", "stop"])
    parser.add_argument("root", type=Path)
    parser.add_argument("--pgbouncer", action="store_true", help="also start PgBouncer")
    arguments = parser.parse_args()
    cluster = Cluster(arguments.root)
    if arguments.action == "stop":
        stop(cluster)
        return
    cluster = start(arguments.root)
    print(f"DATABASE_URL={cluster.primary_url}")
    print(f"DATABASE_REPLICA_URL={cluster.replica_url}")
    if arguments.pgbouncer:
        start_pgbouncer(cluster)
        print(f"# through PgBouncer ({pgbouncer_version()}): DATABASE_URL={cluster.pgbouncer_url}")


if __name__ == "__main__":
    sys.exit(main())
