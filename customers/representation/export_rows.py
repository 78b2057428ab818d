"""Contacts, companies and deals as plain dicts for streaming exports, shaped like the REST
representation.

Built from ``values_list`` in chunks (one query for the rows, one for their tags per chunk)
instead of a serializer per row: exports run at tens of thousands of rows a second with flat
memory, whatever the row count.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast

from customers.custom_fields.values import plain_values
from customers.models import Company, Contact, CustomField, Deal
from customers.representation import COMPANY, DEAL, Entity
from customers.representation.export_encoders import (
    RAW_AS_TEXT,
    RAW_COLUMNS,
    contact_encoder,
    record_dict,
)
from customers.representation.records import record_function

# Read as text: datetimes (no datetime object to build, pickle and format again) and PII tokens.
_AS_TEXT = RAW_AS_TEXT
#: A raw contact row (``contact_raw_chunks``): plain columns, then the columns read as text,
#: all from the contact's representation (``export_encoders.RAW_COLUMNS``).
CONTACT_RAW = RAW_COLUMNS


def iso(value: datetime | None) -> str | None:
    """The same text DRF renders for a datetime ('Z' for UTC)."""
    if value is None:
        return None
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def contact_rows(
    queryset: QuerySet[Contact],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField] = (),
    chunk_size: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Contacts as ``ContactOutputSerializer`` renders them, PII decrypted a chunk at a time."""
    encoder = contact_encoder(
        format="json", can_view_pii=can_view_pii, keys=_keys(), definitions=definitions
    )
    for chunk in contact_raw_chunks(queryset, chunk_size=chunk_size):
        for record in encoder.records(chunk):
            yield record_dict(record)


def contact_raw_chunks(
    queryset: QuerySet[Contact], *, chunk_size: int = 2000
) -> Iterator[list[tuple]]:
    """Lists of raw ``CONTACT_RAW`` rows, tag names appended: the input of
    ``customers.representation.export_encoders``, which decrypts and converts a whole chunk in one
    go (here, or in a worker process).

    Raw means as the database driver returns them, past Django's per-value converters: PII as
    Fernet tokens, datetimes as the database's text, JSON as text (booleans may be 0/1). Those
    converters were half the cost of reading a row, and the encoders need text anyway.
    """
    as_text = {f"_{name}": Cast(name, TextField()) for name in _AS_TEXT}
    rows = queryset.prefetch_related(None).annotate(**as_text)
    for chunk in _raw_chunks(rows, CONTACT_RAW, chunk_size, converted=False):
        tags = _tags_by_record(Contact, [row[0] for row in chunk])
        yield [(*row, tags.get(row[0], [])) for row in chunk]


@dataclass(frozen=True)
class ChunkRead:
    """The two queries of one chunk of raw contact rows (``contact_raw_chunks``' shape), as SQL
    and parameters, so a process with its own database connection can run them
    (``read_raw_chunk``): the rows with a primary key in (`after`, `upto`] (no upper bound when
    `upto` is None), and the tag names of that key range."""

    rows_sql: str
    rows_params: tuple
    tags_sql: str
    tags_params: tuple


def contact_chunk_reads(
    queryset: QuerySet[Contact], *, after: int, chunk_size: int = 2000
) -> Iterator[ChunkRead]:
    """The reads of the chunks of `queryset` past primary key `after`, in order, the same
    chunks ``contact_raw_chunks`` reads. Only each chunk's last key is read here (one short
    query per chunk, one row): reading, decrypting and encoding the rows is left to others."""
    as_text = {f"_{name}": Cast(name, TextField()) for name in _AS_TEXT}
    rows = (
        queryset.prefetch_related(None).annotate(**as_text).order_by("pk").values_list(*CONTACT_RAW)
    )
    _check_raw_order(rows, CONTACT_RAW)
    keys = queryset.prefetch_related(None).order_by("pk").values_list("pk", flat=True)
    through = Contact.tags.through
    while True:
        last = list(keys.filter(pk__gt=after)[chunk_size - 1 : chunk_size])
        upto = last[0] if last else None
        bounds = {"pk__gt": after} if upto is None else {"pk__gt": after, "pk__lte": upto}
        tag_bounds = {"contact_id__gt": after}
        if upto is not None:
            tag_bounds["contact_id__lte"] = upto
        rows_sql, rows_params = rows.filter(**bounds).query.sql_with_params()
        # The chunk's rows again, as a subquery: a narrow filter spreads a chunk over a wide key
        # range, whose other contacts' tags are not wanted.
        members = keys.filter(**bounds).order_by()
        tags = (
            through.objects.filter(**tag_bounds, contact_id__in=members)
            .order_by("tag__name")
            .values_list("contact_id", "tag__name")
        )
        tags_sql, tags_params = tags.query.sql_with_params()
        yield ChunkRead(rows_sql, tuple(rows_params), tags_sql, tuple(tags_params))
        if upto is None:
            return
        after = upto


def read_raw_chunk(connection: BaseDatabaseWrapper, read: ChunkRead) -> list[tuple]:
    """The raw rows of `read`, tag names appended, through `connection`."""
    with connection.cursor() as cursor:
        cursor.execute(read.rows_sql, read.rows_params)
        chunk = cursor.fetchall()
        if not chunk:
            return []
        cursor.execute(read.tags_sql, read.tags_params)
        pairs = cursor.fetchall()
    tags: dict[int, list[str]] = defaultdict(list)
    for record_id, name in pairs:
        tags[record_id].append(name)
    return [(*row, tags.get(row[0], [])) for row in chunk]


def _keys() -> tuple[str, ...]:
    from django.conf import settings

    return tuple(settings.FIELD_ENCRYPTION_KEYS)


def company_rows(
    queryset: QuerySet[Company],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField] = (),
    chunk_size: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Companies as ``CompanyOutputSerializer`` renders them."""
    yield from _records(COMPANY, queryset, can_view_pii, definitions, chunk_size)


def deal_rows(
    queryset: QuerySet[Deal],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField] = (),
    chunk_size: int = 2000,
) -> Iterator[dict[str, Any]]:
    """Deals as ``DealOutputSerializer`` renders them (deals carry PII only in custom fields)."""
    yield from _records(DEAL, queryset, can_view_pii, definitions, chunk_size)


def _records(
    entity: Entity,
    queryset: QuerySet,
    can_view_pii: bool,
    definitions: Sequence[CustomField],
    chunk_size: int,
) -> Iterator[dict[str, Any]]:
    """`entity`'s records from ``values_list`` rows of its representation's columns (PII
    decrypted by the model fields' converters), built by its generated record function."""
    columns = entity.row_columns
    record = record_function(entity, columns=columns, can_view_pii=can_view_pii)

    def custom(values: Any) -> dict[str, Any]:
        return plain_values(values, definitions, can_view_pii=can_view_pii)

    for row, tags in _chunked(queryset, columns, chunk_size):
        yield record(row, tags, custom, iso)


def _chunked(
    queryset: QuerySet, fields: Sequence[str], chunk_size: int
) -> Iterator[tuple[tuple, list[str]]]:
    """Rows (``values_list`` tuples, the primary key first) with their tag names."""
    for chunk in _raw_chunks(queryset.prefetch_related(None), fields, chunk_size):
        tags = _tags_by_record(queryset.model, [row[0] for row in chunk])
        for row in chunk:
            yield row, tags.get(row[0], [])


def _raw_chunks(
    queryset: QuerySet, fields: Sequence[str], chunk_size: int, *, converted: bool = True
) -> Iterator[list]:
    """Lists of ``values_list`` tuples (the primary key first), in primary key order; with
    `converted` false, as the driver returns them (see ``contact_raw_chunks``)."""
    rows = queryset.order_by("pk").values_list(*fields)
    if not converted:
        _check_raw_order(rows, fields)
    # Chunks by primary key (keyset): each is a short query, so memory stays flat and no
    # server-side cursor is held open for the whole export.
    last_pk = 0
    while True:
        page = rows.filter(pk__gt=last_pk)[:chunk_size]
        if converted:
            chunk = list(page)
        else:
            sql, params = page.query.sql_with_params()
            with connections[page.db].cursor() as cursor:
                cursor.execute(sql, params)
                chunk = cursor.fetchall()
        if not chunk:
            return
        last_pk = chunk[-1][0]
        yield chunk


def _check_raw_order(rows: QuerySet, fields: Sequence[str]) -> None:
    selected = [*rows.query.values_select, *rows.query.annotation_select]
    if selected != list(fields):  # Django selects fields, then annotations
        raise ValueError(f"Raw rows need the annotations last: {selected} != {fields}")


def _tags_by_record(model: type[models.Model], ids: list[int]) -> dict[int, list[str]]:
    through = model.tags.through
    column = f"{model._meta.model_name}_id"
    tags: dict[int, list[str]] = defaultdict(list)
    # A dense chunk (the usual export) asks by range: one parameter pair instead of thousands,
    # which the database adapters bind one by one. A sparse one (a narrow filter) keeps IN.
    dense = ids[-1] - ids[0] < 2 * len(ids)
    lookup = (
        {f"{column}__gte": ids[0], f"{column}__lte": ids[-1]} if dense else {f"{column}__in": ids}
    )
    pairs = through.objects.filter(**lookup).order_by("tag__name").values_list(column, "tag__name")
    wanted = set(ids)
    for record_id, name in pairs:
        if record_id in wanted:
            tags[record_id].append(name)
    return tags
