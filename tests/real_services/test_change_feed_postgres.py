"""On PostgreSQL a transaction that took a lower event id can commit after one that took a
higher id. The feed must hold later events back until the earlier transaction ends, so a
reader that moved its cursor past them never misses the late one."""

import threading

import psycopg
import pytest
from django.db import connection, transaction

from customers.actors import SYSTEM
from customers.models import ChangeEvent
from customers.services import contacts
from integrations.services.change_feed import read_changes

pytestmark = pytest.mark.django_db(transaction=True)


def feed_ids(after=None) -> tuple[list[int], str]:
    page = read_changes(after=after, entities=["contact"], limit=1000)
    return [event.id for event in page.events], page.next_cursor


def test_an_event_committed_late_with_a_lower_id_is_not_skipped():
    slow_has_written = threading.Event()
    let_slow_commit = threading.Event()
    slow_ids: list[int] = []

    def slow_writer():
        try:
            with transaction.atomic():
                person = contacts.contact_create(actor=SYSTEM, first_name="Slow")
                slow_ids.append(ChangeEvent.objects.get(record_id=person.pk).id)
                slow_has_written.set()
                assert let_slow_commit.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert slow_has_written.wait(timeout=30)
        fast = contacts.contact_create(
            actor=SYSTEM, first_name="Fast"
        )  # commits first, with a higher id
        fast_id = ChangeEvent.objects.get(record_id=fast.pk).id
        assert fast_id > slow_ids[0]

        while_slow_runs, cursor = feed_ids()
        assert while_slow_runs == []  # the fast event waits behind the running transaction
    finally:
        let_slow_commit.set()
        thread.join(timeout=30)

    after_commit, _ = feed_ids(cursor)
    assert after_commit == [slow_ids[0], fast_id]


def test_events_carry_their_transaction_id_on_postgres():
    person = contacts.contact_create(actor=SYSTEM, first_name="A")
    contacts.contact_update(actor=SYSTEM, contact=person, data={"first_name": "B"})

    txids = list(ChangeEvent.objects.order_by("id").values_list("txid", flat=True))

    assert len(txids) == 2 and all(txid > 0 for txid in txids) and txids[0] != txids[1]


def test_a_long_transaction_in_another_database_does_not_hold_the_feed_back():
    settings_dict = connection.settings_dict
    other = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        dbname="postgres",
    )
    try:
        other.execute("SELECT pg_current_xact_id()")  # holds a transaction id, uncommitted
        person = contacts.contact_create(actor=SYSTEM, first_name="Visible")

        ids, _ = feed_ids()

        assert ids == [ChangeEvent.objects.get(record_id=person.pk).id]
    finally:
        other.rollback()
        other.close()
