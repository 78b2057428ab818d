"""Records from plain rows, built by a function generated once per entity from its spec.

The REST list and the exports read ``values()`` / ``values_list()`` rows instead of model
instances (a model and a serializer field per cell cost more than the rest of a request).
Turning such a row into the record every door shows is one dict literal per row; writing that
literal by hand per entity is how the shape came to be copied ten times, so it is generated
here from the declaration, once per (entity, row layout, PII right), and compiled: a loop over
the fields per row would cost a call per cell.
"""

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from customers import pii
from customers.models import format_full_name
from customers.representation.spec import Entity, Field, Kind, Read

#: ``record(row, tags, custom, time) -> dict``: `tags` the row's tag names, `custom` shapes
#: the stored custom values, `time` renders a datetime as text.
RecordFunction = Callable[
    [Any, list[str], Callable[[Any], dict[str, Any]], Callable[[Any], str | None]],
    dict[str, Any],
]


def decimal_text(value: Decimal | None, places: int) -> str | None:
    """A decimal as fixed-point text with `places` decimals (what DRF renders), None as None."""
    if value is None:
        return None
    return str(value.quantize(Decimal(1).scaleb(-places)))


def date_text(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def record_function(
    entity: Entity, *, columns: Sequence[str] | None = None, can_view_pii: bool
) -> RecordFunction:
    """The compiled row -> record function of `entity`. Rows are dicts keyed by ``values()``
    path when `columns` is None, else tuples in `columns` order (``values_list``). Built-in
    PII is expected decrypted and is masked here for a caller who may not read it."""
    return _record_function(entity, None if columns is None else tuple(columns), can_view_pii)


@cache
def _record_function(
    entity: Entity, columns: tuple[str, ...] | None, can_view_pii: bool
) -> RecordFunction:
    if columns is None:

        def column(path: str) -> str:
            return f"row[{path!r}]"

    else:
        positions = {path: index for index, path in enumerate(columns)}

        def column(path: str) -> str:
            return f"row[{positions[path]}]"

    items = [f"{spec.name!r}: {_expression(entity, spec, column, can_view_pii)}" for spec in entity]
    source = "def record(row, tags, custom, time):\n    return {" + ", ".join(items) + "}\n"
    namespace = {
        "full_name": format_full_name,
        "decimal_text": decimal_text,
        "date_text": date_text,
        **{f"mask_{kind}": masker for kind, masker in pii.MASKERS.items()},
    }
    # Only names and paths from the spec reach the source, each through repr().
    exec(compile(source, f"<{entity.name} record>", "exec"), namespace)
    return namespace["record"]


def _expression(
    entity: Entity, spec: Field, column: Callable[[str], str], can_view_pii: bool
) -> str:
    """The Python expression of `spec`'s value in a row."""
    if spec.read is Read.TAGS:
        return "tags"
    if spec.read is Read.CUSTOM_VALUES:
        return f"custom({column(spec.columns[0])})"
    if spec.read is Read.FULL_NAME:
        first, last = spec.columns
        return f"full_name({column(first)}, {column(last)})"
    if spec.read is Read.RELATED:
        reference = spec.reference
        if reference.label_is_full_name:
            first, last = reference.label_columns
            label = f"full_name({column(first)}, {column(last)})"
        else:
            label = column(reference.label_columns[0])
        return (
            f"(None if (v := {column(reference.id_column)}) is None "
            f"else {{'id': v, {reference.label!r}: {label}}})"
        )
    value = column(spec.columns[0])
    if spec.pii and not can_view_pii:
        return f"mask_{spec.pii}({value})"
    if spec.kind is Kind.DATETIME:
        return f"time({value})"
    if spec.kind is Kind.DATE:
        return f"date_text({value})"
    if spec.kind is Kind.DECIMAL:
        return f"decimal_text({value}, {int(entity.model_field(spec.name).decimal_places)})"
    return value
