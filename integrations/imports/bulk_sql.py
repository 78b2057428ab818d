"""Bulk SQL for imports: rows go in as prepared tuples, a few statements per chunk.

Django's ``bulk_create`` compiles every value of every row through its SQL compiler and, on
SQLite, splits a chunk into statements of 999 parameters; that costs more than encrypting the
row. Here each column is classified once (passed through, encrypted, or prepared with the
field's own ``get_db_prep_save`` and remembered), PII is encrypted with the cached primary
Fernet key (what ``MultiFernet.encrypt`` uses, without the field's per-value overhead), and:

- SQLite: ``INSERT`` and ``UPDATE`` each as one prepared ``executemany``;
- PostgreSQL: primary keys taken from the sequence in one query, then ``COPY`` straight into
  the table; updates ``COPY`` into a temporary table and apply with one ``UPDATE … FROM``.

Statements go through the DB-API cursor, not Django's debug wrapper (which formats every
parameter of every statement when DEBUG is on).
"""

import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time
from itertools import count
from typing import Any

from django.db import connection, models
from django.db.models.expressions import RawSQL
from django.utils import timezone

from customers import crypto
from customers.crypto import StrictEncryptedFieldMixin
from integrations.imports.encryption import NO_TOKENS, Tokens

_PLAIN_FIELDS = (
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.IntegerField,
    models.ForeignKey,
)
_staging_names = count(1)
_TEMPORAL = (date, time)  # datetime is a date


def insert_returning_pks(
    model: type[models.Model], instances: Sequence[models.Model], tokens: Tokens = NO_TOKENS
) -> None:
    """Insert `instances` (not yet saved) and set their primary keys. `tokens`: ciphertexts
    made ahead (see imports.encryption)."""
    if not instances:
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    now = timezone.now()
    auto = [
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ]
    for instance in instances:
        for attname in auto:
            setattr(instance, attname, now)
    prepare = RowPreparer(fields, tokens)
    rows = [prepare.row(obj) for obj in instances]
    if connection.vendor == "postgresql":
        pks = _copy_insert(model, fields, rows)
    else:
        pks = _insert_returning(model, fields, rows)
    for instance, new_pk in zip(instances, pks, strict=True):
        instance.pk = new_pk
        instance._state.adding = False


def _insert_returning(
    model: type[models.Model], fields: Sequence[models.Field], rows: list[list]
) -> list[int]:
    """The first row with ``RETURNING`` (which also takes SQLite's write lock, so no other
    connection can insert until this transaction ends), then the rest with the keys SQLite
    would give them next, as one prepared executemany: a single-row statement compiled once
    beats multi-row VALUES statements of thousands of parameters compiled per batch."""
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor
        cursor.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING {pk}", rows[0]
        )
        first = cursor.fetchone()[0]
        pks = list(range(first, first + len(rows)))
        cursor.executemany(
            f"INSERT INTO {table} ({pk}, {columns}) VALUES (%s, {placeholders})",
            [(new_pk, *row) for new_pk, row in zip(pks[1:], rows[1:], strict=True)],
        )
    return pks


def _copy_insert(
    model: type[models.Model], fields: Sequence[models.Field], rows: list[list]
) -> list[int]:
    """Keys from the table's sequence in one query, then COPY the rows in with them."""
    table, pk = model._meta.db_table, model._meta.pk.column
    quote = connection.ops.quote_name
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk, len(rows)],
        )
        pks = [row[0] for row in cursor.fetchall()]
        columns = ", ".join(quote(c) for c in [pk, *(field.column for field in fields)])
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            write_copy_rows(
                copy,
                ((new_pk, *row) for new_pk, row in zip(pks, rows, strict=True)),
                time_columns=[1 + i for i in _time_columns(fields)],
            )
    return pks


def write_copy_rows(
    copy: Any, rows: Iterable[Sequence[Any]], *, time_columns: Sequence[int]
) -> None:
    """Write `rows` into a PostgreSQL ``COPY … FROM STDIN``, the values at `time_columns`
    (dates and times) as ISO 8601 text, each distinct value formatted once. psycopg's datetime
    dumper cost ~1.5 µs a value, more than all the other columns of a contact row together,
    and the rows of a chunk share their timestamps; the server reads the text as it reads the
    dumper's output."""
    if not time_columns:
        for row in rows:
            copy.write_row(row)
        return
    texts: dict[Any, str] = {}
    for row in rows:
        values = list(row)
        for i in time_columns:
            value = values[i]
            if isinstance(value, _TEMPORAL):
                text = texts.get(value)
                if text is None:
                    text = texts[value] = value.isoformat()
                values[i] = text
        copy.write_row(values)


def _time_columns(fields: Sequence[models.Field]) -> list[int]:
    """Positions of the date, time and datetime columns among `fields`."""
    return [
        i
        for i, field in enumerate(fields)
        if isinstance(field, (models.DateField, models.TimeField))
    ]


def update_fields(
    model: type[models.Model],
    instances: Sequence[models.Model],
    field_names: Sequence[str],
    tokens: Tokens = NO_TOKENS,
) -> None:
    """Set `field_names` of `instances` (by primary key). SQLite: ``UPDATE … WHERE pk = ?`` as
    one prepared executemany; PostgreSQL: COPY into a temporary table, one ``UPDATE … FROM``.
    Both avoid ``bulk_update``'s CASE WHEN per column over the whole batch."""
    if not instances:
        return
    # "owner" and "owner_id" name one column: each column is set once.
    fields = list({f.column: f for f in map(model._meta.get_field, field_names)}.values())
    prepare = RowPreparer(fields, tokens)
    rows = [[*prepare.row(obj), obj.pk] for obj in instances]
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor
        if connection.vendor != "postgresql":
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
            cursor.executemany(f"UPDATE {table} SET {assignments} WHERE {pk} = %s", rows)
            return
        stage = quote(f"import_stage_{next(_staging_names)}")
        columns = [quote(field.column) for field in fields]
        listed = ", ".join([*columns, pk])
        cursor.execute(f"CREATE TEMPORARY TABLE {stage} AS SELECT {listed} FROM {table} LIMIT 0")
        with cursor.copy(f"COPY {stage} ({listed}) FROM STDIN") as copy:
            write_copy_rows(copy, rows, time_columns=_time_columns(fields))
        assignments = ", ".join(f"{column} = {stage}.{column}" for column in columns)
        cursor.execute(
            f"UPDATE {table} SET {assignments} FROM {stage} WHERE {table}.{pk} = {stage}.{pk}"
        )
        cursor.execute(f"DROP TABLE {stage}")


def column_in(model: type[models.Model], column: str, values: Sequence[Any]) -> RawSQL:
    """``column IN (…)`` as a filter condition: a few thousand plain values go in as they are,
    where an ``__in`` lookup prepares each one. On PostgreSQL they are one array parameter
    unnested in a subquery: the planner then probes the column's index once per value, where
    ``= ANY(array)`` of thousands of values makes it scan the whole table."""
    quote = connection.ops.quote_name
    qualified = f"{quote(model._meta.db_table)}.{quote(column)}"
    if connection.vendor == "postgresql":
        field = next(f for f in model._meta.concrete_fields if f.column == column)
        array_type = f"{field.cast_db_type(connection)}[]"
        sql = f"{qualified} IN (SELECT unnest(%s::{array_type}))"
        return RawSQL(sql, [array_literal(values)], output_field=models.BooleanField())
    placeholders = ", ".join(["%s"] * len(values))
    return RawSQL(
        f"{qualified} IN ({placeholders})", list(values), output_field=models.BooleanField()
    )


def array_literal(values: Sequence[Any]) -> str:
    """A PostgreSQL array literal (``{"a","b"}``) of `values` as text: one string parameter,
    where a list is quoted element by element by the driver (a chunk's lookups hold thousands)."""
    quoted = (
        "NULL" if value is None else f'"{_escape_array_element(str(value))}"' for value in values
    )
    return "{" + ",".join(quoted) + "}"


def _escape_array_element(text: str) -> str:
    if "\\" in text or '"' in text:
        return text.replace("\\", "\\\\").replace('"', '\\"')
    return text


def insert_links(
    through: type[models.Model],
    owner_column: str,
    links: Sequence[tuple[int, int]],
    *,
    new_owners: frozenset[int] | set[int] = frozenset(),
) -> None:
    """(owner id, tag id) rows of a many-to-many table; a link already there is kept.

    `new_owners`: owners inserted in this transaction, whose links no one else can have
    written; on PostgreSQL theirs go in with COPY, the others with ``ON CONFLICT DO NOTHING``."""
    if not links:
        return
    links = list(dict.fromkeys(links))  # the same link twice in one statement: written once
    quote = connection.ops.quote_name
    table = quote(through._meta.db_table)
    columns = f"{quote(owner_column)}, {quote('tag_id')}"
    insert = f"INSERT INTO {table} ({columns}) VALUES (%s, %s) ON CONFLICT DO NOTHING"
    with connection.cursor() as wrapper, connection.wrap_database_errors:
        cursor = wrapper.cursor
        if connection.vendor != "postgresql" or not new_owners:
            cursor.executemany(insert, links)
            return
        fresh = [link for link in links if link[0] in new_owners]
        others = [link for link in links if link[0] not in new_owners]
        with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
            for link in fresh:
                copy.write_row(link)
        if others:
            cursor.executemany(insert, others)


class RowPreparer:
    """Database values for a row of fields. Text, numbers, booleans and keys pass through as
    they are (the import cleaned them to the field's Python type); PII is encrypted, each value
    with a fresh IV; anything else goes through ``get_db_prep_save``, remembered for values
    that repeat down a column (the chunk's timestamp, None, {})."""

    _CACHEABLE = (type(None), bool, int, str, datetime)

    def __init__(self, fields: Sequence[models.Field], tokens: Tokens = NO_TOKENS) -> None:
        self.attnames = [field.attname for field in fields]
        kinds = [_kind(field) for field in fields]
        self.encrypted = [i for i, kind in enumerate(kinds) if kind == "encrypted"]
        # JSON columns (custom fields) without a custom encoder: one json.dumps, what Django's
        # JSONField makes of a value through three layers of calls
        self.json = [i for i, kind in enumerate(kinds) if kind == "json"]
        self.prepared = [(i, fields[i]) for i, kind in enumerate(kinds) if kind == "prepared"]
        self.cache: dict[tuple, object] = {}
        self.fernet = crypto.primary_key_only()
        self.tokens = tokens

    def row(self, instance: models.Model) -> list[object]:
        state = instance.__dict__
        values = [state[attname] for attname in self.attnames]
        for i in self.encrypted:
            values[i] = self.encrypt(values[i])
        for i in self.json:
            value = values[i]
            if value == {}:
                values[i] = "{}"  # most records' custom values
            elif value is not None:  # None is SQL NULL, as the field itself makes it
                values[i] = json.dumps(value)
        for i, field in self.prepared:
            value = values[i]
            if value == {} or isinstance(value, self._CACHEABLE):
                key = (i, type(value), repr(value) if value == {} else value)
                if key not in self.cache:
                    self.cache[key] = field.get_db_prep_save(value, connection)
                values[i] = self.cache[key]
            else:
                values[i] = field.get_db_prep_save(value, connection)
        return values

    def encrypt(self, value: Any) -> str | None:
        """As ``StrictEncryptedFieldMixin.get_prep_value``: blank PII is stored as NULL."""
        if value is None or value == "":
            return None
        text = str(value)
        return self.tokens.take(text) or self.fernet.encrypt(text.encode()).decode()


def _kind(field: models.Field) -> str:
    if isinstance(field, StrictEncryptedFieldMixin):
        return "encrypted"
    if isinstance(field, models.JSONField) and field.encoder is None:
        return "json"
    if isinstance(field, _PLAIN_FIELDS):
        return "plain"
    return "prepared"
