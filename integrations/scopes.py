"""The scope vocabulary for partner API keys: ``<resource>:read``, ``<resource>:write`` and
``pii:read``. A write scope does not imply read: a key gets exactly what it lists."""

from collections.abc import Iterable

from customers.pii import PII_READ_SCOPE

RESOURCES = (
    "contacts",
    "companies",
    "deals",
    "activities",
    "pipelines",
    "tags",
    "users",
    "imports",
    "exports",
    "settings",
    "integrations",
)
READ = "read"
WRITE = "write"
PII_READ = PII_READ_SCOPE  # the core names it: its PII rule reads it

ALL_SCOPES: tuple[str, ...] = (
    *(f"{resource}:{action}" for resource in RESOURCES for action in (READ, WRITE)),
    PII_READ,
)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def required_scope(resource: str, method: str) -> str:
    """The scope an HTTP method needs on a resource; an unknown resource is a programming error
    (a typo in a view's ``scope_resource``), so it raises instead of quietly denying."""
    if resource not in RESOURCES:
        raise ValueError(f"Unknown API resource {resource!r}; known: {', '.join(RESOURCES)}.")
    action = READ if method.upper() in SAFE_METHODS else WRITE
    return f"{resource}:{action}"


def has_scope(scopes: Iterable[str], scope: str) -> bool:
    return scope in set(scopes)
