"""Custom field values on a record: validated against the definitions, PII encrypted and indexed.

Every door reaches these through the entity services (``contact_create`` …), so a value is
checked the same way whether it came over REST, SOAP, a file import or the UI. Errors are keyed
``custom_fields.<name>``.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.db.models import TextField
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from customers import crypto, pii
from customers.crypto import FieldDecryptionError
from customers.custom_fields import types
from customers.models import Company, Contact, CustomField, Deal

Type = CustomField.Type
ENTITY_MODELS: dict[str, type[models.Model]] = {
    CustomField.Entity.CONTACT: Contact,
    CustomField.Entity.COMPANY: Company,
    CustomField.Entity.DEAL: Deal,
}


def entity_of(model: type[models.Model]) -> str:
    return next(entity for entity, candidate in ENTITY_MODELS.items() if candidate is model)


def error_key(name: str) -> str:
    return f"custom_fields.{name}"


def definitions_for(entity: str, *, include_archived: bool = False) -> list[CustomField]:
    queryset = CustomField.objects.filter(entity=entity)
    if not include_archived:
        queryset = queryset.filter(archived_at__isnull=True)
    return list(queryset.order_by("position", "id"))


# Per process: (database, entity) -> (fingerprint of the definitions table, its definitions).
_active_cache: dict[tuple, tuple[str, list[CustomField]]] = {}


def active_definitions(entity: str, *, fingerprint: str | None = None) -> list[CustomField]:
    """`definitions_for(entity)`, kept per process while the definitions table is unchanged.

    Reads ask for the definitions on every request; a one-row fingerprint (count, id sum,
    latest change) is cheaper than loading them and changes with any save or delete in any
    process, so no cache server is needed to stay correct. A statement that already read the
    fingerprint (``definitions_fingerprint_sql``, e.g. a list page's) passes it, and no query
    is made at all. Treat the fields as read-only.
    """
    if fingerprint is None:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {definitions_fingerprint_sql().sql}")
            fingerprint = cursor.fetchone()[0]
    key = (connection.alias, connection.settings_dict["NAME"], entity)
    cached = _active_cache.get(key)
    if cached is not None and cached[0] == fingerprint:
        return list(cached[1])
    definitions = definitions_for(entity)
    _active_cache[key] = (fingerprint, definitions)
    return list(definitions)


def definitions_fingerprint_sql() -> RawSQL:
    """The definitions table's count, id sum and latest change as one text value: a scalar
    subquery any statement can carry, computed in the same snapshot as its rows."""
    q, meta = connection.ops.quote_name, CustomField._meta
    pk, updated_at = q(meta.pk.column), q(meta.get_field("updated_at").column)
    return RawSQL(
        f"(SELECT CAST(COUNT(*) AS TEXT) || ',' || CAST(COALESCE(SUM({pk}), 0) AS TEXT) || ','"
        f" || COALESCE(CAST(MAX({updated_at}) AS TEXT), '') FROM {q(meta.db_table)})",
        [],
        output_field=TextField(),
    )


def encrypt(value: Any) -> str:
    return crypto.keyring().encrypt(str(value).encode()).decode()


def decrypt(token: str, *, name: str) -> str:
    try:
        return crypto.keyring().decrypt(token.encode()).decode()
    except (InvalidToken, UnicodeError):
        raise FieldDecryptionError(
            f"Cannot decrypt custom field {name!r}: no key in FIELD_ENCRYPTION_KEYS opens it."
        ) from None


def index_value(field: CustomField, plaintext: str) -> str:
    if field.type == Type.EMAIL:
        normalised = crypto.normalize_email(plaintext)
    elif field.type == Type.PHONE:
        normalised = crypto.normalize_phone(plaintext)
    else:
        normalised = plaintext.strip()
    return crypto.blind_index(normalised, purpose=f"custom:{field.name}")


def apply_custom_values(
    instance: models.Model,
    incoming: Mapping[str, Any] | None,
    *,
    definitions: Iterable[CustomField] | None = None,
) -> None:
    """Merge `incoming` into ``instance.custom_fields``: unknown names and bad values are
    refused, defaults fill new records, required fields are enforced on every write (so a field
    made required later applies from a record's next write on), PII is encrypted and indexed.
    Names absent from `incoming` keep their stored value; a null or empty value removes it."""
    if definitions is None:
        definitions = definitions_for(entity_of(type(instance)))
    CustomValuesApplier(definitions).apply(instance, incoming)


class CustomValuesApplier:
    """`apply_custom_values` for many records against one set of definitions (an import
    chunk): the active fields, their coercers and the required ones are worked out once."""

    def __init__(self, definitions: Iterable[CustomField]) -> None:
        self.active = {field.name: field for field in definitions if not field.is_archived}
        self.coercers = {name: types.coercer(field) for name, field in self.active.items()}
        self.with_default = [
            (name, field) for name, field in self.active.items() if field.default is not None
        ]
        self.required = [name for name, field in self.active.items() if field.required]
        self.pii = {name for name, field in self.active.items() if field.pii}
        self.unique = {name for name, field in self.active.items() if field.unique}

    def apply(self, instance: models.Model, incoming: Mapping[str, Any] | None) -> None:
        if incoming is not None and not isinstance(incoming, Mapping):
            raise ValidationError(
                {"custom_fields": [_("Expected an object of field name to value.")]}
            )
        active, coercers = self.active, self.coercers
        stored = dict(instance.custom_fields or {})
        index = dict(instance.custom_index or {})
        changed: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for name, raw in (incoming or {}).items():
            coerce = coercers.get(name)
            if coerce is None:
                errors[error_key(name)] = [_("Unknown custom field.")]
                continue
            try:
                changed[name] = coerce(raw)
            except ValidationError as error:
                errors[error_key(name)] = error.messages
        if instance._state.adding:
            for name, field in self.with_default:
                if name not in changed and name not in stored:
                    changed[name] = coercers[name](field.default)

        pii = self.pii
        for name, value in changed.items():
            if value is None:
                stored.pop(name, None)
                index.pop(name, None)
            elif name in pii:
                stored[name] = encrypt(value)
                index[name] = index_value(active[name], str(value))
            else:
                stored[name] = value
        for name in self.required:
            if name not in stored and error_key(name) not in errors:
                errors[error_key(name)] = [_("This field is required.")]
        if errors:
            raise ValidationError(errors)

        if not self.unique.isdisjoint(changed):
            _check_unique(instance, changed, active, index)
        instance.custom_fields = stored
        instance.custom_index = index


def _check_unique(
    instance: models.Model,
    changed: Mapping[str, Any],
    active: Mapping[str, CustomField],
    index: Mapping[str, str],
) -> None:
    model = type(instance)
    errors = {}
    for name, value in changed.items():
        field = active[name]
        if not field.unique or value is None:
            continue
        lookup = (
            {f"custom_index__{name}": index[name]}
            if field.pii
            else {f"custom_fields__{name}": value}
        )
        others = model._default_manager.filter(**lookup)
        if instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            errors[error_key(name)] = [
                _("Another %(model)s already has this value.") % {"model": model._meta.verbose_name}
            ]
    if errors:
        raise ValidationError(errors)


def plain_values(
    instance_values: Mapping[str, Any] | None,
    definitions: Iterable[CustomField],
    *,
    can_view_pii: bool,
) -> dict[str, Any]:
    """Every active field's value (None when unset), PII decrypted or masked."""
    instance_values = instance_values or {}
    result: dict[str, Any] = {}
    for field in definitions:
        if field.is_archived:
            continue
        value = instance_values.get(field.name)
        if value is not None and field.pii:
            value = decrypt(value, name=field.name)
            if not can_view_pii:
                value = mask(field, value)
        result[field.name] = value
    return result


def mask(field: CustomField, value: str) -> str:
    if field.type == Type.EMAIL:
        return pii.mask_email(value)
    if field.type == Type.PHONE:
        return pii.mask_phone(value)
    return pii.mask_address(value)
