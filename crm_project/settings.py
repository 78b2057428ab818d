"""Settings for the CRM, read from the environment.

With no environment at all the project runs on the embedded default: a SQLite file and a
filesystem Celery broker under ``var/``, and development keys generated once into
``var/dev-secrets.json``. Production switches components by environment variables only.
"""

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from kombu import Exchange, Queue

from crm_project import dev_secrets, queues, storage_url
from crm_project.databases import database_from_url, replica_databases
from crm_project.env import env_bool, env_groups, env_int, env_list, env_str
from crm_project.json_logging import log_format

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CRM_VAR_DIR") or BASE_DIR / "var")

DEBUG = env_bool("DEBUG", default=True)

_KEY_NAMES = ("SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "BLIND_INDEX_KEY")
_missing_keys = [name for name in _KEY_NAMES if not env_str(name)]
if _missing_keys and not DEBUG:
    raise ImproperlyConfigured(
        f"With DEBUG off these variables must be set: {', '.join(_missing_keys)}. "
        "Development keys are only generated when DEBUG is on."
    )
_dev_keys = dev_secrets.load_or_create(VAR_DIR / "dev-secrets.json") if _missing_keys else {}

SECRET_KEY = env_str("SECRET_KEY") or _dev_keys["SECRET_KEY"]

# Fernet keys for PII at rest: the first encrypts, every key decrypts (rotation without downtime).
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS") or _dev_keys[
    "FIELD_ENCRYPTION_KEYS"
].split(",")
# Keyed HMAC for blind indexes (exact-match search over encrypted columns).
BLIND_INDEX_KEY = env_str("BLIND_INDEX_KEY") or _dev_keys["BLIND_INDEX_KEY"]
# Country calling code assumed for phone numbers written without one (e.g. "138 0013 8000").
PHONE_DEFAULT_COUNTRY_CODE = env_str("PHONE_DEFAULT_COUNTRY_CODE", "86")
DEFAULT_CURRENCY = env_str("DEFAULT_CURRENCY", "CNY")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "csp",
    "axes",
    "customers",
    "integrations",
]

MIDDLEWARE = [
    # First: every response carries X-Request-ID and every log line of the request names it.
    "crm_project.request_id.RequestIdMiddleware",
    # Then: counts and times every response, redirects and refusals included (/metrics).
    "crm_project.operations.middleware.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files answered before sessions, locale or CSP run (whitenoise: settings below).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every response, errors included, carries the Content-Security-Policy (settings below).
    "crm_project.csp.CSPMiddleware",
    "customers.api.middleware.ApiRequestSizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication: a signed-in user's stored language wins over the browser's.
    "customers.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a refused log-in into the lockout page (customers/web/login_throttle.py).
    "axes.middleware.AxesMiddleware",
]

# Axes first: it refuses a locked-out account or address before any password is checked. It
# answers no permission question, so ModelBackend still decides those alone.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "crm_project.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "customers.web.context.navigation",
            ],
            "libraries": {"crm_ui": "customers.web.templatetags"},
        },
    },
]

WSGI_APPLICATION = "crm_project.wsgi.application"
ASGI_APPLICATION = "crm_project.asgi.application"

# Database: SQLite file by default, anything dj-database-url understands via DATABASE_URL.
# Connections are kept between requests (a new one per request, with SQLite's PRAGMAs or a
# PostgreSQL backend start, cost more than a small API request itself); a health check before
# reuse replaces one the server closed. 0 opens one per request again.
_DATABASE_OPTIONS = {
    "conn_max_age": env_int("DATABASE_CONN_MAX_AGE", 60),
    # Off behind a pooler in transaction mode that cannot keep them (PgBouncer before 1.21).
    "prepared_statements": env_bool("DATABASE_PREPARED_STATEMENTS", default=True),
    # Off behind any pooler in transaction mode (a cursor WITH HOLD outlives the transaction).
    "server_side_cursors": env_bool("DATABASE_SERVER_SIDE_CURSORS", default=True),
}
DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}", **_DATABASE_OPTIONS
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web server and Celery worker write concurrently: WAL, a busy timeout and IMMEDIATE
    # transactions turn "database is locked" into a short wait.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        # A 16 MB page cache (SQLite's default is 2 MB) keeps the hot pages of a 100k-contact
        # table's indexes in memory: a bulk import runs ~15% faster; larger was not faster.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        f"PRAGMA cache_size=-{env_int('SQLITE_CACHE_MB', 16) * 1024};",
    }
    # A file, not :memory:, so worker processes started by tests see the test database; one per
    # test process so parallel runs never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
elif DATABASES["default"].get("NAME"):
    # One test database per test process here too, so two runs on one server never drop
    # each other's database.
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"}

# Read replicas (DATABASE_REPLICA_URL, comma-separated): aliases replica1, replica2, … with the
# primary's options. Only the reads customers/read_routing.py allows go there (list pages,
# exports, the change feed, reports), never a write or a read that decides one; a replica that
# is down or lags more than REPLICA_MAX_LAG_SECONDS is skipped, and an actor's reads stay on the
# primary for READ_YOUR_WRITES_SECONDS after it wrote.
DATABASES.update(replica_databases(env_list("DATABASE_REPLICA_URL"), **_DATABASE_OPTIONS))
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
REPLICA_MAX_LAG_SECONDS = env_int("REPLICA_MAX_LAG_SECONDS", 5)
READ_YOUR_WRITES_SECONDS = env_int("READ_YOUR_WRITES_SECONDS", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT") or VAR_DIR / "static")
# Static files are served by the app itself (whitenoise's middleware): gunicorn needs no web
# server beside it. With DEBUG off they come from STATIC_ROOT as `manage.py collectstatic` left
# them: names carrying a hash of their content, sent with a ten-year max-age and "immutable"
# (the unhashed names: 60 s), each with a gzip copy beside it. That storage needs collectstatic's
# manifest, which a development checkout and the test suite (DEBUG on) never build: there the
# files are found in their apps' folders as they are now.
# Shared files: uploads, export files and error reports go through Django's storage API to
# STORAGE_URL (crm_project/storage_url.py), so a worker on another machine reads what the web
# process stored. Empty: MEDIA_ROOT below (owner-only files). s3://BUCKET?endpoint_url=…
# &region_name=…: an S3-speaking store, credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
STORAGES = {
    "default": storage_url.default_storage(env_str("STORAGE_URL")),
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage",
        # Public files, readable by a proxy or CDN that serves STATIC_ROOT itself: not the
        # owner-only modes of FILE_UPLOAD_PERMISSIONS below, which are for media.
        "OPTIONS": {"file_permissions_mode": 0o644, "directory_permissions_mode": 0o755},
    },
}
# Fixed as the settings load: the test runner turns DEBUG off afterwards, and must not need
# collectstatic either.
WHITENOISE_USE_FINDERS = DEBUG
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or VAR_DIR / "media")
# Media holds import uploads and export files (decrypted PII): readable by the app's own user
# only, whatever the process umask. Fixed, not configurable: no deployment needs them wider.
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700

LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:dashboard"
LOGOUT_REDIRECT_URL = "web:login"

# Failed log-ins are throttled per account and per address, on the UI and the admin alike;
# why these defaults, and how to unlock: customers/web/login_throttle.py.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = env_groups(
    "LOGIN_LOCKOUT_PARAMETERS", "username,ip_address", {"username", "ip_address", "user_agent"}
)
AXES_RESET_ON_SUCCESS = False
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "customers.web.login_throttle.lockout_response"
AXES_CLIENT_IP_CALLABLE = "crm_project.proxies.client_address"
# No row per successful log-in kept forever: failures are what the throttle needs.
AXES_DISABLE_ACCESS_LOG = True
# Not verbose: no "AXES: BEGIN version …" banner on every command and process start (lockouts
# are still logged, naming the parameters that are counted).
AXES_VERBOSE = False
# Reverse proxies in front of the app that append the address they saw to X-Forwarded-For
# (0: clients connect directly; the connection's address is the client's).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# Celery: a broker that needs no server by default (kombu's filesystem transport, shared by
# the web process and the worker through var/broker/), Redis or any kombu URL in production.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL") or "filesystem://"
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "broker"
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
# A broker that is down costs a caller this long, not kombu's default ~6 s of reconnecting: the
# web request that queues a job answers at once and the job sweep publishes it later
# (integrations/queueing.py). Workers keep reconnecting forever (their own retry settings).
_BROKER_TIMEOUT_SECONDS = env_int("BROKER_CONNECT_TIMEOUT_MS", 500) / 1000
CELERY_BROKER_CONNECTION_TIMEOUT = _BROKER_TIMEOUT_SECONDS
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": _BROKER_TIMEOUT_SECONDS,
        "socket_timeout": max(_BROKER_TIMEOUT_SECONDS, 5.0),
        # kombu's reconnect loop behind every publish (Connection.default_channel)
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.1,
        "interval_max": 0.2,
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=False)
CELERY_TASK_IGNORE_RESULT = True  # jobs record their outcome in the database, not a result backend
CELERY_TASK_ACKS_LATE = True  # a worker killed mid-task leaves the message to be redelivered
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Queues: crm (the default), imports, exports, syncs and webhooks; which task goes where, and
# why, is in crm_project/queues.py. A worker started without -Q consumes all five. The prefix
# keeps deployments (or test runs) that share one broker apart: each names its own queues.
CELERY_QUEUE_PREFIX = env_str("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_DEFAULT_QUEUE = CELERY_QUEUE_PREFIX + queues.DEFAULT_QUEUE
CELERY_TASK_QUEUES = [
    Queue(name, Exchange(name), routing_key=name)
    for name in queues.queue_names(CELERY_QUEUE_PREFIX)
]
CELERY_TASK_ROUTES = queues.task_routes(CELERY_QUEUE_PREFIX)
# Under beat, jobs still "queued" (their publish failed: the broker was down) are published
# again this often; a worker publishes them all as it starts.
JOB_SWEEP_INTERVAL_SECONDS = env_int("JOB_SWEEP_INTERVAL_SECONDS", 60)
# celery beat keeps schedules in the database (django-celery-beat: connection syncs are edited
# in the admin and on the integrations page); these fixed ones are synced into it at start.
# One beat sends at a time, however many are started: each holds a lease in the database while
# it sends and renews it every third of BEAT_LEASE_SECONDS; a standby takes over once the
# holder's lease expires (at once when the holder stopped cleanly). Long enough that a tick
# slowed by the database or a broker reconnect is not taken for a dead beat; short enough that a
# successor misses at most one run of the 30-second webhook sweep.
CELERY_BEAT_SCHEDULER = "integrations.scheduler.beat:LeasedDatabaseScheduler"
BEAT_LEASE_SECONDS = env_int("BEAT_LEASE_SECONDS", 30)
if BEAT_LEASE_SECONDS < 3:
    raise ImproperlyConfigured(f"BEAT_LEASE_SECONDS must be 3 or more, got {BEAT_LEASE_SECONDS}.")
CELERY_BEAT_SCHEDULE = {
    "webhooks-sweep": {"task": "webhooks.sweep", "schedule": 30.0},
    # A job whose worker died while others live on is resumed without waiting for a restart.
    "recover-stalled-imports": {"task": "integrations.recover_stalled_imports", "schedule": 60.0},
    # Jobs whose publish failed (broker down when they were created) are queued again.
    "sweep-queued-jobs": {
        "task": "integrations.sweep_queued_jobs",
        "schedule": float(JOB_SWEEP_INTERVAL_SECONDS),
    },
    "purge-exchange-files": {
        "task": "integrations.purge_exchange_files",
        "schedule": crontab(hour=3, minute=30),
    },
    "purge-idempotency-records": {
        "task": "integrations.purge_idempotency_records",
        "schedule": crontab(hour=3, minute=40),
    },
    "purge-change-events": {
        "task": "integrations.purge_change_events",
        "schedule": crontab(hour=3, minute=45),
    },
}
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"

# Rate-limit counters: per-process memory by default; production sets CACHE_URL (e.g. Redis)
# so that every web process shares one count. A Redis that is down costs a request at most
# CACHE_TIMEOUT_MS (the throttle then counts in the process: integrations/api_auth.py).
CACHE_URL = env_str("CACHE_URL")
_CACHE_TIMEOUT_SECONDS = env_int("CACHE_TIMEOUT_MS", 250) / 1000
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": CACHE_URL,
        "OPTIONS": {
            "socket_connect_timeout": _CACHE_TIMEOUT_SECONDS,
            "socket_timeout": _CACHE_TIMEOUT_SECONDS,
        },
    }
    if CACHE_URL
    else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
}

REST_FRAMEWORK = {
    # API keys first: DRF takes the 401 challenge (WWW-Authenticate: Bearer) from the first class.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.api_auth.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Fail closed: every API view declares its scope_resource (or its own permissions).
    "DEFAULT_PERMISSION_CLASSES": ["integrations.api_auth.ScopePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["integrations.api_auth.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": env_str("API_KEY_RATE_LIMIT", "1200/min")},
    "DEFAULT_RENDERER_CLASSES": [
        "customers.api.json_renderer.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
        "customers.api.renderers.XMLRenderer",
        "customers.api.renderers.CSVRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "customers.api.parsers.JSONParser",
        "customers.api.parsers.XMLParser",
        "customers.api.parsers.TextXMLParser",
        "customers.api.parsers.CSVParser",
        "customers.api.parsers.ApplicationCSVParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "customers.api.errors.api_exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "COERCE_DECIMAL_TO_STRING": True,
}
# Larger bodies get 413 before anything parses them (bulk files go to the import endpoint).
API_MAX_REQUEST_BYTES = env_int("API_MAX_REQUEST_BYTES", 10 * 1024 * 1024)
# Django's own cap on non-file request data must not undercut it (file uploads are exempt).
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_REQUEST_BYTES

# Bulk imports: files above this size are refused up front; rows are written in chunks; a
# running job whose worker sent no heartbeat for this long is considered dead and resumed.
IMPORT_MAX_BYTES = env_int("IMPORT_MAX_BYTES", 512 * 1024 * 1024)
# 5,000 rows: per-chunk costs (lookups, progress, commit) ~7% of a run at 2,000, ~3% here.
IMPORT_CHUNK_SIZE = env_int("IMPORT_CHUNK_SIZE", 5000)
IMPORT_HEARTBEAT_STALE_SECONDS = env_int("IMPORT_HEARTBEAT_STALE_SECONDS", 120)
# Helper processes that encrypt a chunk's PII while the worker matches its rows (0: none).
IMPORT_ENCRYPTION_PROCESSES = env_int("IMPORT_ENCRYPTION_PROCESSES", 1)
# Uploaded import files and export files of finished jobs are deleted after this many days
# (the jobs, their counts and row errors stay); see `purge_exchange_files`.
EXCHANGE_FILE_RETENTION_DAYS = env_int("EXCHANGE_FILE_RETENTION_DAYS", 7)

# Folders the `file` connector's drop folders must lie in (comma-separated absolute paths);
# empty: <CRM_VAR_DIR>/drop/, created on demand. The CRM's own folders are never drop folders.
CONNECTOR_FILE_ROOTS = env_list("CONNECTOR_FILE_ROOTS")
# Outbound calls to user-configured URLs (connector sources, webhook targets) refuse loopback,
# private and link-local addresses unless their network is listed here (comma-separated CIDRs).
OUTBOUND_ALLOWED_NETWORKS = env_str("OUTBOUND_ALLOWED_NETWORKS", "")
# Webhooks: a failed delivery is retried after each of these waits (seconds; about a day in
# all), then its subscription is disabled and flagged. Attempts time out after this long.
WEBHOOK_RETRY_SCHEDULE = [int(seconds) for seconds in env_list("WEBHOOK_RETRY_SCHEDULE", [])] or [
    60 * 2**n for n in range(10)
] + [6 * 3600]
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_CLAIM_SECONDS = 120  # a worker's lease on a delivery while it attempts it
# Worker processes that encode a large contact export beside the web process (default: one
# per core; 0 encodes in the web process alone).
EXPORT_PROCESSES = env_int("EXPORT_PROCESSES", os.cpu_count() or 1)
# The change feed (and the outbox behind it) keeps events this long; readers poll more often.
CHANGE_EVENT_RETENTION_DAYS = env_int("CHANGE_EVENT_RETENTION_DAYS", 30)
# A sync run that has not reached its import after this long is taken for interrupted.
SYNC_STALE_SECONDS = env_int("SYNC_STALE_SECONDS", 3600)
# Extra connectors by name, besides the built-in ones and the `crm.connectors` entry points.
CRM_CONNECTORS: dict[str, str] = {}

# How long a POST's Idempotency-Key is remembered (its first response replayed).
IDEMPOTENCY_KEY_TTL_HOURS = env_int("IDEMPOTENCY_KEY_TTL_HOURS", 24)

SPECTACULAR_SETTINGS = {
    "TITLE": "CRM API",
    "DESCRIPTION": "Companies, contacts, deals, activities and tags. JSON, XML and CSV both ways.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The docs work offline: assets from drf-spectacular-sidecar, no online validator badge
    # (and templates/drf_spectacular/redoc.html drops ReDoc's web fonts).
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "DealStatusEnum": "customers.models.Deal.Status",
        "JobStatusEnum": "integrations.models.JobStatus",
        "ImportModeEnum": "integrations.models.ImportJob.Mode",
        "BatchModeEnum": "customers.api.batch.MODES",
        "MatchKeyEnum": "integrations.models.ImportJob.MatchKey",
    },
    # The guide (formats, errors, ETags, idempotency…) and the resource tags: customers.api.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "customers.api.schema.describe_api",
    ],
    # The schema describes the API, not its data: readable without credentials.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
}

# Production hardening, on whenever DEBUG is off; each can be overridden (e.g. behind a proxy).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Health and metrics (crm_project/operations). /healthz, /readyz and /metrics answer a proxy's
# or an orchestrator's plain-HTTP probe on loopback too: the SSL redirect skips them (a probe
# still needs a Host in ALLOWED_HOSTS; 127.0.0.1 is in the default list).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
# Bearer token a Prometheus scraper presents to /metrics; empty: /metrics answers 404.
# Several gunicorn workers: set PROMETHEUS_MULTIPROC_DIR (read by prometheus-client itself).
METRICS_TOKEN = env_str("METRICS_TOKEN", "")

# Content-Security-Policy (django-csp): scripts and styles only from our own origin, none
# inline, so a stored script that slipped past escaping would still not run. Templates keep
# no inline <script>, <style> or style="" (data for scripts goes in data- attributes or
# json_script). Pages that need more get it alone: the ReDoc page (crm_project/urls.py) and
# the browsable API's style attributes (crm_project/csp.py).
# Images may be data: URLs (the admin's and Swagger UI's icons).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
if env_str("CSP_REPORT_URI"):
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = env_str("CSP_REPORT_URI")

# Every handler masks personal data in what it writes (PII query parameters such as ?email=
# in logged URLs: crm_project/log_masking.py) and gives each record the request's id
# (crm_project/request_id.py); gunicorn's logs do both through gunicorn.conf.py, Celery's through
# crm_project/celery.py. LOG_FORMAT=json writes one JSON object per line everywhere
# (crm_project/json_logging.py).
LOG_FORMAT = log_format()
_JSON_LOGS = LOG_FORMAT == "json"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "mask_personal_data": {"()": "crm_project.log_masking.MaskPersonalData"},
        "request_id": {"()": "crm_project.request_id.RequestIdFilter"},
    },
    "formatters": {
        "message": {"format": "%(message)s"},  # what a handler without a formatter writes
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
        "json": {"()": "crm_project.json_logging.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json" if _JSON_LOGS else "message",
            "filters": ["mask_personal_data", "request_id"],
        },
        # runserver's request lines (Django's default handler for them, plus the mask)
        "django.server": {
            "class": "logging.StreamHandler",
            "formatter": "json" if _JSON_LOGS else "django.server",
            "filters": ["mask_personal_data", "request_id"],
        },
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # Django's own default config also prints to the console: one handler, not two.
    "loggers": {
        "django": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
        # spyne announces each Application it builds ("Initializing application …", twice at
        # import): chatter on every manage.py command. Its warnings and errors still show.
        "spyne.application": {"level": "WARNING"},
    },
}

# Where the footer's "Source" link leads: AGPL section 13 has us offer every user of the web UI
# the code that is running. Empty: /legal/source/ serves a zip of the files on disk. Set it to a
# public repository (http or https) only if that holds exactly the deployed code.
SOURCE_URL = env_str("SOURCE_URL", "").strip()
if SOURCE_URL and not SOURCE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured(f"SOURCE_URL must be an http(s) URL, got {SOURCE_URL!r}.")
