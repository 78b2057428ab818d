"""Lists that stay fast at a million rows: keyset pagination and a capped count.

A page is fetched with `WHERE (sort keys, id) > (last row's keys)` on an indexed ordering, so
page 5,000 costs what page 1 costs; the total is counted up to a cap (`COUNT` over a `LIMIT`
subquery), never `COUNT(*)` over every row on each view.
"""

import base64
import functools
import json
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections
from django.db.models import F, Model, Q, QuerySet
from django.db.models.functions import Collate
from django.utils.translation import gettext as _

PAGE_SIZE = 50
COUNT_CAP = 1000
# PostgreSQL's ICU collation for Chinese: Han characters by pinyin (王 before 张), Latin letters
# alphabetically. Indexed by migration 0007 so name-ordered pages stay index scans.
NAME_COLLATION = "zh-Hans-x-icu"


@dataclass(frozen=True)
class Sort:
    """An ordering over non-null columns, with the primary key as the final tie-breaker."""

    key: str
    label: str
    fields: tuple[str, ...]
    descending: bool = False
    collated: bool = False  # names: compared with NAME_COLLATION where the database has it

    def columns(self, queryset: QuerySet) -> tuple[QuerySet, list[str]]:
        """The queryset and the names to order and compare by (collated aliases on
        PostgreSQL for names, the plain fields elsewhere), the primary key last."""
        if not self.collated or not _has_name_collation(queryset.db):
            return queryset, [*self.fields, "pk"]
        aliases = {f"_sort_{name}": Collate(F(name), NAME_COLLATION) for name in self.fields}
        return queryset.alias(**aliases), [*aliases, "pk"]


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
    descending = sort.descending != backwards
    ordered, names = sort.columns(queryset)
    ordered = ordered.order_by(*(f"-{name}" if descending else name for name in names))
    if cursor:
        values = _decode(cursor, queryset.model, sort)
        ordered = ordered.filter(_beyond(names, values, descending=descending))
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


@functools.cache
def _has_name_collation(alias: str) -> bool:
    connection = connections[alias]
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [NAME_COLLATION])
        return cursor.fetchone() is not None


def _beyond(names: list[str], values: list[Any], *, descending: bool) -> Q:
    """(a, b, pk) > (x, y, z) written out as a disjunction, plus `a >= x` so the database
    seeks straight to the page in the index instead of filtering from its start."""
    strictly, loosely = ("lt", "lte") if descending else ("gt", "gte")
    condition = Q()
    for depth, name in enumerate(names):
        step = Q(**{f"{name}__{strictly}": values[depth]})
        for earlier in range(depth):
            step &= Q(**{names[earlier]: values[earlier]})
        condition |= step
    return Q(**{f"{names[0]}__{loosely}": values[0]}) & condition


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
        raise ValidationError(
            _("This page link is no longer valid."), code="invalid_cursor"
        ) from None


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
