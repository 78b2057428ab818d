"""celery beat's scheduler (settings: CELERY_BEAT_SCHEDULER): django-celery-beat's database
scheduler, sending only while it holds the lease (``integrations.scheduler.lease``).

Start two beats, by mistake or for fail-over, and one sends while the other stands by; kill
the sender and the other takes over once its lease expires (BEAT_LEASE_SECONDS), or at once
when it stopped cleanly and gave the lease up.

How it hooks into celery beat: beat's loop calls ``tick()`` and sleeps for what it returns.
A tick renews the lease (every third of its length, so it lives through two missed renewals),
then sends what is due as the database scheduler does; a tick without the lease sends nothing
and checks again a third of a lease later. Every sleep is capped the same way, whatever
``beat_max_loop_interval`` says, so a holder never sleeps through its own lease.

A standby's view of the schedule goes stale while another sends: on taking over it reads the
schedule again from the database, where the sender wrote each send (``last_run_at``) right
after making it. A task sent just before its sender was killed may go out once more: every
task is safe to run twice (``tests/integrations/test_task_redelivery.py``).
"""

import logging
import os
import socket
import time
import uuid

from django.conf import settings
from django.db import DatabaseError
from django_celery_beat.schedulers import DatabaseScheduler

from integrations.scheduler.lease import lease_hold, lease_holder, lease_release

logger = logging.getLogger(__name__)

LEASE_NAME = "celery-beat"


class LeasedDatabaseScheduler(DatabaseScheduler):
    """Sends due tasks only while holding the lease; logs when it takes it over or loses it."""

    def __init__(self, *args, **kwargs):
        self.holder = f"{socket.gethostname()} pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        self.lease_seconds = float(settings.BEAT_LEASE_SECONDS)
        self.renew_every = self.lease_seconds / 3
        self._holding = False
        self._renewed_at = float("-inf")  # time.monotonic() when the last renewal started
        self._told_standing_by = False
        self._database_failing = False
        super().__init__(*args, **kwargs)
        # Write each send's last_run_at at once, not every 3 minutes: a successor reads them.
        self.sync_every_tasks = 1

    def tick(self, *args, **kwargs) -> float:
        if not self._hold_lease():
            return self.renew_every
        return min(super().tick(*args, **kwargs), self.renew_every)

    def close(self) -> None:
        """A clean stop gives the lease up, so a standby takes over without waiting."""
        try:
            super().close()
        finally:
            if self._holding:
                self._holding = False
                try:
                    lease_release(name=LEASE_NAME, holder=self.holder)
                except DatabaseError as error:  # it will expire on its own
                    logger.warning("beat: could not give the lease up: %s", error)

    def _hold_lease(self) -> bool:
        started = time.monotonic()
        if self._holding and started - self._renewed_at < self.renew_every:
            return True
        try:
            held = lease_hold(name=LEASE_NAME, holder=self.holder, seconds=self.lease_seconds)
            self._database_failing = False
        except DatabaseError as error:
            # Not knowing whether we still hold it, we send nothing until we know.
            if not self._database_failing:  # once per outage, not once per tick
                logger.warning("beat: could not reach the scheduler lease: %s", error)
            self._database_failing = True
            held = False
        if held and not self._holding:
            try:
                self._read_schedule_again()
            except DatabaseError as error:  # send nothing from a schedule we could not read
                logger.warning("beat: could not read the schedule: %s", error)
                return False
            logger.info("beat: %s holds the scheduler lease and sends due tasks.", self.holder)
        if held:
            self._renewed_at = started
        elif self._holding:
            logger.warning(
                "beat: %s lost the scheduler lease (held by %s now); standing by.",
                self.holder,
                self._other_holder(),
            )
        elif not self._told_standing_by:
            logger.info(
                "beat: another beat (%s) holds the scheduler lease; %s stands by.",
                self._other_holder(),
                self.holder,
            )
            self._told_standing_by = True
        self._holding = held
        return held

    def _read_schedule_again(self) -> None:
        """What was sent while another beat held the lease is in the database, not here.

        Reads it as DatabaseScheduler does when the schedule changed, noting the change it
        read so that the next look does not take it for a new one: that would rebuild the
        heap a second time, from entries that do not know what the first heap just sent (every
        due task twice)."""
        self.sync()
        self._last_timestamp = self.Changes.last_change()
        self._schedule = self.all_as_schedule()
        self._initial_read = False
        self._heap = []  # tick() builds it again from the schedule just read
        self._heap_invalidated = True

    def _other_holder(self) -> str:
        try:
            return lease_holder(name=LEASE_NAME) or "nobody"
        except DatabaseError:
            return "unknown"
