"""Readiness: may this process take traffic? Each check is one function in a small registry.

A check returns nothing when its dependency works, raises :class:`CheckFailed` when this
process cannot serve without it (``/readyz`` answers 503), or :class:`CheckDegraded` when it
can, worse (a replica out of reach, so reads go to the primary: still 200). Add a check with
``@readiness_check("name")``; the name is what a probe and a dashboard see, so it never changes.

Every check bounds its own wait with its client's timeout (a probe must not hang on the thing
it probes) and reports fixed, translated text and exception class names only: the answer is
served to whoever can reach the port, so it never carries a URL, a host, a key or a record.
"""

import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import InvalidToken
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.migrations.executor import MigrationExecutor
from django.utils.translation import gettext as _
from kombu.exceptions import OperationalError
from redis.exceptions import RedisError

from customers import crypto, read_routing
from customers.models import Contact

logger = logging.getLogger(__name__)

OK, DEGRADED, FAILED = "ok", "degraded", "failed"
# PostgreSQL: no probe query may run longer than this.
DATABASE_STATEMENT_TIMEOUT_MS = 1000
# The encryption canary: a fixed value, never personal data.
CANARY = "readiness-canary"


class CheckFailed(Exception):
    """This process cannot serve without the dependency; the message is safe to publish."""


class CheckDegraded(Exception):
    """Serving works, worse; the message is safe to publish."""


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str
    duration_ms: float

    def as_dict(self) -> dict[str, object]:
        answer: dict[str, object] = {"status": self.status, "duration_ms": self.duration_ms}
        if self.detail:
            answer["detail"] = self.detail
        return answer


READINESS_CHECKS: dict[str, Callable[[], None]] = {}


def readiness_check(name: str) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register a check under `name` (run in registration order)."""

    def register(check: Callable[[], None]) -> Callable[[], None]:
        if name in READINESS_CHECKS:
            raise ValueError(f"A readiness check named {name!r} exists already.")
        READINESS_CHECKS[name] = check
        return check

    return register


def run_checks() -> list[CheckResult]:
    return [_run(name, check) for name, check in READINESS_CHECKS.items()]


def is_ready(results: list[CheckResult]) -> bool:
    return all(result.status != FAILED for result in results)


def _run(name: str, check: Callable[[], None]) -> CheckResult:
    """One check's outcome. An unexpected exception fails the check rather than the probe: a
    500 would hide which dependency broke. It is logged with its traceback; the answer names
    only its class, since its message may hold a URL with a password."""
    started = time.monotonic()
    status, detail = OK, ""
    try:
        check()
    except CheckFailed as failure:
        status, detail = FAILED, str(failure)
    except CheckDegraded as degradation:
        status, detail = DEGRADED, str(degradation)
    except Exception as error:  # noqa: BLE001 - reported as the check's failure, and logged
        logger.exception("Readiness check %r raised.", name)
        status, detail = FAILED, _("Unexpected error (%(error)s).") % {"error": _class(error)}
    if status != OK:
        logger.warning("Readiness check %r: %s (%s).", name, status, detail)
    return CheckResult(name, status, detail, round((time.monotonic() - started) * 1000, 1))


def _class(error: BaseException) -> str:
    return type(error).__name__


@readiness_check("database")
def database() -> None:
    connection = connections[DEFAULT_DB_ALIAS]
    try:
        with transaction.atomic(using=DEFAULT_DB_ALIAS), connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(f"SET LOCAL statement_timeout = {DATABASE_STATEMENT_TIMEOUT_MS}")
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        raise CheckFailed(
            _("The database does not answer (%(error)s).") % {"error": _class(error)}
        ) from None


_all_migrations_applied = False


@readiness_check("migrations")
def migrations() -> None:
    """No migration of the code is missing from the database. Once all are applied they stay
    so for this process's code, so the answer is kept: a probe every few seconds then costs
    no migration graph."""
    global _all_migrations_applied
    if _all_migrations_applied:
        return
    try:
        executor = MigrationExecutor(connections[DEFAULT_DB_ALIAS])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        raise CheckFailed(
            _("Cannot read the applied migrations (%(error)s).") % {"error": _class(error)}
        ) from None
    if plan:
        raise CheckFailed(
            _("Migrations not applied: %(count)d; run manage.py migrate.") % {"count": len(plan)}
        )
    _all_migrations_applied = True


@readiness_check("broker")
def broker() -> None:
    """The Celery broker takes connections (once, no retry, within its connect timeout); the
    filesystem broker's folders are writable by this process."""
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        _check_broker_folders()
        return
    from crm_project.celery import app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
    except (OperationalError, OSError) as error:
        raise CheckFailed(
            _("The broker does not accept connections (%(error)s).") % {"error": _class(error)}
        ) from None


def _check_broker_folders() -> None:
    options = getattr(settings, "CELERY_BROKER_TRANSPORT_OPTIONS", {})
    keys = ("data_folder_in", "data_folder_out", "control_folder")
    folders = {options.get(key) for key in keys} - {None}
    for folder in sorted(folders):
        try:
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as error:
            raise CheckFailed(
                _("A broker folder is not writable (%(error)s).") % {"error": _class(error)}
            ) from None
        if not os.access(Path(folder), os.R_OK):
            raise CheckFailed(_("A broker folder is not readable."))


@readiness_check("cache")
def cache_check() -> None:
    """A key written to the default cache reads back (the API rate limit lives there). The
    cache's own socket timeouts (CACHE_TIMEOUT_MS) bound the wait."""
    key, value = "readiness-probe", f"{os.getpid()}-{time.monotonic()}"
    try:
        cache.set(key, value, timeout=10)
        read = cache.get(key)
    except (RedisError, OSError) as error:
        raise CheckFailed(
            _("The cache does not answer (%(error)s).") % {"error": _class(error)}
        ) from None
    if read != value:
        raise CheckFailed(_("The cache does not keep what is written to it."))


@readiness_check("encryption_keys")
def encryption_keys() -> None:
    """The configured keys load, encrypt and decrypt, the blind index key hashes, and the
    oldest stored contact's personal data opens: a key dropped before a rotation finished
    shows here, not on the first page that reads an old record."""
    try:
        keyring = crypto.keyring()
        token = keyring.encrypt(CANARY.encode())
        if keyring.decrypt(token).decode() != CANARY:
            raise CheckFailed(_("The encryption keys do not read back what they wrote."))
        crypto.email_index(f"{CANARY}@example.com")
    except (ImproperlyConfigured, InvalidToken, ValueError) as error:
        raise CheckFailed(
            _("The encryption keys are not usable (%(error)s).") % {"error": _class(error)}
        ) from None
    try:
        Contact.objects.order_by("pk").values_list("email", "phone", "address").first()
    except crypto.FieldDecryptionError:
        raise CheckFailed(
            _("Stored personal data cannot be decrypted with FIELD_ENCRYPTION_KEYS.")
        ) from None
    except DatabaseError as error:
        raise CheckFailed(
            _("The database does not answer (%(error)s).") % {"error": _class(error)}
        ) from None


@readiness_check("database_replicas")
def database_replicas() -> None:
    """Read replicas (DATABASE_REPLICA_URL) that are down or lag behind: reads they would have
    served go to the primary (customers/read_routing.py), so the node still serves everything
    and stays ready, and says which replica it is doing without."""
    status = read_routing.replica_status()
    unwell = {alias: state for alias, state in status.items() if state != "ok"}
    if unwell:
        raise CheckDegraded(
            _("Reads use the primary; replicas not used: %(replicas)s.")
            % {"replicas": ", ".join(f"{alias} ({state})" for alias, state in unwell.items())}
        )
