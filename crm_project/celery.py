"""The Celery application: configuration comes from Django settings (CELERY_* names)."""

import logging
import os
from contextvars import Token

from celery import Celery, current_task, signals

from crm_project.request_id import RequestIdFilter, bind, current_request_id, sane_or_none, unbind

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

app = Celery("crm_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the id of the request that queued a task.
REQUEST_ID_HEADER = "request_id"
_bound_tasks: dict[str, Token] = {}  # task id -> the token that unbinds its request id


class CurrentTask(logging.Filter):
    """Names the task a worker's record was logged in (``task_id``, ``task_name``), as Celery's
    own task log format does, for the JSON lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if current_task and current_task.request.id and not hasattr(record, "task_id"):
            record.task_id, record.task_name = current_task.request.id, current_task.name
        return True


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def configure_worker_handlers(logger, **kwargs) -> None:
    """A worker replaces the root logger's handlers with its own: they mask personal data, name
    the request id and follow LOG_FORMAT too (see ``LOGGING``)."""
    from crm_project.json_logging import JsonFormatter, json_logs
    from crm_project.log_masking import add_filter_to_handlers

    add_filter_to_handlers(logger)
    for handler in logger.handlers:
        for kind in (RequestIdFilter, CurrentTask):
            if not any(isinstance(f, kind) for f in handler.filters):
                handler.addFilter(kind())
        if json_logs():
            handler.setFormatter(JsonFormatter())


@signals.before_task_publish.connect
def carry_request_id(headers=None, **kwargs) -> None:
    """A task queued while a request (or a task) is served carries that request's id."""
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@signals.task_prerun.connect
def bind_request_id(task_id=None, task=None, **kwargs) -> None:
    """The task's log lines name the request that queued it. A task run eagerly inside the
    request keeps the request's id as it is (its message had no header)."""
    request_id = sane_or_none(getattr(task.request, REQUEST_ID_HEADER, None))
    if request_id:
        _bound_tasks[task_id] = bind(request_id)


@signals.task_postrun.connect
def unbind_request_id(task_id=None, **kwargs) -> None:
    token = _bound_tasks.pop(task_id, None)
    if token is not None:
        unbind(token)
