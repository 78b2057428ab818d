"""Each task goes to the queue of its kind of work, and every worker consumes every queue.

The queues and the routes are in crm_project/queues.py; a task added without choosing its queue
fails here rather than landing on the default queue by accident.
"""

import io
import re
import shlex
from pathlib import Path

import pytest
from django.conf import settings

from crm_project import queues
from crm_project.celery import app as celery_app
from integrations.imports import services as imports
from integrations.services import job_sweep
from scripts import run_dev
from tests.workers import BASE_DIR, messages_waiting, private_queues, purge_private_queues


def project_tasks() -> set[str]:
    celery_app.loader.import_default_modules()  # every installed app's tasks module
    return {name for name in celery_app.tasks if not name.startswith("celery.")}


def test_every_task_of_the_project_has_chosen_its_queue():
    assert project_tasks(), "no task registered: the walk over the registry is broken"
    unrouted = project_tasks() - set(queues.TASK_QUEUES)
    assert not unrouted, f"add these to crm_project/queues.py TASK_QUEUES: {sorted(unrouted)}"


def test_no_route_names_a_task_that_does_not_exist():
    assert set(queues.TASK_QUEUES) - project_tasks() == set()


def test_routes_lead_to_the_five_queues_and_each_has_work():
    assert queues.QUEUES == ("crm", "imports", "exports", "syncs", "webhooks")
    assert set(queues.TASK_QUEUES.values()) == set(queues.QUEUES)


@pytest.mark.parametrize(
    ("task", "queue"),
    [
        ("integrations.run_import", "imports"),
        ("integrations.run_export", "exports"),
        ("integrations.sync_connection", "syncs"),
        ("webhooks.relay", "webhooks"),
        ("webhooks.deliver_due", "webhooks"),
        ("integrations.sweep_queued_jobs", "crm"),
        ("customers.rotate_encryption_keys", "crm"),
    ],
)
def test_the_settings_route_each_task_by_name(task, queue):
    route = celery_app.amqp.router.route({}, task)
    assert route["queue"].name == settings.CELERY_QUEUE_PREFIX + queue


def test_a_task_of_no_route_goes_to_the_default_queue():
    assert celery_app.amqp.router.route({}, "celery.backend_cleanup")["queue"].name == "crm"


def test_a_worker_started_without_a_queue_option_consumes_every_queue():
    declared = celery_app.amqp.Queues(settings.CELERY_TASK_QUEUES)  # what a new worker builds
    assert sorted(declared.consume_from) == sorted(queues.queue_names(settings.CELERY_QUEUE_PREFIX))


def test_the_prefix_renames_every_queue_and_route():
    routes = queues.task_routes("staging-")
    assert routes["integrations.run_import"] == {"queue": "staging-imports"}
    assert queues.queue_names("staging-") == [f"staging-{name}" for name in queues.QUEUES]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("media_in_tmp")
def test_the_job_sweep_publishes_a_queued_import_to_the_imports_queue():
    job = imports.import_create(
        user=None,
        file=io.BytesIO(b"first_name\nAda\n"),
        filename="people.csv",
        resource="contacts",
        enqueue=False,
    )
    with private_queues() as queue:
        prefix = queue.removesuffix(queues.DEFAULT_QUEUE)
        try:
            swept = job_sweep.sweep_queued_jobs()
            waiting = {name: messages_waiting(prefix + name) for name in ("imports", "crm")}
        finally:
            purge_private_queues(queue)

    assert swept.imports == [job.pk]
    assert waiting == {"imports": 1, "crm": 0}


def test_make_run_starts_a_worker_that_consumes_every_queue():
    worker = run_dev.commands()["Celery worker"]
    assert "worker" in worker
    assert "-Q" not in worker and "--queues" not in worker


WORKER_COMMAND = re.compile(r"celery\s+-A\s+crm_project\s+worker[^\n`]*")


def worker_commands(path: Path) -> list[list[str]]:
    return [shlex.split(line.split("#")[0]) for line in WORKER_COMMAND.findall(path.read_text())]


def queue_option(command: list[str]) -> set[str] | None:
    for flag in ("-Q", "--queues"):
        if flag in command:
            return set(command[command.index(flag) + 1].split(","))
    return None


def documented_places() -> list[Path]:
    places = [BASE_DIR / "README.md", BASE_DIR / "Makefile", *BASE_DIR.glob("docs/*.md")]
    return places + sorted((BASE_DIR / ".ci").iterdir())


def test_the_documented_worker_commands_name_only_real_queues_and_one_takes_them_all():
    commands = [command for path in documented_places() for command in worker_commands(path)]
    named = [queue_option(command) for command in commands]

    assert commands, "the README shows no worker command"
    assert all(option is None or option <= set(queues.QUEUES) for option in named), named
    assert set(queues.QUEUES) in named, "no documented worker consumes every queue"
