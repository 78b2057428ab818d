"""Masked values sent back mean "unchanged": the rule every door that takes a record applies
for a caller who may not read personal data.

Such a caller reads PII masked (``z***@example.com``) and may send back what it read, field for
field (a SOAP update, a PUT of a GET); writing the mask over the stored value would destroy
it. Door-neutral, so the REST serializers and the SOAP conversion share one rule.
"""

from collections.abc import Iterable, Mapping
from typing import Any

from customers import pii
from customers.custom_fields.values import mask, plain_values
from customers.models import CustomField
from customers.representation.spec import Entity


def drop_unchanged_masked(
    entity: Entity,
    data: Mapping[str, Any],
    *,
    instance: Any,
    definitions: Iterable[CustomField] = (),
) -> dict[str, Any]:
    """`data` (service arguments by field name) without the built-in PII and custom values
    that equal the mask of what `instance` stores. Nothing is dropped on create."""
    kept = dict(data)
    if instance is None:
        return kept
    for spec in entity.pii_fields:
        sent = kept.get(spec.name)
        if sent is not None:
            current = getattr(instance, spec.name)
            if current and sent == pii.MASKERS[spec.pii](current):
                del kept[spec.name]
    if isinstance(kept.get("custom_fields"), Mapping):
        kept["custom_fields"] = _drop_unchanged_custom(
            kept["custom_fields"], instance=instance, definitions=list(definitions)
        )
    return kept


def _drop_unchanged_custom(
    values: Mapping[str, Any], *, instance: Any, definitions: list[CustomField]
) -> dict[str, Any]:
    current = plain_values(instance.custom_fields, definitions, can_view_pii=True)
    kept = dict(values)
    for field in definitions:
        stored = current.get(field.name)
        if field.pii and stored is not None and kept.get(field.name) == mask(field, stored):
            del kept[field.name]
    return kept
