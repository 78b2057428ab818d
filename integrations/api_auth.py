"""DRF authentication, permission and throttling for the partner API.

``ApiKeyAuthentication`` reads ``Authorization: Bearer crm_…`` and sets ``request.auth`` to the
``ApiKey``. ``ScopePermission`` then asks for the key's scope *and* the user's model permission,
so a key can narrow what its user may do but never widen it.
"""

import functools
import logging
import time
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework import exceptions
from rest_framework.authentication import (
    BaseAuthentication,
    SessionAuthentication,
    get_authorization_header,
)
from rest_framework.permissions import BasePermission
from rest_framework.request import ForcedAuthentication, Request
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from crm_project.proxies import client_address
from customers.actors import Actor, Door
from customers.pii import can_view_pii
from integrations.models import ApiKey
from integrations.scopes import SAFE_METHODS, has_scope, required_scope
from integrations.services import api_keys

logger = logging.getLogger(__name__)

_MODEL_ACTIONS = {"POST": "add", "PUT": "change", "PATCH": "change", "DELETE": "delete"}
_MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class ApiKeyAuthentication(BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None  # not ours: let the next authenticator (the session) try
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Invalid Authorization header; expected 'Bearer <API key>'.")
            )
        try:
            raw_key = parts[1].decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed(_("Malformed API key.")) from None
        try:
            api_key = api_keys.api_key_verify(raw_key)
        except api_keys.InvalidApiKey as error:
            raise exceptions.AuthenticationFailed(str(error)) from None
        load_permissions(api_key.user)
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        """A WWW-Authenticate value makes DRF answer 401 rather than 403 to a missing login."""
        return f'{self.keyword} realm="api"'


@functools.cache
def _permission_backends(backends: tuple[str, ...]) -> list[str]:
    """The backends Django asks about permissions: those with ``has_perm``. The log-in
    throttle's backend (axes) only refuses log-ins, so it does not change the set."""
    return [path for path in backends if hasattr(import_string(path), "has_perm")]


def load_permissions(user: Any) -> None:
    """Every request checks its user's permissions (the model's, and ``view_pii``). Django's
    ModelBackend reads them in two queries (the user's own, its groups') and keeps the set on
    the user object for the request; one plain SQL statement fills that same set (the ORM took
    ten times longer to build the query than the database to answer it). Skipped where it
    would not be the same set: superusers (has_perm never asks them), other backends."""
    if (
        user.is_superuser
        or not user.is_active
        or _permission_backends(tuple(settings.AUTHENTICATION_BACKENDS)) != [_MODEL_BACKEND]
    ):
        return
    with connection.cursor() as cursor:
        cursor.execute(_permissions_sql(connection.vendor), [user.pk, user.pk])
        user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in cursor}


@functools.cache
def _permissions_sql(vendor: str) -> str:
    """``app_label, codename`` of the permissions granted to a user directly or by a group."""
    q = connection.ops.quote_name
    user_model = get_user_model()
    own = user_model.user_permissions.through._meta
    membership = user_model.groups.through._meta
    by_group = Group.permissions.through._meta
    permission, content_type = Permission._meta, ContentType._meta

    def column(meta: Any, name: str) -> str:
        return q(meta.get_field(name).column)

    return (
        f"SELECT ct.{column(content_type, 'app_label')}, p.{column(permission, 'codename')} "
        f"FROM {q(permission.db_table)} p JOIN {q(content_type.db_table)} ct "
        f"ON ct.{q(content_type.pk.column)} = p.{column(permission, 'content_type')} "
        f"WHERE p.{q(permission.pk.column)} IN ("
        f"SELECT {column(own, 'permission')} FROM {q(own.db_table)} "
        f"WHERE {column(own, 'user')} = %s"
        f") OR p.{q(permission.pk.column)} IN ("
        f"SELECT gp.{column(by_group, 'permission')} FROM {q(by_group.db_table)} gp "
        f"JOIN {q(membership.db_table)} ug "
        f"ON ug.{column(membership, 'group')} = gp.{column(by_group, 'group')} "
        f"WHERE ug.{column(membership, 'user')} = %s)"
    )


class ScopePermission(BasePermission):
    """Needs ``view.scope_resource`` (e.g. "contacts") and a queryset naming the model.

    API-key requests need the key's scope for the method and the user's model permission;
    session requests need the model permission only. Anonymous requests are refused.
    """

    def has_permission(self, request: Request, view: Any) -> bool:
        resource = getattr(view, "scope_resource", None)
        if not resource:
            raise ImproperlyConfigured(
                f"{type(view).__name__} uses ScopePermission but sets no scope_resource."
            )
        if not (request.user and request.user.is_authenticated):
            return False
        if isinstance(request.auth, ApiKey):
            scope = required_scope(resource, request.method)
            if not has_scope(request.auth.scopes, scope):
                self.message = _("This API key lacks the %(scope)s scope.") % {"scope": repr(scope)}
                return False
        permission = _model_permission(request.method, view)
        if not request.user.has_perm(permission):
            self.message = _("Your user lacks the %(permission)s permission.") % {
                "permission": repr(permission)
            }
            return False
        return self._has_nested_read(request, view)

    def _has_nested_read(self, request: Request, view: Any) -> bool:
        """An action that also reads another resource (a contact's activity timeline) names
        it in ``view.nested_reads = {action: (resource, "app_label.view_model")}``."""
        nested = getattr(view, "nested_reads", {}).get(getattr(view, "action", None))
        if nested is None:
            return True
        resource, permission = nested
        if isinstance(request.auth, ApiKey):
            scope = required_scope(resource, "GET")
            if not has_scope(request.auth.scopes, scope):
                self.message = _("This API key lacks the %(scope)s scope.") % {"scope": repr(scope)}
                return False
        if not request.user.has_perm(permission):
            self.message = _("Your user lacks the %(permission)s permission.") % {
                "permission": repr(permission)
            }
            return False
        return True


def _model_permission(method: str, view: Any) -> str:
    method = method.upper()
    if method in SAFE_METHODS:
        action = "view"
    elif method in _MODEL_ACTIONS:
        action = _MODEL_ACTIONS[method]
    else:
        raise exceptions.MethodNotAllowed(method)
    queryset = (
        view.get_queryset() if hasattr(view, "get_queryset") else getattr(view, "queryset", None)
    )
    if queryset is None:
        raise ImproperlyConfigured(
            f"{type(view).__name__} uses ScopePermission but has no queryset to name its model."
        )
    opts = queryset.model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def request_can_view_pii(request: Request) -> bool:
    """Decrypted PII needs the user's ``view_pii`` and, for an API key, the ``pii:read`` scope.

    Any other authentication is refused (fail closed) except a session and DRF's test-only
    forced authentication without a token, which stands for a logged-in person.
    """
    if isinstance(request.auth, ApiKey):
        return api_keys.api_key_can_view_pii(request.auth)
    if not can_view_pii(request.user):
        return False
    authenticator = request.successful_authenticator
    return isinstance(authenticator, SessionAuthentication) or (
        isinstance(authenticator, ForcedAuthentication) and request.auth is None
    )


def request_actor(request: Request, *, door: Door = Door.REST) -> Actor:
    """Who acts through this API request (its key, or the signed-in person), with the reading
    rights ``request_can_view_pii`` gives; built once per request."""
    actor = getattr(request, "_crm_actor", None)
    if actor is None or actor.door != door:
        if isinstance(request.auth, ApiKey):
            actor = Actor.for_api_key(request.auth, door=door)
        else:
            actor = Actor(door=door, user=request.user, may_read_pii=request_can_view_pii(request))
        request._crm_actor = actor
    return actor


class FailoverCache:
    """The shared cache (Redis) for rate-limit counts, or this process's own memory while the
    shared one cannot be reached.

    Counting locally rather than letting every request through keeps a limit while Redis is
    down (each web process then allows the full rate, a few times the budget in all, never an
    open door), and no request fails for it. After a failure the shared cache is left alone
    for ``RETRY_SECONDS``, so a dead Redis costs one bounded timeout per process per period,
    and the warning is logged once per period, not per request.
    """

    RETRY_SECONDS = 30.0

    def __init__(self) -> None:
        self._local = LocMemCache("api-rate-fallback", {})
        self._shared_down_until = 0.0

    def get(self, key: str, default: Any = None) -> Any:
        return self._call("get", key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._call("set", key, value, timeout)

    def _call(self, method: str, *args: Any) -> Any:
        if time.monotonic() >= self._shared_down_until:
            try:
                return getattr(caches["default"], method)(*args)
            except RedisError as error:
                self._shared_down_until = time.monotonic() + self.RETRY_SECONDS
                logger.warning(
                    "Rate-limit cache unavailable (%s); counting in this process for %d s.",
                    error,
                    self.RETRY_SECONDS,
                )
        return getattr(self._local, method)(*args)


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Rate ``DEFAULT_THROTTLE_RATES["api_key"]`` per key (else per user, else per IP), so two
    systems sharing one user do not share one budget."""

    scope = "api_key"
    cache = FailoverCache()

    def get_rate(self) -> str | None:
        # Read per request: SimpleRateThrottle.THROTTLE_RATES is frozen at import time.
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(
                f'Set REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["{self.scope}"], e.g. "600/min".'
            ) from None

    def get_cache_key(self, request: Request, view: Any) -> str:
        if isinstance(request.auth, ApiKey):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def get_ident(self, request: Request) -> str:
        """The client's address as the log-in throttle sees it (``TRUSTED_PROXY_COUNT``):
        DRF's own trusts all of X-Forwarded-For unless NUM_PROXIES is set, so an anonymous
        caller (the API schema) wrote a new address per request and was never limited."""
        return client_address(request) or ""


def request_may_write(request: Request, resources: Iterable[str]) -> bool:
    """Whether an API key's scopes let it write every one of `resources` (a session or a
    forced test login has no scopes to check: its permissions decide alone)."""
    if not isinstance(request.auth, ApiKey):
        return True
    return all(has_scope(request.auth.scopes, required_scope(name, "POST")) for name in resources)
