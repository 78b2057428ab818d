"""Which database a read goes to: a read replica when the read may be a moment old and a
healthy replica exists, else the primary. The one place that decides it.

Only the selectors ask (list pages, exports, reports, the change feed's history): writes,
reads inside a write, reads that decide a write, authentication, sessions, API keys,
idempotency and rate limits never come here, so they stay on the primary without a router.

Three rules keep a replica from showing anyone the past:
- read-your-writes: after an actor writes (``note_write``, an observer of every write
  service), its reads stay on the primary for ``READ_YOUR_WRITES_SECONDS``; the marker lives
  in the default cache, shared by every node when that is Redis; a cache that cannot answer
  sends the read to the primary;
- health: a replica that is down, or lags more than ``REPLICA_MAX_LAG_SECONDS``, is skipped
  (the verdict is kept ``HEALTH_CACHE_SECONDS`` per process, not asked per request); a query
  that fails on a replica runs again, once, on the primary;
- the change feed reads a replica only once it holds every event the primary has
  (``change_feed_database``), so a reader never sees a gap and its cursor never goes back;
  a finished job's report, only once the replica shows the job finished
  (``database_holding``).
"""

import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, OperationalError, connections, transaction
from django.db.models import Max, QuerySet

from customers.actors import Actor
from customers.models import ChangeEvent

logger = logging.getLogger(__name__)

PRIMARY = DEFAULT_DB_ALIAS
HEALTH_CACHE_SECONDS = 3.0
_MARKER_PREFIX = "crm:wrote-recently:"

# Whether the replica has replayed everything the primary had written when asked (its WAL
# position, read first), and how long ago it replayed its last transaction. That timestamp
# alone grows while the primary is idle (nothing to replay), so a replica that holds all the
# primary wrote counts as caught up whatever it says; only one that does not is measured by
# it. No privileges needed (pg_stat_wal_receiver hides its details from a plain role).
_PRIMARY_POSITION_SQL = "SELECT pg_current_wal_lsn()::text"
_REPLICA_SQL = """
SELECT pg_is_in_recovery(),
       pg_last_wal_replay_lsn() >= %s::pg_lsn,
       EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())
"""


@dataclass(frozen=True)
class ReplicaHealth:
    ok: bool
    detail: str  # "ok", "lagging 12s", "down"


# alias -> (monotonic time of the check, verdict); per process, shared by its threads
_health: dict[str, tuple[float, ReplicaHealth]] = {}
_health_lock = threading.Lock()


def replicas() -> list[str]:
    return list(getattr(settings, "DATABASE_REPLICAS", ()))


def read_database(actor: Actor | None) -> str:
    """The alias for a read that may be a moment old: a list page, an export, a report.
    No actor (the application's own read, a base shape a door narrows) and a read inside a
    transaction (part of a write) stay on the primary."""
    candidates = replicas()
    if actor is None or not candidates or transaction.get_connection(PRIMARY).in_atomic_block:
        return PRIMARY
    if wrote_recently(actor):
        return PRIMARY
    healthy = [alias for alias in candidates if replica_health(alias).ok]
    if not healthy:
        return PRIMARY
    # the same actor keeps to the same replica: two replicas a moment apart could otherwise
    # show its pages going back and forth in time
    return healthy[_identity_number(actor) % len(healthy)]


def routed(queryset: QuerySet, actor: Actor | None) -> QuerySet:
    """`queryset` on the database ``read_database`` picks for `actor`, falling back to the
    primary if the replica fails under it."""
    return on_database(queryset, read_database(actor))


def on_database(queryset: QuerySet, alias: str) -> QuerySet:
    if queryset.db == alias:
        return queryset
    if alias == PRIMARY:
        return queryset.using(PRIMARY)
    moved = queryset.using(alias)
    moved.__class__ = _with_primary_fallback(type(queryset))
    return moved


# Read-your-writes.


def note_write(*, actor: Actor, **_: Any) -> None:
    """The write observer (``customers.services.observers``): once the write commits, the
    actor's reads keep to the primary for ``READ_YOUR_WRITES_SECONDS``. Before the commit
    the primary is the only place the write exists anyway, and a rolled-back write (the
    admin's validation savepoint) marks nothing."""
    if not replicas():
        return
    keys = _marker_keys(actor)
    if keys:
        transaction.on_commit(lambda: _mark(keys), using=PRIMARY)


def wrote_recently(actor: Actor) -> bool:
    keys = _marker_keys(actor)
    if not keys:
        return False
    try:
        return bool(cache.get_many(keys))
    except Exception:  # any cache backend's failure: the primary is always right
        logger.warning("Read-your-writes markers unreadable; reading from the primary.")
        return True


def _mark(keys: list[str]) -> None:
    try:
        cache.set_many(dict.fromkeys(keys, True), timeout=settings.READ_YOUR_WRITES_SECONDS)
    except Exception:  # the write has committed: a lost marker must not fail it
        logger.warning("Read-your-writes marker not stored; the cache cannot be reached.")


def _marker_keys(actor: Actor) -> list[str]:
    """Every identity the actor carries: an API key's write also keeps the person behind it
    (and their other keys and sessions) on the primary."""
    keys = []
    user_id = getattr(actor.user, "pk", None)
    if user_id is not None:
        keys.append(f"{_MARKER_PREFIX}user:{user_id}")
    if actor.api_key_id is not None:
        keys.append(f"{_MARKER_PREFIX}key:{actor.api_key_id}")
    return keys


def _identity_number(actor: Actor) -> int:
    return int(actor.api_key_id or getattr(actor.user, "pk", None) or 0)


# Replica health.


def replica_health(alias: str) -> ReplicaHealth:
    """The replica's verdict, checked at most once per ``HEALTH_CACHE_SECONDS`` per process."""
    now = time.monotonic()
    known = _health.get(alias)
    if known is not None and now - known[0] < HEALTH_CACHE_SECONDS:
        return known[1]
    verdict = _check(alias)
    with _health_lock:
        _health[alias] = (time.monotonic(), verdict)
    return verdict


def replica_status() -> dict[str, str]:
    """Each replica's alias and its state: ``ok``, ``lagging 12s`` or ``down``."""
    return {alias: replica_health(alias).detail for alias in replicas()}


def forget_replica_health() -> None:
    """Check every replica afresh on the next read (tests; after a failover)."""
    with _health_lock:
        _health.clear()


def _mark_down(alias: str) -> None:
    with _health_lock:
        _health[alias] = (time.monotonic(), ReplicaHealth(False, "down"))


def _check(alias: str) -> ReplicaHealth:
    connection = connections[alias]
    if connection.vendor != "postgresql" or connections[PRIMARY].vendor != "postgresql":
        return ReplicaHealth(True, "ok")
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute(_PRIMARY_POSITION_SQL)
        (primary_position,) = cursor.fetchone()
    try:
        with connection.cursor() as cursor:
            cursor.execute(_REPLICA_SQL, [primary_position])
            in_recovery, caught_up, lag = cursor.fetchone()
    except DatabaseError:
        _close_quietly(alias)
        return ReplicaHealth(False, "down")
    if not in_recovery or caught_up:
        return ReplicaHealth(True, "ok")
    seconds = float(lag) if lag is not None else float("inf")
    if seconds > settings.REPLICA_MAX_LAG_SECONDS:
        shown = "?" if lag is None else f"{seconds:.0f}"
        return ReplicaHealth(False, f"lagging {shown}s")
    return ReplicaHealth(True, "ok")


def _close_quietly(alias: str) -> None:
    """A broken connection is dropped; the next use connects afresh."""
    with contextlib.suppress(DatabaseError):
        connections[alias].close()


def database_holding(record: Any, *fields: str) -> str:
    """A healthy replica that already shows `record` with the same `fields` as this process
    read it from the primary, else the primary. For rows a job wrote before it finished: a
    replica that shows the job finished has replayed them all (WAL replays commits in
    order), so a report of them read there is complete."""
    if not replicas() or transaction.get_connection(PRIMARY).in_atomic_block:
        return PRIMARY
    same = {name: getattr(record, name) for name in fields}
    for alias in replicas():
        if not replica_health(alias).ok:
            continue
        try:
            if type(record)._base_manager.using(alias).filter(pk=record.pk, **same).exists():
                return alias
        except OperationalError:
            _mark_down(alias)
            _close_quietly(alias)
    return PRIMARY


# The change feed.


def change_feed_database() -> str:
    """A healthy replica that already holds the primary's newest event, else the primary.

    A feed reader's cursor came from the primary or a replica at least as new, so a replica
    behind the primary could answer "nothing after your cursor" while the primary has events
    there: the reader would wait, or with several replicas see time go back and forth. Asking
    both for their newest event id costs two index probes; the feed's own query (its horizon
    and the range scan) then runs on the replica."""
    if not replicas() or transaction.get_connection(PRIMARY).in_atomic_block:
        return PRIMARY
    healthy = [alias for alias in replicas() if replica_health(alias).ok]
    if not healthy:
        return PRIMARY
    newest = ChangeEvent.objects.using(PRIMARY).aggregate(newest=Max("id"))["newest"] or 0
    for alias in healthy:
        try:
            held = ChangeEvent.objects.using(alias).aggregate(newest=Max("id"))["newest"] or 0
        except OperationalError:
            _mark_down(alias)
            _close_quietly(alias)
            continue
        if held >= newest:
            return alias
    return PRIMARY


# Falling back to the primary when a replica fails under a query.


class _PrimaryFallback:
    """Mixed into a routed queryset's class (clones keep it): an ``OperationalError`` on the
    replica (it went away, its connection broke) marks it down and runs the query once more
    on the primary. A stream (``iterator``) falls back only before its first row: later, the
    rows already handed out cannot be taken back."""

    def _fetch_all(self) -> None:
        try:
            super()._fetch_all()
        except OperationalError:
            if not self._left_replica():
                raise
            super()._fetch_all()

    def count(self) -> int:
        return self._retried("count")

    def exists(self) -> bool:
        return self._retried("exists")

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self._retried("aggregate", *args, **kwargs)

    def iterator(self, chunk_size: int | None = None) -> Iterator[Any]:
        started = False
        try:
            for item in super().iterator(chunk_size=chunk_size):
                started = True
                yield item
        except OperationalError:
            if started or not self._left_replica():
                raise
            yield from super().iterator(chunk_size=chunk_size)

    def _retried(self, name: str, *args: Any, **kwargs: Any) -> Any:
        method = getattr(super(), name)
        try:
            return method(*args, **kwargs)
        except OperationalError:
            if not self._left_replica():
                raise
            return getattr(super(), name)(*args, **kwargs)

    def _left_replica(self) -> bool:
        """Move the query to the primary; False when it already ran there."""
        alias = self.db
        if alias == PRIMARY:
            return False
        logger.warning("Replica %s failed a read; reading from the primary.", alias)
        _mark_down(alias)
        _close_quietly(alias)
        self._db = PRIMARY
        self._result_cache = None
        self._prefetch_done = False
        return True


_fallback_classes: dict[type, type] = {}


def _with_primary_fallback(queryset_class: type) -> type:
    if issubclass(queryset_class, _PrimaryFallback):
        return queryset_class
    if queryset_class not in _fallback_classes:
        _fallback_classes[queryset_class] = type(
            f"{queryset_class.__name__}WithPrimaryFallback", (_PrimaryFallback, queryset_class), {}
        )
    return _fallback_classes[queryset_class]
