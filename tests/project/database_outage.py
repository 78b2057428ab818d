"""A database that does not answer, for the tests of what each door does then."""

from contextlib import contextmanager

from django.db import connections


@contextmanager
def database_unreachable():
    """The default database at a place nothing answers, for the block (then put back): what a
    request meets while PostgreSQL restarts or PgBouncer is away."""
    alias = connections["default"]
    saved = alias.settings_dict.copy()
    alias.close()
    if alias.vendor == "sqlite":
        alias.settings_dict["NAME"] = "/nonexistent-folder/db.sqlite3"
    else:
        alias.settings_dict.update(HOST="127.0.0.1", PORT="1")
    try:
        yield
    finally:
        alias.close()
        alias.settings_dict.update(saved)
