"""Who wrote what: the one point every write service reports its actor to.

Each entity's private write helper (``_write`` in ``contacts``, ``companies``, ``deals``,
``activities``; the deletes and merges beside them) and the import's ``write_chunk`` call
``notify`` once per write, with the records written and the ``Actor`` behind them. Field
history (and an audit of who changed what) hooks here, in one place, instead of once per door.
The outbox events do not store the actor: that would take a migration, and their shape is the
change feed's public contract.

Observers run inside the write's transaction, after the rows are saved, so an observer that
writes rows commits or rolls back with the write; one that keeps anything outside the database
waits for ``transaction.on_commit`` (the admin validates a form by running the service in a
savepoint it rolls back). They are called with keywords only::

    def observer(*, actor: Actor, entity: str, action: str, records: Sequence[Model]) -> None

`action` is ``created``, ``updated``, ``deleted`` or ``merged`` (a bulk import reports the
records of a chunk in one call per action, so an observer costs nothing per row). Register
with ``add_observer`` (tests use ``observing``); the registry is process-wide.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import models

from customers.actors import Actor

Observer = Callable[..., None]

_observers: list[Observer] = []


def add_observer(observer: Observer) -> None:
    if observer not in _observers:
        _observers.append(observer)


def remove_observer(observer: Observer) -> None:
    if observer in _observers:
        _observers.remove(observer)


@contextmanager
def observing(observer: Observer) -> Iterator[Observer]:
    """`observer` sees the writes made inside the block."""
    add_observer(observer)
    try:
        yield observer
    finally:
        remove_observer(observer)


def notify(
    *, actor: Actor, entity: str, action: str, records: Sequence[models.Model] | Any
) -> None:
    """Report a write. `actor` is required: a write nobody can name is a bug in its door."""
    if not isinstance(actor, Actor):
        raise TypeError(f"A write needs an Actor, not {actor!r}.")
    if not _observers or not records:
        return
    records = list(records)
    for observer in list(_observers):
        observer(actor=actor, entity=entity, action=action, records=records)
