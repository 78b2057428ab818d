"""Custom field definitions for a list page, told apart by a fingerprint the page's own
statement reads (``fingerprint_sql``), so a list needs no query of its own for them."""

from django.db import connection
from django.db.models import TextField
from django.db.models.expressions import RawSQL

from customers.custom_fields.values import active_definitions, definitions_for
from customers.models import CustomField

# Per process: (database, entity) -> (fingerprint, the entity's active definitions).
_page_cache: dict[tuple, tuple[str, list[CustomField]]] = {}


def fingerprint_sql() -> RawSQL:
    """The definitions table's count, id sum and latest change as one text value (what
    ``values.active_definitions`` compares, as a scalar subquery a page's statement carries:
    the database computes it once per statement, in the same snapshot as the rows)."""
    q, meta = connection.ops.quote_name, CustomField._meta
    pk, updated_at = q(meta.pk.column), q(meta.get_field("updated_at").column)
    return RawSQL(
        f"(SELECT CAST(COUNT(*) AS TEXT) || ',' || CAST(COALESCE(SUM({pk}), 0) AS TEXT) || ','"
        f" || COALESCE(CAST(MAX({updated_at}) AS TEXT), '') FROM {q(meta.db_table)})",
        [],
        output_field=TextField(),
    )


def page_definitions(entity: str, fingerprint: str | None) -> list[CustomField]:
    """``active_definitions(entity)`` for a page whose statement read `fingerprint` (None: an
    empty page, which asks the usual way). Loaded again whenever the fingerprint changes;
    treat the fields as read-only."""
    if fingerprint is None:
        return active_definitions(entity)
    key = (connection.alias, connection.settings_dict["NAME"], entity)
    cached = _page_cache.get(key)
    if cached is not None and cached[0] == fingerprint:
        return list(cached[1])
    definitions = definitions_for(entity)
    _page_cache[key] = (fingerprint, definitions)
    return list(definitions)
