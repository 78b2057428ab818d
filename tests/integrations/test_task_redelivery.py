"""Every task is safe to run twice: a redelivered message (acks_late: a worker killed mid-task,
a broker that lost the ack, beat's successor resending what was due) leaves the database, the
files and the outside world as one delivery did.

The tasks come from Celery's registry, so a new task without a scenario here fails
`test_every_task_has_a_redelivery_scenario` rather than going untested.
"""

import io
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.apps import apps
from django.db import models
from django.utils import timezone

from crm_project.celery import app as celery_app
from customers.actors import SYSTEM
from customers.models import ChangeEvent
from customers.services import contacts
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ImportJob, JobStatus
from integrations.services import sync
from integrations.webhooks.models import WebhookDelivery
from tests.factories import ContactFactory
from tests.integrations.test_exchange_files import finished_export, finished_import
from tests.integrations.test_job_sweep import queued_import, running_export
from tests.integrations.test_sync import make_connection
from tests.integrations.test_task_routes import project_tasks
from tests.integrations.test_webhooks import Receiver
from tests.workers import private_queues, purge_private_queues

pytestmark = pytest.mark.django_db(transaction=True)

Arguments = tuple[list[Any], dict[str, Any]]


class World:
    """What a scenario may set up: the test's settings, folder and a webhook receiver."""

    def __init__(self, settings, tmp_path: Path) -> None:
        self.settings = settings
        self.tmp_path = tmp_path
        self.receiver: Receiver | None = None

    def webhook_receiver(self) -> Receiver:
        self.settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
        self.receiver = Receiver(self.tmp_path, failures=0)
        self.receiver.subscribe(events=["contact.created"])
        return self.receiver


def contact_created_with_a_delivery_due(world: World) -> None:
    world.webhook_receiver()
    contacts.contact_create(actor=SYSTEM, first_name="Hook", external_id="H-1")


def rotate_encryption_keys(world: World) -> Arguments:
    ContactFactory.create_batch(3)
    world.settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *world.settings.FIELD_ENCRYPTION_KEYS,
    ]
    return [], {"batch_size": 2}


def run_import(world: World) -> Arguments:
    job = imports.import_create(
        user=None,
        file=io.BytesIO(b"external_id,first_name,email\nr-1,Ann,ann@example.com\nr-2,Bo,bad\n"),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )
    return [job.pk], {}


def run_export(world: World) -> Arguments:
    ContactFactory.create_batch(3)
    job = exports.export_create(
        user=None, resource="contacts", format="csv", filters={}, include_pii=False, enqueue=False
    )
    return [job.pk], {}


def recover_stalled_imports(world: World) -> Arguments:
    world.settings.IMPORT_HEARTBEAT_STALE_SECONDS = 1
    stalled = queued_import(age=timedelta(minutes=5))
    ImportJob.objects.filter(pk=stalled.pk).update(
        status=JobStatus.RUNNING, heartbeat_at=timezone.now() - timedelta(minutes=5)
    )
    running_export(started=timedelta(minutes=5))
    return [], {}


def sweep_queued_jobs(world: World) -> Arguments:
    world.settings.JOB_SWEEP_INTERVAL_SECONDS = 60
    queued_import(age=timedelta(minutes=1, seconds=30))
    return [], {}


def sync_connection(world: World) -> Arguments:
    """A run by the schedule (beat names the connection only)."""
    world.settings.CONNECTOR_FILE_ROOTS = [str(world.tmp_path)]
    drop = world.tmp_path / "drop"
    drop.mkdir()
    (drop / "people.csv").write_text("external_id,first_name\ns-1,Ann\ns-2,Bo\n")
    connection = make_connection("", connector="file", config={"folder": str(drop)}, mapping={})
    return [connection.pk], {}


def sync_connection_queued_by_hand(world: World) -> Arguments:
    [connection_id], _ = sync_connection(world)
    with private_queues() as queue:
        run = sync.sync_run_queue(sync.Connection.objects.get(pk=connection_id))
        purge_private_queues(queue)
    return [connection_id, run.pk], {}


def purge_exchange_files(world: World) -> Arguments:
    finished_import(days_ago=8)
    finished_export(days_ago=8)
    return [], {}


def purge_idempotency_records(world: World) -> Arguments:
    from integrations.models import IdempotencyRecord

    IdempotencyRecord.objects.create(owner="key:1", key="old", fingerprint="f", status_code=201)
    IdempotencyRecord.objects.update(created_at=timezone.now() - timedelta(days=3))
    return [], {}


def purge_change_events(world: World) -> Arguments:
    ContactFactory.create_batch(2)
    ChangeEvent.objects.update(occurred_at=timezone.now() - timedelta(days=365))
    return [], {}


def webhooks_relay(world: World) -> Arguments:
    contact_created_with_a_delivery_due(world)
    return [], {}


def webhooks_deliver_due(world: World) -> Arguments:
    contact_created_with_a_delivery_due(world)
    from integrations.webhooks import services as webhooks

    webhooks.relay_events()
    return [], {}


SCENARIOS: dict[str, list[Callable[[World], Arguments]]] = {
    "customers.rotate_encryption_keys": [rotate_encryption_keys],
    "integrations.run_import": [run_import],
    "integrations.run_export": [run_export],
    "integrations.recover_stalled_imports": [recover_stalled_imports],
    "integrations.sweep_queued_jobs": [sweep_queued_jobs],
    "integrations.sync_connection": [sync_connection, sync_connection_queued_by_hand],
    "integrations.purge_exchange_files": [purge_exchange_files],
    "integrations.purge_idempotency_records": [purge_idempotency_records],
    "integrations.purge_change_events": [purge_change_events],
    "webhooks.relay": [webhooks_relay],
    "webhooks.deliver_due": [webhooks_deliver_due],
    "webhooks.sweep": [webhooks_relay],
}


def test_every_task_has_a_redelivery_scenario():
    assert project_tasks() - set(SCENARIOS) == set(), "add a scenario to SCENARIOS"


# Stamps that say when a row was last looked at, not what it holds.
MOMENTS = (models.DateTimeField,)


def database_state() -> dict[str, list[tuple]]:
    """Every row of every table, timestamps left out, in primary-key order."""
    state = {}
    for model in apps.get_models():
        fields = [
            field.attname for field in model._meta.concrete_fields if not isinstance(field, MOMENTS)
        ]
        rows = model._default_manager.order_by("pk").values_list(*fields)
        state[model._meta.label] = list(rows)
    return state


def files_state(root: Path) -> list[tuple[str, int]]:
    return sorted(
        (str(path.relative_to(root)), path.stat().st_size)
        for path in root.rglob("*")
        if path.is_file() and "heartbeats" not in path.parts
    )


def outside_state(world: World) -> list[tuple[str, int]]:
    """What reached the outside world: each webhook delivery the receiver accepted."""
    if world.receiver is None:
        return []
    received = world.receiver.received()
    return sorted((request["delivery"], request["status"]) for request in received)


@pytest.mark.parametrize(
    "task_name, scenario",
    [(task, scenario) for task, scenarios in SCENARIOS.items() for scenario in scenarios],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_running_a_task_twice_leaves_what_running_it_once_did(
    task_name, scenario, settings, tmp_path
):
    media = settings.MEDIA_ROOT = tmp_path / "media"  # beside a connection's drop folder
    world = World(settings, tmp_path)
    task = celery_app.tasks[task_name]
    try:
        with private_queues() as queue:
            args, kwargs = scenario(world)
            message = {"args": args, "kwargs": kwargs, "task_id": str(uuid.uuid4())}
            task.apply(**message, throw=True)
            once = (database_state(), files_state(media), outside_state(world))

            task.apply(**message, throw=True)  # the same message again, id included
            twice = (database_state(), files_state(media), outside_state(world))
            purge_private_queues(queue)
    finally:
        if world.receiver is not None:
            world.receiver.stop()

    changed = {
        table: (rows, twice[0][table]) for table, rows in once[0].items() if rows != twice[0][table]
    }
    assert changed == {}, f"a second run changed these tables: {changed}"
    assert twice[1] == once[1], "a second run changed the files"
    assert twice[2] == once[2], "a second run reached the outside world again"
    if world.receiver is not None:  # and it was reached, once
        assert [status for _, status in once[2]] == [204]
        assert WebhookDelivery.objects.count() == 1
