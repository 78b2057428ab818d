"""A lease in the database: one holder at a time, renewed while alive, taken over once expired.

Why a row rather than PostgreSQL's advisory locks: an advisory lock lives in a session, and
behind PgBouncer in transaction mode (our production set-up) a session is not ours to keep;
a lock also has no SQLite equivalent for the embedded default. A row works on both, across
nodes, and survives the holder's connection dropping for a moment.

Every comparison and every expiry is computed by the database (``Now()``), never by a node's
clock: two nodes whose clocks disagree by a minute still agree on who holds the lease. Taking
and renewing are one conditional UPDATE, so two contenders cannot both succeed: on PostgreSQL
the second waits for the first's row lock and then finds the row no longer expired; SQLite
runs one writer at a time.
"""

from datetime import UTC, datetime, timedelta

from django.db.models import Q
from django.db.models.functions import Now

from integrations.scheduler.models import SchedulerLease

# The state of a lease that was never taken: expired since long ago.
NEVER_HELD = datetime(2000, 1, 1, tzinfo=UTC)


def lease_hold(*, name: str, holder: str, seconds: float) -> bool:
    """Take the lease `name` for `holder`, or renew it, for `seconds` from now. False while
    another holder's lease has not expired."""
    if _take_or_renew(name=name, holder=holder, seconds=seconds):
        return True
    _, created = SchedulerLease.objects.get_or_create(
        name=name, defaults={"holder": "", "expires_at": NEVER_HELD}
    )
    return created and _take_or_renew(name=name, holder=holder, seconds=seconds)


def lease_release(*, name: str, holder: str) -> bool:
    """Give the lease up at once (a clean shutdown), so a standby need not wait for it to
    expire. False when `holder` did not hold it."""
    return bool(
        SchedulerLease.objects.filter(name=name, holder=holder).update(
            holder="", expires_at=NEVER_HELD
        )
    )


def lease_holder(*, name: str) -> str | None:
    """Who holds the lease now (None: nobody, or it expired)."""
    row = SchedulerLease.objects.filter(name=name, expires_at__gte=Now()).first()
    return row.holder if row is not None else None


def _take_or_renew(*, name: str, holder: str, seconds: float) -> bool:
    ours_or_expired = Q(holder=holder) | Q(expires_at__lt=Now())
    return bool(
        SchedulerLease.objects.filter(ours_or_expired, name=name).update(
            holder=holder, expires_at=Now() + timedelta(seconds=seconds)
        )
    )
