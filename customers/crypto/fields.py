"""Encrypted model fields: django-fernet-encrypted-fields' mixin, made strict.

The library's mixin is close to what we need but has three flaws for customer data:

1. On a wrong key ``to_python`` swallows ``InvalidToken`` and returns the ciphertext as if it
   were the value. We raise :class:`FieldDecryptionError` instead.
2. It derives keys from SECRET_KEY. We take dedicated Fernet keys from FIELD_ENCRYPTION_KEYS
   (first encrypts, all decrypt), so rotating SECRET_KEY never touches stored data.
3. ``clean()`` sets ``_already_decrypted`` on the field instance, which every thread shares: a
   request reading rows while another validates a form gets ciphertext back. Here only
   ``from_db_value`` decrypts (the database is the only place ciphertext comes from), so no flag
   exists. This also removes the library's decrypt attempt on every save.
"""

import json
from typing import Any

from cryptography.fernet import InvalidToken
from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from encrypted_fields.fields import EncryptedFieldMixin

from customers import crypto


class FieldDecryptionError(RuntimeError):
    """A stored value could not be decrypted with any key in FIELD_ENCRYPTION_KEYS."""


class StrictEncryptedFieldMixin(EncryptedFieldMixin):
    @property
    def keys(self) -> list[bytes]:
        from django.conf import settings

        return [key.encode() for key in settings.FIELD_ENCRYPTION_KEYS]

    @property
    def f(self):  # the library's name for its Fernet instance
        return crypto.keyring()

    def get_prep_value(self, value: Any) -> str | None:
        # Skip the mixin (which tries to decrypt plaintext first); the base field coerces to str.
        value = super(EncryptedFieldMixin, self).get_prep_value(value)
        if value is None or value == "":
            return None  # PII has no "present but empty" state: blank is stored as NULL
        return crypto.keyring().encrypt(str(value).encode()).decode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        try:
            plaintext = crypto.keyring().decrypt(value.encode()).decode()
        except (InvalidToken, UnicodeError):
            raise FieldDecryptionError(
                f"Cannot decrypt {self.model.__name__}.{self.name}: no key in "
                "FIELD_ENCRYPTION_KEYS opens it. Was a key removed before "
                "rotate_encryption_keys finished, or is the key list wrong?"
            ) from None
        return super(EncryptedFieldMixin, self).to_python(plaintext)

    def to_python(self, value: Any) -> Any:
        # Values in Python are always plaintext; never guess whether a string is a token.
        return super(EncryptedFieldMixin, self).to_python(value)

    def clean(self, value: Any, model_instance: models.Model | None) -> Any:
        return super(EncryptedFieldMixin, self).clean(value, model_instance)

    def get_lookup(self, lookup_name: str):
        # Fernet tokens are randomised, so equality on ciphertext can never match: fail loudly.
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.model.__name__}.{self.name} is encrypted and cannot be filtered with "
                f"'{lookup_name}'; search through its blind index instead."
            )
        return super().get_lookup(lookup_name)


class EncryptedCharField(StrictEncryptedFieldMixin, models.CharField):
    pass


class EncryptedEmailField(StrictEncryptedFieldMixin, models.EmailField):
    pass


class EncryptedTextField(StrictEncryptedFieldMixin, models.TextField):
    pass


def encrypted_fields_of(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if isinstance(f, StrictEncryptedFieldMixin)]


class EncryptedJSONField(StrictEncryptedFieldMixin, models.TextField):
    """Any JSON value, stored as one Fernet token of its JSON text.

    For records kept for the system's own use that may echo personal data anywhere inside them
    (a replayed response, a rejected import row): the whole value is sealed, so no key of it
    can leak, and ``rotate_encryption_keys`` covers it like every other encrypted column.
    None stays NULL; every other value, ``{}`` included, is encrypted.
    """

    def get_prep_value(self, value: Any) -> str | None:
        if value is None:
            return None
        text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":"))
        return crypto.keyring().encrypt(text.encode()).decode()

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        text = super().from_db_value(value, expression, connection)
        return None if text is None else json.loads(text)

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder, ensure_ascii=False)
