"""A model instance as its entity's record, read field by field from the declaration: the
record every door shows (the REST JSON document, a webhook's and the change feed's record),
for the doors that hold instances rather than plain rows.

It renders what DRF renders (times ISO 8601 in the current time zone with "Z" for UTC,
decimals as fixed-point text, related records as ``{"id": …, <label>: …}``), so a record
reads the same whichever door built it; ``tests/project/test_record_shape.py`` holds the
doors to that. Lists of many rows take the generated fast paths instead.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from django.utils import timezone

from customers import pii
from customers.custom_fields.values import plain_values
from customers.models import CustomField, format_full_name
from customers.representation.records import date_text, decimal_text
from customers.representation.spec import Entity, Field, Kind, Read


def time_text(value: datetime | None) -> str | None:
    """A datetime as DRF's ``DateTimeField`` renders it."""
    if value is None:
        return None
    if timezone.is_aware(value):
        value = value.astimezone(timezone.get_current_timezone())
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _follow(instance: Any, path: str) -> Any:
    for step in path.split("."):
        if instance is None:
            return None
        instance = getattr(instance, step)
    return instance


def record_of(
    entity: Entity,
    instance: Any,
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField] = (),
) -> dict[str, Any]:
    """`instance` as `entity`'s record, keys in the declaration's order. Personal data (built-in
    and custom) is masked for a reader without the right to read it. Tags are read through
    ``instance.tags.all()``: prefetch them (the selectors do) for more than one record."""
    return {
        spec.name: _reader(entity, spec)(instance, can_view_pii, definitions) for spec in entity
    }


_Reader = Callable[[Any, bool, Sequence[CustomField]], Any]


@cache
def _readers(entity: Entity) -> tuple[tuple[str, _Reader], ...]:
    """Each field's reader, chosen once per entity rather than per record."""
    return tuple((spec.name, _reader(entity, spec)) for spec in entity)


def _reader(entity: Entity, spec: Field) -> _Reader:
    """How `spec`'s value is read from an instance (chosen by the declaration alone)."""
    if spec.read is Read.TAGS:
        return lambda instance, _pii, _defs: [tag.name for tag in instance.tags.all()]
    if spec.read is Read.CUSTOM_VALUES:
        return lambda instance, can_view_pii, definitions: plain_values(
            getattr(instance, spec.name), definitions, can_view_pii=can_view_pii
        )
    if spec.read is Read.FULL_NAME:
        first, last = spec.columns
        return lambda instance, _pii, _defs: format_full_name(
            getattr(instance, first), getattr(instance, last)
        )
    if spec.read is Read.RELATED:
        label = spec.reference.label

        def related(instance: Any, _pii: bool, _defs: Sequence[CustomField]) -> Any:
            other = _follow(instance, spec.reference.attribute)
            return None if other is None else {"id": other.pk, label: getattr(other, label)}

        return related
    name = spec.name
    if spec.pii:
        mask = pii.MASKERS[spec.pii]
        return lambda instance, can_view_pii, _defs: (
            getattr(instance, name) if can_view_pii else mask(getattr(instance, name))
        )
    if spec.kind is Kind.DATETIME:
        return lambda instance, _pii, _defs: time_text(getattr(instance, name))
    if spec.kind is Kind.DATE:
        return lambda instance, _pii, _defs: date_text(getattr(instance, name))
    if spec.kind is Kind.DECIMAL:
        places = entity.model_field(name).decimal_places
        return lambda instance, _pii, _defs: decimal_text(getattr(instance, name), places)
    return lambda instance, _pii, _defs: getattr(instance, name)
