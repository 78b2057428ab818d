"""The Celery application: configuration comes from Django settings (CELERY_* names)."""

import os

from celery import Celery, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_project.settings")

app = Celery("crm_project")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.after_setup_logger.connect
@signals.after_setup_task_logger.connect
def mask_personal_data(logger, **kwargs) -> None:
    """A worker replaces the root logger's handlers with its own: they mask personal data in
    what they write too (see ``LOGGING``)."""
    from crm_project.log_masking import add_filter_to_handlers

    add_filter_to_handlers(logger)
