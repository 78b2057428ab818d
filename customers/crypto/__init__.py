"""PII at rest, behind one interface: the Fernet keyring and the keyed blind index (``keys``),
the strict encrypted model fields (``fields``), Fernet over many values at once (``bulk_encrypt``,
``bulk_decrypt``) and HMAC-SHA256 with pre-hashed pads (``hmac_pads``). Callers import from
``customers.crypto``; the modules below are its implementation.

Names load on first use (PEP 562 ``__getattr__``): the import's encryption helper process
imports ``customers.crypto.bulk_encrypt`` and must start without Django, which ``keys`` and
``fields`` load. A loaded name is kept as a plain attribute, so later reads cost nothing.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from customers.crypto.bulk_decrypt import decrypt_many, signed_by_first_key
    from customers.crypto.bulk_encrypt import encrypt_many
    from customers.crypto.fields import (
        EncryptedCharField,
        EncryptedEmailField,
        EncryptedJSONField,
        EncryptedTextField,
        FieldDecryptionError,
        StrictEncryptedFieldMixin,
        encrypted_fields_of,
    )
    from customers.crypto.keys import (
        blind_index,
        email_index,
        keyring,
        normalize_email,
        normalize_phone,
        phone_index,
        primary_key_only,
    )

__all__ = [
    "EncryptedCharField",
    "EncryptedEmailField",
    "EncryptedJSONField",
    "EncryptedTextField",
    "FieldDecryptionError",
    "StrictEncryptedFieldMixin",
    "blind_index",
    "decrypt_many",
    "email_index",
    "encrypt_many",
    "encrypted_fields_of",
    "keyring",
    "normalize_email",
    "normalize_phone",
    "phone_index",
    "primary_key_only",
    "signed_by_first_key",
]

_MODULE_OF = {
    "EncryptedCharField": "fields",
    "EncryptedEmailField": "fields",
    "EncryptedJSONField": "fields",
    "EncryptedTextField": "fields",
    "FieldDecryptionError": "fields",
    "StrictEncryptedFieldMixin": "fields",
    "blind_index": "keys",
    "decrypt_many": "bulk_decrypt",
    "email_index": "keys",
    "encrypt_many": "bulk_encrypt",
    "encrypted_fields_of": "fields",
    "keyring": "keys",
    "normalize_email": "keys",
    "normalize_phone": "keys",
    "phone_index": "keys",
    "primary_key_only": "keys",
    "signed_by_first_key": "bulk_decrypt",
}


def __getattr__(name: str) -> Any:
    try:
        module = _MODULE_OF[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
