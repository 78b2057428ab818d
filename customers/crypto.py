"""Keys for PII at rest: the Fernet keyring and the keyed blind index.

Both read their keys from settings on every call (cached per key set), so a key change in
settings (a deploy, or a test's override) takes effect without restarting or touching fields.
"""

import hashlib
import re
from functools import lru_cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


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
def _index_pads(key: str) -> tuple["hashlib._Hash", "hashlib._Hash"]:
    """HMAC-SHA256 (RFC 2104) with the key's padded blocks hashed once: each index then costs
    two hash copies and a block each, a third of ``hmac.new`` per value (an import computes
    two indexes per contact). Same bytes as ``hmac.new(key, message, sha256)``."""
    secret = _index_key(key)
    if len(secret) > _SHA256_BLOCK:
        secret = hashlib.sha256(secret).digest()
    secret = secret.ljust(_SHA256_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(byte ^ 0x36 for byte in secret))
    outer = hashlib.sha256(bytes(byte ^ 0x5C for byte in secret))
    return inner, outer


_SHA256_BLOCK = 64


def email_index(email: str | None) -> str | None:
    return blind_index(normalize_email(email), purpose="email") if email else None


def phone_index(phone: str | None) -> str | None:
    return blind_index(normalize_phone(phone), purpose="phone") if phone else None
