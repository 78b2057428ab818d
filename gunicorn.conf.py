"""gunicorn's settings for this project, read by gunicorn when started from this folder:
access and error logs with personal data masked (see crm_project/gunicorn_logging.py), and
every worker's request metrics kept apart and cleaned up (crm_project/operations)."""

from crm_project.operations.gunicorn_hooks import child_exit, on_starting  # noqa: F401

logger_class = "crm_project.gunicorn_logging.MaskingLogger"
