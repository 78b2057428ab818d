"""``LOG_FORMAT=json``: every log line one JSON object, for log collectors that parse fields
rather than text. Django's handlers (settings ``LOGGING``), Celery's (``crm_project/celery.py``)
and gunicorn's (``crm_project/gunicorn_logging.py``) all take their formatter from here.
"""

import logging
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from pythonjsonlogger.json import JsonFormatter as LibraryJsonFormatter

from crm_project.env import env_str
from crm_project.log_masking import mask_text

LOG_FORMATS = ("text", "json")
TASK_FIELDS = ("task_id", "task_name")  # set by crm_project.celery.CurrentTask in a worker


def log_format() -> str:
    """``text`` (the default: lines as Django, Celery and gunicorn write them) or ``json``."""
    chosen = (env_str("LOG_FORMAT") or "text").strip().lower()
    if chosen not in LOG_FORMATS:
        raise ImproperlyConfigured(f"LOG_FORMAT must be text or json, got {chosen!r}.")
    return chosen


def json_logs() -> bool:
    return log_format() == "json"


class JsonFormatter(LibraryJsonFormatter):
    """One object per line: ``timestamp`` (ISO 8601, UTC), ``level``, ``logger``, ``message``,
    ``request_id`` (null outside a request or a task it queued); ``task_id`` and ``task_name``
    in a Celery task; ``exc_info`` / ``stack_info`` when the record has them.

    Only those fields: a record's other attributes are not dumped as the library would, because
    Django puts the request itself on its records (``extra={"request": request}``) and its text
    holds the full URL, personal query parameters and all. Every string written is masked
    (``crm_project.log_masking``): the message already is by the handlers' filter, a
    traceback's text is not.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("json_ensure_ascii", False)  # names in Chinese stay readable
        super().__init__(*args, **kwargs)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        log_data["timestamp"] = datetime.fromtimestamp(record.created, tz=UTC).isoformat(
            timespec="milliseconds"
        )
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["message"] = record.message
        log_data["request_id"] = getattr(record, "request_id", None)
        for name in TASK_FIELDS:
            if hasattr(record, name):
                log_data[name] = getattr(record, name)
        log_data.update(message_dict)

    def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
        return {
            name: mask_text(value) if isinstance(value, str) else value
            for name, value in log_data.items()
        }
