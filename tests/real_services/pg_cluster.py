"""A real PostgreSQL primary with a streaming replica (``scripts/cluster/pg_replica.py``), and
the means to point this test process's Django connections at it for a while.

The suite's own database (DATABASE_URL) stays configured; ``connections_to`` swaps the
"default" alias (and adds replica aliases) for the block, then puts everything back.
"""

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
from django.conf import settings
from django.db import connections

from crm_project.databases import database_from_url, replica_databases

sys.path.insert(0, str(settings.BASE_DIR / "scripts" / "cluster"))
import pg_replica  # noqa: E402  (a script, not a package)

Cluster = pg_replica.Cluster


def require_binaries() -> None:
    """The cluster needs PostgreSQL's server binaries on this machine."""
    if (pg_replica.BIN / "initdb").exists():
        return
    message = (
        f"needs the PostgreSQL server binaries (apt-get install postgresql) in {pg_replica.BIN}"
    )
    if os.environ.get("CRM_REQUIRE_INTEGRATION") == "1":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def connections_to(
    default_url: str,
    replica_urls: list[str] = (),
    *,
    conn_max_age: int = 0,
    prepared_statements: bool = True,
    server_side_cursors: bool = True,
) -> Iterator[None]:
    """This process's "default" (and ``replica1``…) on other servers for the block, built by
    the same functions the settings use."""
    options = {
        "conn_max_age": conn_max_age,
        "prepared_statements": prepared_statements,
        "server_side_cursors": server_side_cursors,
    }
    wanted = {
        "default": database_from_url(default_url, **options),
        **replica_databases(list(replica_urls), **options),
    }
    saved = {alias: connections.settings.get(alias) for alias in wanted}
    _drop(wanted)
    connections.settings.update(connections.configure_settings(wanted))
    try:
        yield
    finally:
        _drop(wanted)
        for alias, config in saved.items():
            if config is None:
                connections.settings.pop(alias, None)
            else:
                connections.settings[alias] = config


def _drop(aliases) -> None:
    for alias in aliases:
        if hasattr(connections._connections, alias):
            connections[alias].close()
            del connections[alias]


def sql(port: int, statement: str) -> list[tuple]:
    """Run one statement on a server of the cluster, outside Django (autocommit)."""
    with psycopg.connect(
        host="127.0.0.1", port=port, user="postgres", dbname=pg_replica.DATABASE, autocommit=True
    ) as connection:
        cursor = connection.execute(statement)
        return cursor.fetchall() if cursor.description else []


def wait_for_replay(cluster: Cluster, timeout: float = 30) -> None:
    """Until the replica has replayed everything the primary had written when called."""
    (target,) = sql(cluster.primary_port, "SELECT pg_current_wal_lsn()::text")[0]
    deadline = time.monotonic() + timeout
    while True:
        (done,) = sql(
            cluster.replica_port, f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        )[0]
        if done:
            return
        if time.monotonic() > deadline:
            raise AssertionError("The replica did not catch up.")
        time.sleep(0.05)


def pause_replay(cluster: Cluster) -> None:
    sql(cluster.replica_port, "SELECT pg_wal_replay_pause()")


def resume_replay(cluster: Cluster) -> None:
    sql(cluster.replica_port, "SELECT pg_wal_replay_resume()")
