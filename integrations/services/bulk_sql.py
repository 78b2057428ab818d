"""Multi-row INSERT … RETURNING for bulk imports: a few large statements per chunk.

Django's ``bulk_create`` compiles every value of every row through its SQL compiler and, on
SQLite, splits a chunk into statements of 999 parameters (about 45 contacts each); that costs
more than encrypting the row. Here each value is prepared once with the field's own
``get_db_prep_save`` (so encryption, JSON and dates are exactly what the ORM would write) and
rows go in statements as large as the database allows, returning the new primary keys.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection, models
from django.utils import timezone

from customers.fields import StrictEncryptedFieldMixin

# SQLite >= 3.32 accepts 32,766 parameters per statement; PostgreSQL 65,535.
_MAX_PARAMETERS = {"sqlite": 32_000, "postgresql": 65_000}


def insert_returning_pks(model: type[models.Model], instances: Sequence[models.Model]) -> None:
    """Insert `instances` (not yet saved) and set their primary keys."""
    if not instances:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    for instance in instances:
        for field in fields:
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                setattr(instance, field.attname, now)
    prepare = _Preparer(fields)
    rows = [prepare.row(obj) for obj in instances]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    pk = quote(model._meta.pk.column)
    per_statement = max(1, _MAX_PARAMETERS.get(connection.vendor, 999) // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            batch = rows[start : start + per_statement]
            sql = (
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) "
                f"VALUES {', '.join([row_sql] * len(batch))} RETURNING {pk}"
            )
            cursor.execute(sql, [value for row in batch for value in row])
            pks = [row[0] for row in cursor.fetchall()]
            for instance, new_pk in zip(instances[start : start + len(batch)], pks, strict=True):
                instance.pk = new_pk
                instance._state.adding = False


def update_fields(
    model: type[models.Model], instances: Sequence[models.Model], field_names: Sequence[str]
) -> None:
    """``UPDATE … SET … WHERE pk = %s`` for every instance, as one executemany: SQLite and
    psycopg both run it as a prepared statement, where Django's ``bulk_update`` builds one
    CASE WHEN per column over the whole batch."""
    if not instances:
        return
    # "owner" and "owner_id" name one column: each column is set once.
    fields = list({f.column: f for f in map(model._meta.get_field, field_names)}.values())
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    prepare = _Preparer(fields)
    with connection.cursor() as cursor:
        cursor.executemany(sql, [[*prepare.row(obj), obj.pk] for obj in instances])


class _Preparer:
    """``get_db_prep_save`` per value, remembered for values that repeat down a column (the
    chunk's timestamp, None, False, "", {}): most of a row's columns cost a dict lookup."""

    _CACHEABLE = (type(None), bool, int, str, datetime)

    def __init__(self, fields: Sequence[models.Field]) -> None:
        self.fields = [(field, field.attname, not _never_cache(field)) for field in fields]
        self.cache: dict[tuple, object] = {}

    def row(self, instance: models.Model) -> list[object]:
        values = []
        for field, attname, cacheable in self.fields:
            value = getattr(instance, attname)
            if cacheable and (value == {} or isinstance(value, self._CACHEABLE)):
                key = (attname, type(value), repr(value) if value == {} else value)
                if key not in self.cache:
                    self.cache[key] = field.get_db_prep_save(value, connection)
                values.append(self.cache[key])
            else:
                values.append(field.get_db_prep_save(value, connection))
        return values


def _never_cache(field: models.Field) -> bool:
    """Encrypted values must be encrypted anew each time (a fresh IV per value)."""
    return isinstance(field, StrictEncryptedFieldMixin)
