"""Managing custom field definitions without ever breaking stored values.

A label or help text changes freely. A new type or choice list is checked against every stored
value first and refused with the number of records that would break. Archiving hides a field
and keeps its values; deleting a field that holds values needs an explicit purge. Each write
takes the `actor` its door built and reports it to ``observers.notify``.
"""

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.actors import Actor
from customers.custom_fields import types
from customers.custom_fields.values import ENTITY_MODELS, decrypt
from customers.models import CustomField
from customers.services import observers
from customers.services._common import assign, reject_unknown_fields, save, validate

Type = CustomField.Type

EDITABLE_FIELDS = frozenset(
    {
        "label",
        "label_zh",
        "type",
        "required",
        "default",
        "choices",
        "pii",
        "unique",
        "help_text",
        "position",
    }
)
# Names the doors already use on a record besides its model fields.
_RESERVED_NAMES = {"full_name", "pipeline", "custom_fields", "custom_index", "format", "fields"}
_SCAN_BATCH = 2000


def custom_field_create(
    *,
    actor: Actor,
    entity: str,
    name: str,
    label: str,
    type: str,
    label_zh: str = "",
    required: bool = False,
    default: Any = None,
    choices: Sequence[str] | None = (),
    pii: bool = False,
    unique: bool = False,
    help_text: str = "",
    position: int | None = None,
) -> CustomField:
    field = CustomField(entity=entity, name=(name or "").strip())
    if entity in ENTITY_MODELS and position is None:
        position = CustomField.objects.filter(entity=entity).count()
    data = {
        "label": label,
        "label_zh": label_zh,
        "type": type,
        "required": required,
        "default": default,
        "choices": _choice_list(choices),
        "pii": pii,
        "unique": unique,
        "help_text": help_text,
        "position": position or 0,
    }
    assign(field, data)
    _validate_definition(field)
    save(field)
    _notify(actor, "created", field)
    return field


@transaction.atomic
def custom_field_update(
    *, actor: Actor, field: CustomField, data: Mapping[str, Any]
) -> CustomField:
    """Refuses a change that stored values would not survive, naming how many records break."""
    reject_unknown_fields(data, EDITABLE_FIELDS)
    before = CustomField.objects.select_for_update().get(pk=field.pk)
    assign(
        field, {**data, **({"choices": _choice_list(data["choices"])} if "choices" in data else {})}
    )
    _validate_definition(field)
    if field.pii != before.pii and count_values(before):
        raise ValidationError(
            {"pii": _("Export and purge the stored values before changing whether they are PII.")}
        )
    if (field.type, field.choices) != (before.type, before.choices):
        broken = len(list(incompatible_record_ids(before, new_definition=field)))
        if broken:
            message = ngettext(
                "%(count)d record holds a value that would not fit; change or clear them first.",
                "%(count)d records hold values that would not fit; change or clear them first.",
                broken,
            ) % {"count": broken}
            raise ValidationError(
                {"type" if field.type != before.type else "choices": message},
                code="incompatible_values",
            )
    save(field)
    _notify(actor, "updated", field)
    return field


def custom_field_archive(*, actor: Actor, field: CustomField) -> CustomField:
    field.archived_at = field.archived_at or timezone.now()
    save(field)
    _notify(actor, "updated", field)
    return field


def custom_field_restore(*, actor: Actor, field: CustomField) -> CustomField:
    field.archived_at = None
    save(field)
    _notify(actor, "updated", field)
    return field


@transaction.atomic
def custom_field_delete(*, actor: Actor, field: CustomField, purge: bool = False) -> int:
    """Delete the definition; returns how many stored values went with it."""
    holding = count_values(field)
    if holding and not purge:
        raise ValidationError(
            {
                "purge": _("%(count)d records hold a value for %(name)s; purge to delete them.")
                % {"count": holding, "name": repr(field.name)}
            },
            code="values_exist",
        )
    model = ENTITY_MODELS[field.entity]
    for batch in _batches(model.objects.filter(custom_fields__has_key=field.name).order_by("pk")):
        for record in batch:
            record.custom_fields.pop(field.name, None)
            record.custom_index.pop(field.name, None)
        model.objects.bulk_update(batch, ["custom_fields", "custom_index"])
    _notify(actor, "deleted", field)
    field.delete()
    return holding


def _notify(actor: Actor, action: str, field: CustomField) -> None:
    observers.notify(actor=actor, entity="customfield", action=action, records=[field])


def count_values(field: CustomField) -> int:
    model = ENTITY_MODELS[field.entity]
    return model.objects.filter(custom_fields__has_key=field.name).count()


def incompatible_record_ids(field: CustomField, *, new_definition: CustomField) -> Iterator[int]:
    """Ids of the records whose stored value the new definition would refuse."""
    if new_definition.type not in types.COERCERS:
        raise ValidationError(
            {"type": _("Use one of: %(types)s.") % {"types": ", ".join(Type.values)}}
        )
    model = ENTITY_MODELS[field.entity]
    queryset = model.objects.filter(custom_fields__has_key=field.name).order_by("pk")
    for batch in _batches(queryset.only("pk", "custom_fields")):
        for record in batch:
            value = record.custom_fields[field.name]
            if field.pii:
                value = decrypt(value, name=field.name)
            try:
                types.coerce(new_definition, value)
            except ValidationError:
                yield record.pk


def _batches(queryset: models.QuerySet) -> Iterator[list[models.Model]]:
    last_pk = None
    while True:
        page = queryset if last_pk is None else queryset.filter(pk__gt=last_pk)
        batch = list(page[:_SCAN_BATCH])
        if not batch:
            return
        last_pk = batch[-1].pk
        yield batch


def _choice_list(choices: Any) -> Any:
    """A tuple reads as the list it is and "no choices" as an empty one; anything else is
    left as sent for `_validate_definition` to refuse (a bare string is not a list of one
    letter per choice, a number or an object no list at all)."""
    if choices is None or choices == "":  # an empty XML element or CSV cell
        return []
    return list(choices) if isinstance(choices, tuple) else choices


def _validate_definition(field: CustomField) -> None:
    errors: dict[str, str] = {}
    model = ENTITY_MODELS.get(field.entity)
    if model is not None:
        builtin = {f.name for f in model._meta.get_fields()} | {
            f.attname for f in model._meta.concrete_fields
        }
        if field.name in builtin | _RESERVED_NAMES:
            errors["name"] = _("%(name)s is a built-in field of %(entity)s.") % {
                "name": repr(field.name),
                "entity": field.entity,
            }
    if not isinstance(field.choices, list):
        errors["choices"] = _('List the choices as a list of texts, e.g. ["Gold", "Silver"].')
    elif field.type in types.CHOICE_TYPES:
        if not field.choices or not all(isinstance(c, str) and c for c in field.choices):
            errors["choices"] = _("List the choices as non-empty text.")
        elif any("|" in choice for choice in field.choices):
            errors["choices"] = _("Choices cannot contain '|' (it separates choices in CSV).")
        elif len(set(field.choices)) != len(field.choices):
            errors["choices"] = _("Choices must be distinct.")
    elif field.choices:
        errors["choices"] = _("Only choice fields have choices.")
    if field.unique and field.type not in types.UNIQUE_TYPES:
        errors["unique"] = _("Only text, email and phone fields can be unique.")
    if field.pii and field.type not in types.PII_TYPES:
        errors["pii"] = _("Only text, long text, email, phone, URL and date fields can be PII.")
    if field.unique and field.default not in (None, ""):
        errors["default"] = _("A unique field cannot have a default.")
    if field.default is not None and not errors and field.type in types.COERCERS:
        try:
            field.default = types.coerce(field, field.default)
        except ValidationError as error:
            errors["default"] = " ".join(error.messages)
    if errors:
        raise ValidationError(errors)
    validate(field)
