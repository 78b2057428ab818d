"""The scheduler lease on PostgreSQL: the same rules as on SQLite, and one winner when many
contenders ask at the same moment (the conditional UPDATE under row locks)."""

import threading

import pytest
from django.db import connection

from integrations.scheduler.lease import lease_hold, lease_holder
from tests.integrations.test_beat_lease import (  # noqa: F401 (collected here, on PostgreSQL)
    expire,
    test_a_holder_that_comes_back_after_expiry_takes_its_lease_again_if_nobody_did,
    test_a_holder_whose_lease_was_taken_over_cannot_renew_it,
    test_a_released_lease_is_taken_at_once_without_waiting_for_expiry,
    test_an_expired_lease_is_taken_by_the_next_contender,
    test_another_contender_cannot_take_a_lease_that_has_not_expired,
    test_leases_of_different_names_are_independent,
    test_only_the_holder_can_release_a_lease,
    test_the_first_contender_takes_a_lease_nobody_held,
    test_the_holder_renews_its_lease_for_as_long_again,
    test_the_lease_expires_in_the_given_seconds_from_now,
)

pytestmark = pytest.mark.django_db(transaction=True)

CONTENDERS = 8
LEASE = "celery-beat"


def contend() -> list[str]:
    """Every contender asks at once, each on its own connection; who got the lease."""
    start = threading.Barrier(CONTENDERS)
    winners: list[str] = []

    def contender(holder: str) -> None:
        try:
            start.wait()
            if lease_hold(name=LEASE, holder=holder, seconds=30):
                winners.append(holder)
        finally:
            connection.close()

    threads = [threading.Thread(target=contender, args=(f"beat-{n}",)) for n in range(CONTENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return winners


def test_of_contenders_for_a_lease_nobody_held_exactly_one_wins():
    winners = contend()

    assert len(winners) == 1, winners
    assert lease_holder(name=LEASE) == winners[0]


def test_of_contenders_for_an_expired_lease_exactly_one_wins():
    lease_hold(name=LEASE, holder="dead", seconds=30)
    expire()

    winners = contend()

    assert len(winners) == 1, winners
    assert lease_holder(name=LEASE) == winners[0]
