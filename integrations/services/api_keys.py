"""Partner API keys: create (the raw key is returned once), check and revoke.

A key reads ``crm_<prefix>_<secret>``. The prefix is public and indexed, so a check is one
lookup; only a SHA-256 hash of the whole key is stored. A plain fast hash is enough here because
the secret is 256 random bits: there is nothing to guess, unlike a password.
"""

import functools
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.pii import key_can_view_pii
from integrations.models import ApiKey
from integrations.scopes import ALL_SCOPES, has_scope, required_scope

KEY_PREFIX = "crm"
_PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_SECRET_BYTES = 32  # token_urlsafe(32): 43 characters
_KEY_FORMAT = re.compile(
    rf"^{KEY_PREFIX}_([a-z0-9]{{{_PREFIX_LENGTH}}})_([A-Za-z0-9_-]{{43,128}})$"
)
_KEY_SHAPE = f"{KEY_PREFIX}_<prefix>_<secret>"  # how a refusal of a malformed key names it
# A request updates last_used_at at most this often: no database write on every call.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class InvalidApiKey(Exception):
    """Why a presented key was refused; the message is safe to show to the caller."""


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse_prefix(raw_key: str) -> str | None:
    """The public prefix of a well-formed key, or None."""
    match = _KEY_FORMAT.match(raw_key or "")
    return match.group(1) if match else None


def validate_scopes(scopes: Iterable[str]) -> list[str]:
    """The scopes without duplicates, in the vocabulary's order; unknown ones are refused."""
    if isinstance(scopes, str) or not isinstance(scopes, Iterable):
        raise ValidationError({"scopes": _("Scopes must be a list of scope names.")})
    wanted = {str(scope).strip() for scope in scopes}
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise ValidationError(
            {
                "scopes": _("Unknown scope %(unknown)s. Known scopes: %(known)s.")
                % {"unknown": ", ".join(map(repr, unknown)), "known": ", ".join(ALL_SCOPES)}
            }
        )
    if not wanted:
        raise ValidationError({"scopes": _("A key needs at least one scope.")})
    return [scope for scope in ALL_SCOPES if scope in wanted]


def api_key_create(
    *, user: Any, name: str, scopes: list[str], expires_at: datetime | None = None
) -> tuple[ApiKey, str]:
    """Return the key and its raw value, which exists nowhere else: show it once."""
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("A key needs a name, e.g. the system that will use it.")
    if user is None or not user.is_active:
        errors["user"] = _("Keys can only be created for active users.")
    if expires_at is not None and expires_at <= timezone.now():
        errors["expires_at"] = _("The expiry must be in the future.")
    try:
        scopes = validate_scopes(scopes)
    except ValidationError as error:
        errors.update({field: messages[0] for field, messages in error.message_dict.items()})
    if errors:
        raise ValidationError(errors)

    api_key = ApiKey(user=user, name=name, scopes=scopes, expires_at=expires_at)
    api_key.full_clean(exclude=["prefix", "key_hash"])
    for _attempt in range(5):
        prefix = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
        raw_key = f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(_SECRET_BYTES)}"
        api_key.prefix, api_key.key_hash = prefix, hash_key(raw_key)
        try:
            with transaction.atomic():
                api_key.save()
        except IntegrityError:  # a prefix collision: 36**8 makes it rare, retrying makes it moot
            api_key.pk = None
            continue
        return api_key, raw_key
    raise RuntimeError("Could not find a free API key prefix after 5 attempts.")


def api_key_may_revoke(*, api_key: ApiKey, user: Any) -> bool:
    """A key is revoked by its owner or a superuser. Not by whoever may change keys: a manager
    revoking a superuser's (or another manager's) key would cut off that integration, a way to
    act against users above them. Doors use this to offer the action only where it works."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or api_key.user_id == user.pk


def api_key_revoke(*, api_key: ApiKey, revoked_by: Any) -> ApiKey:
    """Idempotent: revoking twice keeps the first revocation time.

    ``revoked_by`` is the user asking (every door passes ``request.user``); PermissionDenied
    unless ``api_key_may_revoke``. ``None`` is the server's operator at the shell
    (``manage.py revoke_api_token``, e.g. after a leak), who holds the database anyway and
    is not restricted.
    """
    if revoked_by is not None and not api_key_may_revoke(api_key=api_key, user=revoked_by):
        raise PermissionDenied(_("An API key can only be revoked by its owner or a superuser."))
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def api_key_verify(raw_key: str) -> ApiKey:
    """The usable key for ``raw_key``, or InvalidApiKey saying why not.

    Unknown prefix and wrong secret get the same message, so a caller learns nothing about
    which keys exist. Revoked, expired and inactive-user reasons are only told to whoever holds
    the full key.
    """
    prefix = parse_prefix(raw_key)
    if prefix is None:
        raise InvalidApiKey(_("Malformed API key; expected %(format)s.") % {"format": _KEY_SHAPE})
    api_key = _key_with_user(prefix)
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_key(raw_key)):
        raise InvalidApiKey(_("Invalid API key."))
    if api_key.is_revoked:
        raise InvalidApiKey(_("This API key has been revoked."))
    if api_key.is_expired:
        raise InvalidApiKey(
            _("This API key expired at %(moment)s.") % {"moment": api_key.expires_at.isoformat()}
        )
    if not api_key.user.is_active:
        raise InvalidApiKey(_("The user this API key belongs to is inactive."))
    _record_use(api_key)
    return api_key


def _key_with_user(prefix: str) -> ApiKey | None:
    """``ApiKey.objects.select_related("user").filter(prefix=prefix).first()`` from a statement
    built once per process: every API request asks, and the ORM took several times longer to
    build this query than the database to answer it. Same columns, same converters."""
    sql, key_fields, user_fields = _key_with_user_statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    fields = key_fields + user_fields
    values = [_from_db(field, value) for field, value in zip(fields, row, strict=True)]
    cut = len(key_fields)
    api_key = ApiKey.from_db(connection.alias, [f.attname for f in key_fields], values[:cut])
    user_model = user_fields[0].model
    api_key.user = user_model.from_db(
        connection.alias, [f.attname for f in user_fields], values[cut:]
    )
    return api_key


def _from_db(field: Any, value: Any) -> Any:
    """A column's value as the ORM hands it over (the backend's, then the field's converters)."""
    column, converters = _converters(connection.ops, field)
    for convert in converters:
        value = convert(value, column, connection)
    return value


@functools.lru_cache(maxsize=256)
def _converters(ops: Any, field: Any) -> tuple[Any, tuple]:
    column = field.get_col(field.model._meta.db_table)
    return column, (*ops.get_db_converters(column), *column.get_db_converters(ops.connection))


@functools.cache
def _key_with_user_statement() -> tuple[str, list, list]:
    key_meta = ApiKey._meta
    user_meta = key_meta.get_field("user").related_model._meta
    key_fields, user_fields = list(key_meta.concrete_fields), list(user_meta.concrete_fields)
    q = connection.ops.quote_name
    columns = [f"k.{q(f.column)}" for f in key_fields] + [f"u.{q(f.column)}" for f in user_fields]
    sql = (
        f"SELECT {', '.join(columns)} FROM {q(key_meta.db_table)} k "
        f"JOIN {q(user_meta.db_table)} u "
        f"ON u.{q(user_meta.pk.column)} = k.{q(key_meta.get_field('user').column)} "
        f"WHERE k.{q(key_meta.get_field('prefix').column)} = %s"
    )
    return sql, key_fields, user_fields


def api_key_authenticate(raw_key: str) -> ApiKey | None:
    """The usable key for ``raw_key``, or None, for doors that do not report the reason."""
    try:
        return api_key_verify(raw_key)
    except InvalidApiKey:
        return None


def api_key_refusal(api_key: ApiKey, *, resource: str, method: str, permission: str) -> str | None:
    """Why `api_key` may not use `method` on `resource`, or None: the key needs the scope and
    its user the model permission (``app_label.action_model``), so a key never widens a user."""
    scope = required_scope(resource, method)
    if not has_scope(api_key.scopes, scope):
        return _("This API key lacks the %(scope)s scope.") % {"scope": repr(scope)}
    if not api_key.user.has_perm(permission):
        return _("Your user lacks the %(permission)s permission.") % {
            "permission": repr(permission)
        }
    return None


def api_key_can_view_pii(api_key: ApiKey) -> bool:
    """Decrypted PII needs the user's ``view_pii`` permission and the key's ``pii:read``."""
    return key_can_view_pii(api_key.user, api_key.scopes)


def _record_use(api_key: ApiKey) -> None:
    now = timezone.now()
    if api_key.last_used_at and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional: of concurrent requests in the same minute, only the first one writes.
    stale = Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ApiKey.objects.filter(stale, pk=api_key.pk).update(last_used_at=now)
    api_key.last_used_at = now
