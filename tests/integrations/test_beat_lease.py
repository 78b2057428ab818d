"""The scheduler lease's rules (integrations/scheduler/lease.py): one holder at a time, renewed
while alive, taken by another only once it has expired. On the embedded SQLite here, on
PostgreSQL in tests/real_services/test_beat_lease_postgres.py (the same tests)."""

import os
import signal
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db.models.functions import Now
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from crm_project.celery import app as celery_app
from integrations.scheduler.beat import LeasedDatabaseScheduler
from integrations.scheduler.lease import lease_hold, lease_holder, lease_release
from integrations.scheduler.models import SchedulerLease
from tests.workers import (
    celery_beat,
    messages_waiting,
    private_queue_names,
    private_queues,
    purge_private_queues,
    wait_for,
)

pytestmark = pytest.mark.django_db

LEASE = "celery-beat"


def expire(name: str = LEASE) -> None:
    """As if the holder's last renewal were longer ago than its lease."""
    SchedulerLease.objects.filter(name=name).update(expires_at=Now() - timedelta(seconds=1))


def test_the_first_contender_takes_a_lease_nobody_held():
    assert lease_hold(name=LEASE, holder="a", seconds=30)
    assert lease_holder(name=LEASE) == "a"


def test_the_lease_expires_in_the_given_seconds_from_now():
    lease_hold(name=LEASE, holder="a", seconds=30)

    expires_at = SchedulerLease.objects.get(name=LEASE).expires_at
    assert timedelta(seconds=28) < expires_at - timezone.now() <= timedelta(seconds=30)


def test_another_contender_cannot_take_a_lease_that_has_not_expired():
    lease_hold(name=LEASE, holder="a", seconds=30)

    assert not lease_hold(name=LEASE, holder="b", seconds=30)
    assert lease_holder(name=LEASE) == "a"


def test_the_holder_renews_its_lease_for_as_long_again():
    lease_hold(name=LEASE, holder="a", seconds=5)
    first = SchedulerLease.objects.get(name=LEASE).expires_at

    assert lease_hold(name=LEASE, holder="a", seconds=30)
    assert SchedulerLease.objects.get(name=LEASE).expires_at > first + timedelta(seconds=20)


def test_an_expired_lease_is_taken_by_the_next_contender():
    lease_hold(name=LEASE, holder="a", seconds=30)
    expire()

    assert lease_holder(name=LEASE) is None
    assert lease_hold(name=LEASE, holder="b", seconds=30)
    assert lease_holder(name=LEASE) == "b"


def test_a_holder_whose_lease_was_taken_over_cannot_renew_it():
    lease_hold(name=LEASE, holder="a", seconds=30)
    expire()
    lease_hold(name=LEASE, holder="b", seconds=30)

    assert not lease_hold(name=LEASE, holder="a", seconds=30)
    assert lease_holder(name=LEASE) == "b"


def test_a_holder_that_comes_back_after_expiry_takes_its_lease_again_if_nobody_did():
    lease_hold(name=LEASE, holder="a", seconds=30)
    expire()

    assert lease_hold(name=LEASE, holder="a", seconds=30)


def test_a_released_lease_is_taken_at_once_without_waiting_for_expiry():
    lease_hold(name=LEASE, holder="a", seconds=30)

    assert lease_release(name=LEASE, holder="a")
    assert lease_holder(name=LEASE) is None
    assert lease_hold(name=LEASE, holder="b", seconds=30)


def test_only_the_holder_can_release_a_lease():
    lease_hold(name=LEASE, holder="a", seconds=30)

    assert not lease_release(name=LEASE, holder="b")
    assert lease_holder(name=LEASE) == "a"


def test_leases_of_different_names_are_independent():
    assert lease_hold(name="one", holder="a", seconds=30)
    assert lease_hold(name="two", holder="b", seconds=30)
    assert SchedulerLease.objects.count() == 2


BEAT_ENV = {"BEAT_LEASE_SECONDS": "3", "JOB_SWEEP_INTERVAL_SECONDS": "1"}
LEASE_SECONDS = 3
SENT = "Scheduler: Sending due task"


def sent(log: Path) -> int:
    return log.read_text().count(SENT)


def sweep_sent_at(*logs: Path) -> list[datetime]:
    """When each beat sent the job sweep (due every second), from their log lines."""
    stamps = [
        datetime.strptime(line[1:24], "%Y-%m-%d %H:%M:%S,%f")
        for log in logs
        for line in log.read_text().splitlines()
        if f"{SENT} sweep-queued-jobs" in line
    ]
    return sorted(stamps)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_of_two_beats_only_one_sends_and_the_other_takes_over_once_it_is_killed(tmp_path):
    """Real `celery beat` processes; the schedule sends the job sweep every second."""
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with private_queues() as queue:
        try:
            with celery_beat(first_log, queue=queue, extra_env=BEAT_ENV) as first:
                wait_for(lambda: sent(first_log) >= 1, timeout=30)
                with celery_beat(second_log, queue=queue, extra_env=BEAT_ENV):
                    wait_for(lambda: "stands by" in second_log.read_text(), timeout=30)
                    before = sent(first_log)
                    time.sleep(2 * LEASE_SECONDS)  # both alive for two leases

                    assert sent(second_log) == 0, second_log.read_text()
                    assert sent(first_log) >= before + LEASE_SECONDS  # the first went on
                    os.kill(first.pid, signal.SIGKILL)
                    killed = time.monotonic()
                    wait_for(lambda: sent(second_log) >= 1, timeout=LEASE_SECONDS + 15)
                    took_over_after = time.monotonic() - killed
                    wait_for(lambda: sent(second_log) >= 2, timeout=30)
            waiting = sum(messages_waiting(name) for name in private_queue_names(queue))
        finally:
            purge_private_queues(queue)

    # The lease runs out at most LEASE_SECONDS after the kill and the standby looks every
    # third of it; the rest is slack for a busy machine (reading the schedule, the log).
    assert took_over_after < LEASE_SECONDS + LEASE_SECONDS / 3 + 3, took_over_after
    assert "holds the scheduler lease" in second_log.read_text()
    # Every send reached the broker once: no beat sent twice, none sent without logging.
    # (SIGKILL may fall between the first's last log line and its publish.)
    sends = sent(first_log) + sent(second_log)
    assert sends - 1 <= waiting <= sends, (sends, waiting)
    # Never twice at once: not by the two beats, nor by the second as it took over.
    stamps = sweep_sent_at(first_log, second_log)
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:], strict=False)]
    assert min(gaps) > timedelta(seconds=0.5), stamps


class Beats:
    """Two schedulers in this process, as two `celery beat`s would run them, sending to
    private queues; `sent()` counts what reached the broker."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self.first = LeasedDatabaseScheduler(app=celery_app)
        self.second = LeasedDatabaseScheduler(app=celery_app)

    def sent(self) -> int:
        return sum(messages_waiting(name) for name in private_queue_names(self.queue))

    def close(self) -> None:
        for scheduler in (self.first, self.second):
            scheduler.close()


def make_the_sweep_due() -> None:
    PeriodicTask.objects.filter(name="sweep-queued-jobs").update(
        last_run_at=timezone.now() - timedelta(hours=1)
    )


@pytest.fixture
def beats():
    with private_queues() as queue:
        running = Beats(queue)
        make_the_sweep_due()
        try:
            yield running
        finally:
            running.close()
            purge_private_queues(queue)


@pytest.mark.django_db(transaction=True)
def test_the_first_scheduler_sends_what_is_due_and_the_second_sends_nothing(beats):
    assert beats.first.tick() == 0  # sent one, and looks again at once
    beats.first.tick()

    assert beats.second.tick() == beats.second.lease_seconds / 3
    assert beats.sent() == 1
    assert lease_holder(name=LEASE) == beats.first.holder


@pytest.mark.django_db(transaction=True)
def test_a_holder_never_sleeps_past_a_third_of_its_lease():
    scheduler = LeasedDatabaseScheduler(app=celery_app, max_interval=300)
    try:
        with private_queues():
            assert scheduler.tick() <= scheduler.lease_seconds / 3
    finally:
        scheduler.close()


@pytest.mark.django_db(transaction=True)
def test_a_successor_does_not_send_again_what_the_holder_sent(beats):
    beats.first.tick()
    expire()

    beats.second.tick()
    beats.second.tick()

    assert lease_holder(name=LEASE) == beats.second.holder
    assert beats.sent() == 1


@pytest.mark.django_db(transaction=True)
def test_a_successor_sends_what_fell_due_since_once(beats):
    beats.first.tick()
    expire()
    make_the_sweep_due()

    for _ in range(3):
        beats.second.tick()

    assert beats.sent() == 2


@pytest.mark.django_db(transaction=True)
def test_a_holder_that_lost_its_lease_stops_sending_and_says_so_once(beats, caplog):
    beats.first.tick()
    expire()
    beats.second.tick()
    make_the_sweep_due()
    beats.first._renewed_at = float("-inf")  # its next tick renews

    with caplog.at_level("INFO", logger="integrations.scheduler.beat"):
        beats.first.tick()
        beats.first.tick()

    assert beats.sent() == 1
    lost = [record for record in caplog.records if "lost the scheduler lease" in record.message]
    assert len(lost) == 1 and beats.second.holder in lost[0].message


@pytest.mark.django_db(transaction=True)
def test_a_clean_stop_hands_the_lease_over_at_once(beats):
    beats.first.tick()

    beats.first.close()

    assert lease_holder(name=LEASE) is None
    beats.second.tick()
    assert lease_holder(name=LEASE) == beats.second.holder
