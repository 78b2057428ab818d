"""gunicorn's settings for this project, read by gunicorn when started from this folder:
access and error logs with personal data masked (see crm_project/gunicorn_logging.py)."""

logger_class = "crm_project.gunicorn_logging.MaskingLogger"
