"""Keys for PII at rest: the Fernet keyring and the keyed blind index.

Both read their keys from settings on every call (cached per key set), so a key change in
settings (a deploy, or a test's override) takes effect without restarting or touching fields.
"""

import re
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from customers.crypto.hmac_pads import hmac_sha256_pads


@lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: PII cannot be encrypted.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as error:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEYS must be comma-separated Fernet keys "
            f"(32 url-safe base64-encoded bytes each): {error}"
        ) from None


def keyring() -> MultiFernet:
    """All configured keys: the first encrypts, every one decrypts."""
    return _multifernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def primary_key_only() -> Fernet:
    """Just the encrypting key: a token it can read needs no re-encryption on rotation."""
    return _primary_fernet(settings.FIELD_ENCRYPTION_KEYS[0])


@lru_cache(maxsize=8)
def _primary_fernet(key: str) -> Fernet:
    return Fernet(key)


_NON_DIGITS = re.compile(r"\D")


def normalize_email(value: str) -> str:
    return value.strip().lower()


def normalize_phone(value: str) -> str:
    """Digits with the country code: '+86 138-0013-8000', '0086 13800138000' and '138 0013 8000'
    (with PHONE_DEFAULT_COUNTRY_CODE=86) are one number.

    A number written without '+' or '00' is national: one trunk '0' is dropped and the default
    country code put in front.
    """
    stripped = value.strip()
    digits = _NON_DIGITS.sub("", stripped)
    if stripped.startswith("+"):
        return digits
    if digits.startswith("00"):
        return digits[2:]
    if digits.startswith("0"):
        digits = digits[1:]
    return f"{settings.PHONE_DEFAULT_COUNTRY_CODE}{digits}"


@lru_cache(maxsize=8)
def _index_key(key: str) -> bytes:
    if not key:
        raise ImproperlyConfigured("BLIND_INDEX_KEY is empty: encrypted fields cannot be searched.")
    return key.encode()


def blind_index(normalized_value: str, *, purpose: str) -> str:
    """HMAC-SHA256 of an already normalised value; `purpose` separates the email and phone
    domains so equal strings in different fields never share an index value."""
    inner, outer = _index_pads(settings.BLIND_INDEX_KEY)
    inner = inner.copy()
    inner.update(f"{purpose}:{normalized_value}".encode())
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@lru_cache(maxsize=8)
def _index_pads(key: str) -> tuple[Any, Any]:
    """The blind index key's HMAC pads, hashed once (``customers.crypto.hmac_pads``): an import
    computes two indexes per contact."""
    return hmac_sha256_pads(_index_key(key))


def email_index(email: str | None) -> str | None:
    return blind_index(normalize_email(email), purpose="email") if email else None


def phone_index(phone: str | None) -> str | None:
    return blind_index(normalize_phone(phone), purpose="phone") if phone else None
