"""Prometheus metrics: what the request middleware counts, and the registry a scrape reads.

Under gunicorn each worker process counts its own requests. With ``PROMETHEUS_MULTIPROC_DIR``
set (an empty folder, wiped at each start: ``gunicorn_hooks``) prometheus-client keeps every
process's values in files there and a scrape, served by any one worker, adds them all up.
Without it the scrape shows the serving process's counts only (runserver, a single worker).
"""

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

from crm_project.operations.collectors import CrmStateCollector

# Labels with few values only: a label per path or per client would grow without bound.
DOORS = ("rest", "soap", "admin", "web", "ops")
OPS_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
_DOOR_PREFIXES = (("/api/", "rest"), ("/soap/", "soap"), ("/admin/", "admin"))
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

# Not in prometheus-client's global registry: each scrape builds its own (``exposition``).
REQUESTS = Counter(
    "crm_http_requests",
    "HTTP requests answered, by door, method and status code.",
    ["door", "method", "status"],
    registry=None,
)
REQUEST_DURATION = Histogram(
    "crm_http_request_duration_seconds",
    "Time from a request's arrival to its response (a streamed body's first byte), by door.",
    ["door"],
    registry=None,
)


def door_of(path: str) -> str:
    if path.rstrip("/") in OPS_PATHS:
        return "ops"
    for prefix, door in _DOOR_PREFIXES:
        if path.startswith(prefix):
            return door
    return "web"


# Each label combination's child, looked up once: prometheus-client's ``labels()`` checks and
# converts its arguments on every call, a measurable part of what counting costs a request.
_counters: dict[tuple[str, str, int], Any] = {}
_timers: dict[str, Any] = {}


def observe_request(*, path: str, method: str, status: int, seconds: float) -> None:
    door = door_of(path)
    key = (door, method if method in _METHODS else "other", status)
    counter = _counters.get(key)
    if counter is None:
        counter = _counters[key] = REQUESTS.labels(key[0], key[1], str(status))
    counter.inc()
    timer = _timers.get(door)
    if timer is None:
        timer = _timers[door] = REQUEST_DURATION.labels(door)
    timer.observe(seconds)


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def exposition() -> bytes:
    """The Prometheus text of every metric: the request metrics (all processes' under
    multiprocess mode) and what ``collectors`` reads from the database and broker now."""
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess_dir():
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REQUESTS)
        registry.register(REQUEST_DURATION)
    registry.register(CrmStateCollector())
    return generate_latest(registry)
