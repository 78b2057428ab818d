"""Domain events, recorded by the write services in the outbox (``ChangeEvent``) inside the
same transaction as the write: no event without its commit, no commit without its event.

After the commit, ``events_committed`` is sent with how many events it made; the integrations app
listens to deliver webhooks. Nothing here knows who listens.
"""

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models.expressions import RawSQL
from django.dispatch import Signal
from django.utils import timezone

from customers.models import ChangeEvent

#: Sent after the commit of a transaction that recorded events: ``count``.
events_committed = Signal()

ENTITIES = ("contact", "company", "deal", "activity")
ACTIONS = ("created", "updated", "deleted", "merged")
EVENT_TYPES = (
    *(f"{entity}.{action}" for entity in ENTITIES for action in ACTIONS if action != "merged"),
    "contact.merged",
    "company.merged",
    "deal.stage_changed",
)

_PG_TXID = "pg_current_xact_id()::text::bigint"


def entity_of(instance: models.Model | type[models.Model]) -> str:
    return instance._meta.model_name


def record(
    type: str,
    instance: models.Model,
    *,
    changed: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
) -> ChangeEvent:
    """Record one event about `instance` in the current transaction."""
    event = _event(type, instance, changed=changed, data=data)
    event.save(using=_db(instance))
    _announce_after_commit(1, using=_db(instance))
    return event


def record_change(instance: models.Model, *, created: bool, changed: Iterable[str]) -> None:
    """``<entity>.created``, or ``<entity>.updated`` naming the changed fields; an update
    that changed nothing records nothing."""
    if created:
        record(f"{entity_of(instance)}.created", instance)
        return
    names = sorted(set(changed))
    if names:
        record(f"{entity_of(instance)}.updated", instance, changed=names)


def record_many(
    type: str,
    instances: Sequence[models.Model],
    *,
    changed: Sequence[Iterable[str]] | None = None,
    data: Sequence[Mapping[str, Any]] | None = None,
) -> int:
    """One event per instance, for bulk writes (imports, syncs): one prepared statement run
    for all rows, no model instances (an import writes thousands a chunk)."""
    if not instances:
        return 0
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}.")
    using = _db(instances[0])
    connection = connections[using]
    entity = entity_of(instances[0])
    now = timezone.now()
    no_data = "{}"
    rows = [
        (
            type,
            entity,
            instance.pk,
            getattr(instance, "external_id", None),
            _json_list(changed[i]) if changed else "[]",
            json.dumps(dict(data[i])) if data else no_data,
            now,
        )
        for i, instance in enumerate(instances)
    ]
    quote = connection.ops.quote_name
    table = quote(ChangeEvent._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY: an order of magnitude less work per row than executemany's round trips;
            # the transaction's id is one value for all of them.
            cursor.execute(f"SELECT {_PG_TXID}")
            txid = cursor.fetchone()[0]
            columns = ", ".join(quote(column) for column in _BULK_COLUMNS)
            stamp = now.isoformat()  # as text: psycopg's datetime dumper costs ~1.5 µs a row
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row((*row[:-1], stamp, txid))
        else:
            columns = ", ".join(quote(column) for column in _BULK_COLUMNS[:-1])
            stamp = connection.ops.adapt_datetimefield_value(now)
            cursor.executemany(
                f"INSERT INTO {table} ({columns}, {quote('txid')}) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 0)",
                [(*row[:-1], stamp) for row in rows],
            )
    _announce_after_commit(len(rows), using=using)
    return len(rows)


def _json_list(names: Iterable[str]) -> str:
    return json.dumps(sorted(names)) if names else "[]"


_BULK_COLUMNS = (
    "type",
    "entity",
    "record_id",
    "external_id",
    "changed_fields",
    "data",
    "occurred_at",
    "txid",
)


class CustomValuesSnapshot:
    """A record's custom values before a write, to name the custom fields the write changed.

    Personal values are compared through their blind index: their ciphertext differs on
    every encryption even when the value does not."""

    def __init__(self, instance: models.Model) -> None:
        self.values = dict(getattr(instance, "custom_fields", None) or {})
        self.index = dict(getattr(instance, "custom_index", None) or {})

    def changed_names(self, instance: models.Model) -> set[str]:
        values = instance.custom_fields or {}
        index = instance.custom_index or {}
        changed = set()
        for name in set(values) | set(self.values):
            if name in index or name in self.index:
                if index.get(name) != self.index.get(name):
                    changed.add(name)
            elif values.get(name) != self.values.get(name):
                changed.add(name)
        return changed


def _event(
    type: str,
    instance: models.Model,
    *,
    changed: Iterable[str] = (),
    data: Mapping[str, Any] | None = None,
) -> ChangeEvent:
    if type not in EVENT_TYPES:
        raise ValueError(f"Unknown event type {type!r}.")
    event = ChangeEvent(
        type=type,
        entity=entity_of(instance),
        record_id=instance.pk,
        external_id=getattr(instance, "external_id", None),
        changed_fields=sorted(changed),
        data=dict(data or {}),
    )
    if connections[_db(instance)].vendor == "postgresql":
        event.txid = RawSQL(_PG_TXID, ())
    return event


def _db(instance: models.Model) -> str:
    return instance._state.db or router.db_for_write(type(instance))


def _announce_after_commit(count: int, *, using: str) -> None:
    transaction.on_commit(
        lambda: events_committed.send(sender=ChangeEvent, count=count), using=using
    )
