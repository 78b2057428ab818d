"""The change feed: domain events from the outbox in a stable order, for systems that poll.

A reader must never miss an event. On SQLite one writer commits at a time, so id order is
commit order. On PostgreSQL a transaction that took a lower id can commit after one with a
higher id, so events are ordered by (writing transaction id, id) and only those of
transactions older than the oldest one still running are served: everything below that
horizon has committed (or rolled back, taking its events with it), so no event can later
appear behind a cursor already handed out. A long transaction in this database holds the
feed back until it ends (ones in other databases of the server do not); it never makes a
reader skip anything. A read replica serves the feed only once it holds every event the primary
has (``customers.read_routing.change_feed_database``); its horizon is computed there, from the
transactions it knows to be running.
"""

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import read_routing
from customers.events import ENTITIES, EVENT_TYPES
from customers.models import ChangeEvent
from integrations.models import ApiKey
from integrations.scopes import has_scope
from integrations.webhooks.models import WebhookDelivery

MAX_LIMIT = 1000
DEFAULT_LIMIT = 100
_CURSOR = re.compile(r"^(\d{1,20})-(\d{1,20})$")
# The oldest transaction still running that may write here: every running transaction of the
# snapshot except those known to belong to another database on the same server (a long
# transaction there must not hold this feed back). A transaction not yet visible in
# pg_stat_activity counts as ours, so the horizon can only be too early, never too late.
_PG_HORIZON = """(
    WITH snapshot AS (SELECT pg_current_snapshot() AS s)
    SELECT COALESCE(
        (
            SELECT min(xid::text::bigint)
            FROM snapshot, pg_snapshot_xip(snapshot.s) AS xid
            WHERE (xid::text::bigint %% 4294967296) NOT IN (
                SELECT backend_xid::text::bigint
                FROM pg_stat_activity
                WHERE backend_xid IS NOT NULL
                  AND datname IS DISTINCT FROM current_database()
            )
        ),
        (SELECT pg_snapshot_xmax(snapshot.s)::text::bigint FROM snapshot)
    )
)"""


# The API scope's resource of each entity: ``contacts:read`` reads contact events.
RESOURCE_OF_ENTITY = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "activity": "activities",
}


def readable_entities(*, user: Any, api_key: ApiKey | None) -> list[str]:
    """The entities whose events (and records) `user` may read through `api_key` (None: a
    session): the user's ``customers.view_<entity>`` and the key's ``<entities>:read``, as for
    the records themselves. The feed serves these; a webhook subscribes to and is delivered
    only these, checked again at each delivery since rights change."""
    if user is None or not user.is_active:
        return []
    if api_key is not None and (api_key.is_revoked or api_key.is_expired):
        return []
    return [
        entity
        for entity in ENTITIES
        if user.has_perm(f"customers.view_{entity}")
        and (api_key is None or has_scope(api_key.scopes, f"{RESOURCE_OF_ENTITY[entity]}:read"))
    ]


@dataclass(frozen=True)
class FeedPage:
    events: list[ChangeEvent]
    next_cursor: str
    has_more: bool


def cursor_of(event: ChangeEvent) -> str:
    return f"{event.txid}-{event.id}"


def parse_cursor(cursor: str) -> tuple[int, int]:
    match = _CURSOR.match(cursor or "")
    if not match:
        raise ValidationError({"after": _("Not a cursor of this feed; use a next_cursor it gave.")})
    return int(match.group(1)), int(match.group(2))


def read_changes(
    *,
    after: str | None,
    entities: Collection[str],
    types: Collection[str] | None = None,
    limit: int = DEFAULT_LIMIT,
) -> FeedPage:
    """Up to `limit` events after the cursor `after` (None: from the start) about `entities`,
    optionally only of `types`. `next_cursor` continues after the last one returned (or
    stays at `after` when nothing new is visible)."""
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError({"limit": _("Use a limit from 1 to %(most)d.") % {"most": MAX_LIMIT}})
    unknown = sorted(set(types or ()) - set(EVENT_TYPES))
    if unknown:
        message = _("Unknown event types: %(unknown)s; known: %(known)s.") % {
            "unknown": ", ".join(unknown),
            "known": ", ".join(EVENT_TYPES),
        }
        raise ValidationError({"types": message})
    using = read_routing.change_feed_database()
    queryset = _visible(ChangeEvent.objects.filter(entity__in=list(entities)), using)
    if types:
        queryset = queryset.filter(type__in=list(types))
    if after:
        txid, event_id = parse_cursor(after)
        queryset = queryset.filter(Q(txid__gt=txid) | Q(txid=txid, id__gt=event_id))
    queryset = read_routing.on_database(queryset.order_by("txid", "id"), using)
    events = list(queryset[: limit + 1])
    has_more = len(events) > limit
    events = events[:limit]
    next_cursor = cursor_of(events[-1]) if events else (after or "0-0")
    return FeedPage(events=events, next_cursor=next_cursor, has_more=has_more)


def _visible(queryset: QuerySet[ChangeEvent], using: str) -> QuerySet[ChangeEvent]:
    if connections[using].vendor == "postgresql":
        return queryset.filter(txid__lt=RawSQL(_PG_HORIZON, ()))
    return queryset


def purge_change_events(*, older_than_days: int | None = None) -> int:
    """Delete events older than the retention (``CHANGE_EVENT_RETENTION_DAYS``), except those
    a webhook delivery still waits to send; returns how many went. A feed reader polls more
    often than that, or starts again from the beginning."""
    days = settings.CHANGE_EVENT_RETENTION_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    waiting = WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).values(
        "event_id"
    )
    deleted, _ = ChangeEvent.objects.filter(occurred_at__lt=cutoff).exclude(pk__in=waiting).delete()
    return deleted
