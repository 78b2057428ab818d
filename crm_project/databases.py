"""Database connection settings from URLs: the primary's and its read replicas', parsed alike
so a replica gets exactly the options (pooling, prepared statements) the primary has."""

import dj_database_url

POSTGRESQL = "django.db.backends.postgresql"
#: A replica that does not answer within this many seconds is skipped (reads go to the
#: primary); libpq's own default is to wait for the operating system, minutes.
REPLICA_CONNECT_TIMEOUT_SECONDS = 2


def database_from_url(
    url: str, *, conn_max_age: int, prepared_statements: bool, server_side_cursors: bool
) -> dict:
    """One alias's settings. `prepared_statements` (PostgreSQL): parameters bound by the
    server and statements a connection runs 5 times prepared: an API list page cost
    PostgreSQL 1.2 ms of CPU, mostly planning the same few statements again, and 0.4 ms
    prepared. Both it and `server_side_cursors` must be off behind a pooler in transaction
    mode: neither a prepared statement (before PgBouncer 1.21) nor a cursor ``WITH HOLD``
    outlives the transaction that made it on the server the pooler lent."""
    config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    if config["ENGINE"] == POSTGRESQL:
        if prepared_statements:
            config.setdefault("OPTIONS", {}).update(
                {"server_side_binding": True, "prepare_threshold": 5}
            )
        if not server_side_cursors:
            config["DISABLE_SERVER_SIDE_CURSORS"] = True
    return config


def replica_databases(
    urls: list[str], *, conn_max_age: int, prepared_statements: bool, server_side_cursors: bool
) -> dict[str, dict]:
    """``replica1``, ``replica2``, … in the order given. Each mirrors "default" under test:
    Django then creates no test database on a read-only server, and the replica aliases
    reach the test database."""
    replicas = {}
    for number, url in enumerate(urls, start=1):
        config = database_from_url(
            url,
            conn_max_age=conn_max_age,
            prepared_statements=prepared_statements,
            server_side_cursors=server_side_cursors,
        )
        if config["ENGINE"] == POSTGRESQL:
            config.setdefault("OPTIONS", {}).setdefault(
                "connect_timeout", REPLICA_CONNECT_TIMEOUT_SECONDS
            )
        config["TEST"] = {"MIRROR": "default"}
        replicas[f"replica{number}"] = config
    return replicas
