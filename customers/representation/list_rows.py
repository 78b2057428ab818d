"""The contact list's read path: a page of ``values()`` rows shaped exactly as
``ContactOutputSerializer`` renders a contact, key order included; both derive from the
contact's representation (``customers.representation``), the rows' columns and the function
building a record from one included.

A list page is the API's hottest request. Building a model instance per row and asking a
serializer field per cell cost more than everything else in it together; plain rows plus one
query for the page's tags give the same document at a fraction of the CPU. Single records
(retrieve, writes) keep the serializer, and a test holds the two to the same output.
PII (built-in and custom) arrives encrypted and is decrypted a page at a time
(``customers.crypto.bulk_decrypt``: one AES call instead of a Fernet object per value).
"""

import functools
import json
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from itertools import chain
from typing import Any

from django.conf import settings
from django.db import connection, connections
from django.db.models import JSONField, QuerySet, TextField
from django.db.models.fields.json import KeyTransform
from django.db.models.functions import Cast
from django.db.models.query import BaseIterable
from django.db.models.sql.constants import MULTI
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from customers import selectors, stored_json
from customers.crypto import decrypt_many
from customers.custom_fields.values import (
    active_definitions,
    definitions_fingerprint_sql,
    mask,
)
from customers.models import Contact, CustomField
from customers.representation import CONTACT, Kind
from customers.representation.records import record_function

# What a contact row needs (the representation's columns); the ordering fields a cursor reads
# (id, names, times) are among them.
CONTACT_VALUES = CONTACT.row_columns

_PII_NAMES = tuple(spec.name for spec in CONTACT.pii_fields)
_CIPHERTEXT = {name: f"{name}_token" for name in _PII_NAMES}
# Each row also carries the custom field definitions' fingerprint (``page_definitions``).
DEFINITIONS_FINGERPRINT = "custom_field_definitions_fingerprint"
# Timestamps are read as the database's ISO text and parsed here (``fromisoformat``): on
# PostgreSQL, Django's time-zone-setting loader makes psycopg parse each one in Python, which
# cost more than anything else in reading a page.
_TIME_TEXT = {spec.name: f"{spec.name}_text" for spec in CONTACT if spec.kind is Kind.DATETIME}


def contact_values() -> QuerySet:
    """``selectors.contact_list()`` as plain rows for the filters and the paginator to narrow
    (relations by join, tags separately, PII as the stored tokens).

    Building this queryset (24 columns, three casts) cost about as much as running it, so it is
    built once per process and each request gets a clone.
    """
    return _values_template().all()


@functools.cache
def _values_template() -> QuerySet:
    aliases = {**_CIPHERTEXT, **_TIME_TEXT}
    texts = {alias: Cast(name, TextField()) for name, alias in aliases.items()}
    names = [aliases.get(name, name) for name in CONTACT_VALUES]
    texts[DEFINITIONS_FINGERPRINT] = definitions_fingerprint_sql()
    names.append(DEFINITIONS_FINGERPRINT)
    queryset = selectors.contact_list().prefetch_related(None).annotate(**texts).values(*names)
    queryset._iterable_class = _ContactRows  # kept by every clone: filter, order_by, slices
    return queryset


class _ContactRows(BaseIterable):
    """``ValuesIterable`` (a dict per row, the same values) with each column's converters
    chosen once per statement instead of looked up through three layers of calls per value:
    on SQLite, converting 50 rows' timestamps, booleans and JSON cost as much as running the
    query. Columns it does not know keep Django's own converters. Timestamps arrive as text
    (``_TIME_TEXT``) and go back under their own names."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        queryset = self.queryset
        query = queryset.query
        db = connections[queryset.db]
        shape = _plain_shape(query, db)
        statements = _statements.__dict__.setdefault(db.alias, {})
        statement = statements.get(shape) if shape is not None else None
        if statement is not None:  # a plain page: no need to compile it again
            sql, reader = statement
            params = [] if shape[-1] is None else [query.where.children[0].rhs]
            with db.cursor() as cursor:
                cursor.execute(sql, params)
                results: Any = [cursor.fetchall()]
        else:
            compiler = query.get_compiler(queryset.db)
            results = compiler.execute_sql(
                MULTI, chunked_fetch=self.chunked_fetch, chunk_size=self.chunk_size
            )
            reader = _RowReader(query, compiler)
            if shape is not None:
                sql, params = compiler.as_sql()
                lookup = query.where.children[0] if shape[-1] is not None else None
                same_params = list(params) == ([] if lookup is None else [lookup.rhs])
                if same_params and len(statements) < _MAX_STATEMENTS:
                    statements[shape] = (sql, reader)
        yield from reader.rows(chain.from_iterable(results))


class _RowReader:
    """Turns a statement's result tuples into ``values()`` dicts (see ``_ContactRows``)."""

    def __init__(self, query: Any, compiler: Any) -> None:
        self.names = list(query.selected or [*query.values_select, *query.annotation_select])
        fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
        self.converters = [
            (self.names[position], _converter(functions, expression, compiler.connection))
            for position, (functions, expression) in compiler.get_converters(fields).items()
        ]
        self.times = [(alias, name) for name, alias in _TIME_TEXT.items() if alias in self.names]
        self.moment = _moment_parser(compiler.connection)

    def rows(self, results: Iterable[Sequence[Any]]) -> Iterator[dict[str, Any]]:
        names, converters, times, moment = self.names, self.converters, self.times, self.moment
        for values in results:  # columns past `names` only order rows
            row = dict(zip(names, values, strict=False))
            for name, convert in converters:
                row[name] = convert(row[name])
            for alias, name in times:
                row[name] = moment(row.pop(alias))
            yield row


# Per thread and database (as Django's connections are): the compiled SQL and row reader of
# each plain page shape (``_plain_shape``).
_statements = threading.local()
_CURSOR_LOOKUPS = ("gt", "gte", "lt", "lte")
_MAX_STATEMENTS = 64  # page sizes in use times two directions; later shapes compile each time


def _plain_shape(query: Any, db: Any) -> tuple | None:
    """A key for what most list requests ask: the plain rows ordered by id either way, at
    most one ``id`` comparison (the cursor), sliced; None for anything else (filters, search,
    other orderings), which is compiled as usual. Compiling the 24-column statement cost
    about a tenth of a list request."""
    template = _values_template().query
    if (
        query.order_by not in (("id",), ("-id",))
        or query.low_mark  # an id cursor needs no offset; offsets (SOAP) vary without end
        or query.distinct
        or query.extra
        or query.extra_order_by
        or query.select_for_update
        or query.combinator
        or query.group_by is not None
        or query.where.connector != "AND"
        or query.where.negated
        or len(query.where.children) > 1
        or query.values_select != template.values_select
        or query.annotations.keys() != template.annotations.keys()
        or list(query.alias_map) != list(template.alias_map)
    ):
        return None
    joins = tuple(getattr(join, "join_type", None) for join in query.alias_map.values())
    if joins != tuple(getattr(join, "join_type", None) for join in template.alias_map.values()):
        return None
    cursor = None
    if query.where.children:
        lookup = query.where.children[0]
        lhs = getattr(lookup, "lhs", None)
        if (
            getattr(lookup, "lookup_name", None) not in _CURSOR_LOOKUPS
            or type(getattr(lookup, "rhs", None)) is not int
            or getattr(lhs, "target", None) is not Contact._meta.pk
            or getattr(lhs, "alias", None) != Contact._meta.db_table
        ):
            return None
        cursor = type(lookup)
    # The time zone the row reader sets is the connection's (a test may switch USE_TZ).
    return (query.order_by, query.low_mark, query.high_mark, db.timezone, cursor)


_BOOLEANS = {1: True, 0: False}


def _converter(functions: list[Callable], expression: Any, db: Any) -> Callable[[Any], Any]:
    """One call per value doing what Django's `functions` do to it."""
    function = getattr(functions[0], "__func__", None) if len(functions) == 1 else None
    if db.vendor == "sqlite":  # imported here: at import time it would be a circular import
        from django.db.backends.sqlite3.operations import DatabaseOperations as SQLite

        if function is SQLite.convert_booleanfield_value:
            return lambda value: _BOOLEANS.get(value, value)  # bool(1) / bool(0), else as is
    if (
        function is JSONField.from_db_value
        and functions[0].__self__.decoder is None
        and not isinstance(expression, KeyTransform)
    ):
        return _json_value

    def convert(value: Any) -> Any:
        for function in functions:
            value = function(value, expression, db)
        return value

    return convert


def _moment_parser(db: Any) -> Callable[[str | None], datetime | None]:
    """A timestamp column's text (``Cast(…, TextField())``) as the datetime Django's own
    converters give: aware in the connection's time zone (SQLite stores it without an offset,
    PostgreSQL writes one) when USE_TZ is on."""
    zone = db.timezone if settings.USE_TZ else None

    def parse(text: str | None) -> datetime | None:
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            value = parse_datetime(text)
            if value is None:
                raise ValueError(f"Unreadable timestamp from the database: {text!r}") from None
        if zone is None or value.tzinfo is zone:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=zone)
        return value.astimezone(zone)

    return parse


def _json_value(value: Any) -> Any:
    """``JSONField.from_db_value`` without a custom decoder."""
    if value is None:
        return None
    if value == "{}":  # most records: no custom values
        return {}
    try:
        return stored_json.loads(value)
    except json.JSONDecodeError:
        return value


def page_definitions(rows: Sequence[Mapping[str, Any]]) -> list[CustomField]:
    """The active contact custom fields for a page of ``contact_values()`` rows, without a
    query of their own when the page has a row."""
    fingerprint = rows[0][DEFINITIONS_FINGERPRINT] if rows else None  # an empty page asks
    return active_definitions("contact", fingerprint=fingerprint)


def contact_page(
    rows: Sequence[dict[str, Any]],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField],
    fields: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """Each row as the serializer renders it; `fields` (``?fields=``) keeps only those keys.
    The rows (fresh from ``values()``) are consumed. Values a sparse fieldset leaves out are
    not decrypted."""
    wanted = set(fields) if fields else None
    active = [field for field in definitions if not field.is_archived]
    if wanted is not None and "custom_fields" not in wanted:
        active = []
    tags = _tag_names([row["id"] for row in rows]) if wanted is None or "tags" in wanted else {}
    builtin = wanted is None or not wanted.isdisjoint(_PII_NAMES)
    _decrypt(rows, [field.name for field in active if field.pii], builtin=builtin)
    shape_custom = _custom_shaper(active, can_view_pii)
    time = _time_formatter(timezone.get_current_timezone())
    contact = record_function(CONTACT, can_view_pii=can_view_pii)
    no_tags: list[str] = []
    records = [contact(row, tags.get(row["id"], no_tags), shape_custom, time) for row in rows]
    if wanted is not None:
        records = [
            {key: value for key, value in record.items() if key in wanted} for record in records
        ]
    return records


def _tag_names(ids: list[int]) -> dict[int, list[str]]:
    """Tag names per contact, in the tags' own order (by name) as a prefetch gives them.

    One plain SQL statement: the ORM took ten times as long to build this query (50 ids
    through the foreign key's lookup machinery) as the database took to answer it.
    """
    if not ids:
        return {}
    link = Contact.tags.through._meta
    contact_id, tag_id = (link.get_field(name).column for name in ("contact", "tag"))
    tag = link.get_field("tag").related_model._meta
    q = connection.ops.quote_name
    sql = (
        f"SELECT link.{q(contact_id)}, tag.{q(tag.get_field('name').column)} "
        f"FROM {q(link.db_table)} link JOIN {q(tag.db_table)} tag "
        f"ON tag.{q(tag.pk.column)} = link.{q(tag_id)} "
        f"WHERE link.{q(contact_id)} IN ({', '.join(['%s'] * len(ids))}) "
        f"ORDER BY tag.{q(tag.get_field('name').column)}"
    )
    names: dict[int, list[str]] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        for record_id, name in cursor.fetchall():
            names[record_id].append(name)
    return names


def _decrypt(
    rows: Sequence[dict[str, Any]], pii_names: Sequence[str], *, builtin: bool = True
) -> None:
    """Every token of the page (built-in and custom PII) decrypted in one call, in place;
    built-in PII stays None when `builtin` is off (a sparse fieldset without it)."""
    ciphertexts = [_CIPHERTEXT[name] for name in _PII_NAMES]
    width = len(ciphertexts)
    tokens: list[str | None] = []
    for row in rows:
        if builtin:
            tokens.extend([row.pop(alias) for alias in ciphertexts])
        else:
            for alias in ciphertexts:
                del row[alias]
        if pii_names and (custom := row["custom_fields"]):
            tokens.extend([custom.get(name) for name in pii_names])
    if not tokens:
        for row in rows:
            row.update(_NO_PII)
        return
    plaintexts = decrypt_many(tokens, settings.FIELD_ENCRYPTION_KEYS, what="a contact's PII")
    position = 0
    for row in rows:
        if builtin:
            row.update(zip(_PII_NAMES, plaintexts[position : position + width], strict=True))
            position += width
        else:
            row.update(_NO_PII)
        if pii_names and (custom := row["custom_fields"]):
            for name in pii_names:
                plaintext = plaintexts[position]
                position += 1
                if plaintext is not None:
                    custom[name] = plaintext


_NO_PII = dict.fromkeys(_PII_NAMES)


def _custom_shaper(
    active: Sequence[CustomField], can_view_pii: bool
) -> Callable[[Mapping[str, Any] | None], dict[str, Any]]:
    """``plain_values`` for already decrypted values: every active field (None when unset),
    PII masked for callers who may not read it."""
    names = [field.name for field in active]
    known = frozenset(names)
    masked = [] if can_view_pii else [field for field in active if field.pii]

    def shape(values: Mapping[str, Any] | None) -> dict[str, Any]:
        if not values:
            return dict.fromkeys(names)
        if values.keys() <= known:  # the usual case: in definition order, None where unset
            result = dict.fromkeys(names)
            result.update(values)
        else:  # values of archived or deleted fields stay out
            result = {name: values.get(name) for name in names}
        for field in masked:
            if result[field.name] is not None:
                result[field.name] = mask(field, result[field.name])
        return result

    return shape


def _time_formatter(zone: tzinfo) -> Callable[[datetime | None], str | None]:
    """DRF's DateTimeField output: ISO 8601 in the current time zone, 'Z' for UTC. In UTC
    (the default) a UTC value, as the row reader gives it, needs no conversion."""
    if zone is UTC or getattr(zone, "key", None) == "UTC":

        def utc_time(value: datetime | None) -> str | None:
            if not value:
                return None
            if value.tzinfo is not UTC:
                value = value.astimezone(UTC)
            return value.isoformat()[:-6] + "Z"

        return utc_time

    def time(value: datetime | None) -> str | None:
        if not value:
            return None
        text = value.astimezone(zone).isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return time
