"""Lists that stay fast at a million rows: keyset pagination and a capped count.

A page is fetched with `WHERE (sort keys, id) > (last row's keys)` on an indexed ordering, so
page 5,000 costs what page 1 costs; the total is counted up to a cap (`COUNT` over a `LIMIT`
subquery), never `COUNT(*)` over every row on each view.
"""

import base64
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet

PAGE_SIZE = 50
COUNT_CAP = 1000


@dataclass(frozen=True)
class Sort:
    """An ordering over non-null columns, with the primary key as the final tie-breaker."""

    key: str
    label: str
    fields: tuple[str, ...]
    descending: bool = False

    def order_by(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        return [f"-{name}" if descending else name for name in (*self.fields, "pk")]


@dataclass
class Page:
    rows: list[Any]
    next_cursor: str
    previous_cursor: str
    count: int
    count_capped: bool


def paginate(
    queryset: QuerySet,
    *,
    sort: Sort,
    after: str = "",
    before: str = "",
    size: int = PAGE_SIZE,
) -> Page:
    """One page after (or before) a cursor. Fetches one row more than it shows to know whether
    another page follows."""
    backwards = bool(before) and not after
    cursor = before if backwards else after
    ordered = queryset.order_by(*sort.order_by(reverse=backwards))
    if cursor:
        values = _decode(cursor, queryset.model, sort)
        ordered = ordered.filter(_beyond(sort, values, reverse=backwards))
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = bool(cursor) if not backwards else more
    count = queryset.order_by()[: COUNT_CAP + 1].count()
    return Page(
        rows=rows,
        next_cursor=_encode(rows[-1], sort) if rows and has_next else "",
        previous_cursor=_encode(rows[0], sort) if rows and has_previous else "",
        count=min(count, COUNT_CAP),
        count_capped=count > COUNT_CAP,
    )


def _beyond(sort: Sort, values: list[Any], *, reverse: bool) -> Q:
    """(a, b, pk) > (x, y, z) written out as a disjunction every database can index."""
    descending = sort.descending != reverse
    names = [*sort.fields, "pk"]
    condition = Q()
    for depth, name in enumerate(names):
        step = Q(**{f"{name}__{'lt' if descending else 'gt'}": values[depth]})
        for earlier in range(depth):
            step &= Q(**{names[earlier]: values[earlier]})
        condition |= step
    return condition


def _encode(row: Model, sort: Sort) -> str:
    values = [_attribute(row, name) for name in sort.fields] + [row.pk]
    raw = json.dumps([str(value) for value in values], ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, model: type[Model], sort: Sort) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        texts = json.loads(raw)
        if not isinstance(texts, list) or len(texts) != len(sort.fields) + 1:
            raise ValueError
        fields = [_field(model, name) for name in sort.fields] + [model._meta.pk]
        return [field.to_python(text) for field, text in zip(fields, texts, strict=True)]
    except (ValueError, TypeError, ValidationError):
        raise ValidationError("This page link is no longer valid.", code="invalid_cursor") from None


def _attribute(row: Model, path: str) -> Any:
    value: Any = row
    for part in path.split("__"):
        value = getattr(value, part)
    return value


def _field(model: type[Model], path: str):
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model._meta.get_field(name)
