"""gunicorn's settings for this project, read by gunicorn when started from this folder
(`gunicorn crm_project.wsgi`); options on the command line or in GUNICORN_CMD_ARGS win over
these. README "Running in production" says how to size them. Every worker's request metrics
are kept apart and cleaned up by the two hooks (crm_project/operations)."""

import os

from crm_project.env import env_int, env_list
from crm_project.operations.gunicorn_hooks import child_exit, on_starting  # noqa: F401

# Logs as the app writes them: personal data masked, the request id on each line, JSON under
# LOG_FORMAT=json (crm_project/gunicorn_logging.py).
logger_class = "crm_project.gunicorn_logging.MaskingLogger"

bind = env_list("GUNICORN_BIND", ["127.0.0.1:8000"])

# gunicorn's own rule of thumb (2 per core + 1), capped: every worker thread holds a database
# connection of its own (DATABASE_CONN_MAX_AGE keeps it), and the Celery workers, beat and a
# migration share PostgreSQL's default max_connections=100 with them.
MAX_DEFAULT_WORKERS = 12
workers = env_int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1) + 1, MAX_DEFAULT_WORKERS))
# One thread per worker (gunicorn's sync worker) by default: measured here (REST list, 2 workers
# on 2 cores, PostgreSQL on the same host), two threads per worker served 20-50% fewer requests,
# the threads contending for the GIL on the app's own Python. GUNICORN_THREADS above 1 (the
# gthread worker) pays off only where requests mostly wait: a database across a slow network,
# slow clients without a buffering proxy in front.
threads = env_int("GUNICORN_THREADS", 1)
worker_class = "gthread" if threads > 1 else "sync"

# Requests are short: imports and exports are an upload or a download plus a Celery job, so a
# worker stuck past this is broken; gunicorn kills and replaces it.
timeout = env_int("GUNICORN_TIMEOUT", 30)
# On restart (SIGHUP, a deploy) a worker gets as long to finish its requests as one may take.
graceful_timeout = timeout
# Seconds an idle client connection stays open. A proxy that keeps connections to us open must
# close them sooner (nginx: `keepalive_timeout` in the upstream block), or it may send a
# request on a connection we are closing.
keepalive = 5

# A worker is replaced after this many requests (staggered by the jitter so they do not all
# restart at once): a slow leak in a dependency cannot grow a worker for ever. A fresh worker
# costs about a second of CPU to import the app; at a few hundred requests a second that is
# one restart a minute or so per worker.
max_requests = 5000
max_requests_jitter = 500

# The client's scheme and address behind a TLS proxy are the app's to judge
# (USE_X_FORWARDED_PROTO, TRUSTED_PROXY_COUNT), not gunicorn's: gunicorn only trusts
# X-Forwarded-* from the addresses in FORWARDED_ALLOW_IPS (its own variable, default the
# loopback), which matters only for the wsgi.url_scheme it passes on.
