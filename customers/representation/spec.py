"""The vocabulary of a record's public shape: a field's kind, how it is read, how each door
names it. ``customers.representation.entities`` declares the entities with it.

Nothing here knows a door: the REST serializers, the list and export fast paths, the SOAP
types, the webhook payloads and the file mappings read these declarations and derive their own
form from them, so a field is added in one place.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.db import models


class Kind(StrEnum):
    """What a field's value is, in every door (its JSON form in brackets)."""

    TEXT = "text"  # a string, or null
    EMAIL = "email"  # a string
    PHONE = "phone"  # a string
    CHOICE = "choice"  # a string, one of the model field's choices
    INT = "int"  # a number
    DECIMAL = "decimal"  # a string with the model field's decimal places ("1200.00")
    BOOL = "bool"  # true / false
    DATE = "date"  # "2026-01-31"
    DATETIME = "datetime"  # ISO 8601, "Z" for UTC
    TAGS = "tags"  # a list of tag names, in name order
    REFERENCE = "reference"  # {"id": 3, <label>: "Acme"} or null
    CUSTOM = "custom"  # {name: value} with every active custom field, null when unset


class Read(StrEnum):
    """Where a field's value comes from, in a model instance and in a row of plain columns."""

    ATTRIBUTE = "attribute"  # one column of the record (or the attribute of that name)
    RELATED = "related"  # a foreign key: its id and the related record's label
    FULL_NAME = "full_name"  # computed from two name columns (``format_full_name``)
    TAGS = "tags"  # the many-to-many tags' names
    CUSTOM_VALUES = "custom_values"  # the ``custom_fields`` JSON column


@dataclass(frozen=True)
class Reference:
    """A related record as ``{"id": …, <label>: …}``.

    `attribute` is the dotted path to the related object on a model instance (``company``,
    ``stage.pipeline``); `id_column` and `label_columns` are the ``values()`` paths a plain row
    reads. A label called ``full_name`` is computed from two label columns (first and last
    name), as ``format_full_name`` does.
    """

    entity: str
    label: str
    attribute: str
    id_column: str
    label_columns: tuple[str, ...]

    @property
    def label_is_full_name(self) -> bool:
        return self.label == "full_name"


@dataclass(frozen=True)
class Field:
    """One public field of an entity. Build it with the helpers below (``text``, ``ref``…).

    `pii` is the kind of personal data (``email``, ``phone``, ``address``): the value is
    stored encrypted and shown masked to callers who may not read personal data. `csv` is
    the CSV column name, or for a reference the prefix of its two columns (``company.id``,
    ``company.name``); None: no CSV column (a computed value, or custom fields, which get a
    column each). `xml` is the element's name (the REST XML renderer writes the JSON keys, so
    it is the field's name until that renderer reads it from here; the shape test holds the
    two together). `columns` are the ``values()`` paths a plain
    row needs for this field, in order.
    """

    name: str
    kind: Kind
    read: Read = Read.ATTRIBUTE
    writable: bool = True
    pii: str | None = None
    csv: str | None = None
    xml: str = ""
    reference: Reference | None = None
    columns: tuple[str, ...] = ()

    @property
    def csv_columns(self) -> tuple[str, ...]:
        """The field's CSV column paths (also their headers), in order."""
        if self.csv is None:
            return ()
        if self.reference is not None:
            return (f"{self.csv}.id", f"{self.csv}.{self.reference.label}")
        return (self.csv,)

    @property
    def attribute(self) -> str:
        """The dotted attribute path of the value on a model instance."""
        if self.reference is not None:
            return self.reference.attribute
        return self.name


@dataclass(frozen=True, eq=False)
class Entity:
    """An entity's public shape: its fields in the order every door shows them.

    `name` is the entity's singular name (``contact``), also its custom fields' entity when
    it has a ``custom_fields`` field. Each entity is declared once, so it compares and hashes
    by identity (code generated from it is cached per entity, looked up per list page).
    """

    name: str
    model: type[models.Model]
    fields: tuple[Field, ...]
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name = {spec.name: spec for spec in self.fields}
        if len(by_name) != len(self.fields):
            raise ValueError(f"{self.name}: a field is declared twice.")
        object.__setattr__(self, "_by_name", by_name)

    def __iter__(self) -> Iterator[Field]:
        return iter(self.fields)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    @property
    def names(self) -> tuple[str, ...]:
        """The output keys, in order."""
        return tuple(spec.name for spec in self.fields)

    @property
    def writable(self) -> tuple[Field, ...]:
        """The fields a client may send, in order."""
        return tuple(spec for spec in self.fields if spec.writable)

    @property
    def read_only_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields if not spec.writable)

    @property
    def pii_fields(self) -> tuple[Field, ...]:
        """The built-in personal data fields (custom fields carry their own ``pii`` flag)."""
        return tuple(spec for spec in self.fields if spec.pii)

    @property
    def has_custom_fields(self) -> bool:
        return any(spec.kind is Kind.CUSTOM for spec in self.fields)

    @property
    def has_tags(self) -> bool:
        return any(spec.kind is Kind.TAGS for spec in self.fields)

    def csv_columns(self, definitions: Iterable[Any] = ()) -> list[str | tuple[str, str]]:
        """The CSV columns: the built-in ones (dotted paths, also the headers), then one per
        active custom field, read from ``custom_fields.<name>`` and headed by its name."""
        columns: list[str | tuple[str, str]] = [
            column for spec in self.fields for column in spec.csv_columns
        ]
        if self.has_custom_fields:
            columns += [
                (f"custom_fields.{definition.name}", definition.name)
                for definition in definitions
                if not definition.is_archived
            ]
        return columns

    @property
    def csv_list_columns(self) -> frozenset[str]:
        """Columns whose cell is a "|"-separated list (read back as a list)."""
        return frozenset(spec.csv for spec in self.fields if spec.kind is Kind.TAGS and spec.csv)

    @property
    def row_columns(self) -> tuple[str, ...]:
        """The ``values()`` paths a plain row needs to build every field, each once, in field
        order (the primary key first)."""
        seen: dict[str, None] = {}
        for spec in self.fields:
            for column in spec.columns:
                seen.setdefault(column, None)
        return tuple(seen)

    def model_field(self, name: str) -> models.Field:
        """The model field behind an attribute field: its per-field rules (length, choices,
        decimal places, blank) are the model's, not repeated here."""
        return self.model._meta.get_field(self[name].name)


# Helpers that build fields; each says what the field is, the defaults fill in the rest.


def _field(name: str, kind: Kind, *, writable: bool = True, **options: Any) -> Field:
    options.setdefault("csv", name)
    options.setdefault("xml", name)
    options.setdefault("columns", (name,))
    return Field(name=name, kind=kind, writable=writable, **options)


def key() -> Field:
    """The primary key, ``id``: read-only."""
    return _field("id", Kind.INT, writable=False)


def text(name: str, *, writable: bool = True, pii: str | None = None) -> Field:
    return _field(name, Kind.TEXT, writable=writable, pii=pii)


def email(name: str) -> Field:
    """An email address, personal data."""
    return _field(name, Kind.EMAIL, pii="email")


def phone(name: str) -> Field:
    """A phone number, personal data."""
    return _field(name, Kind.PHONE, pii="phone")


def choice(name: str) -> Field:
    """One of the model field's choices."""
    return _field(name, Kind.CHOICE)


def decimal(name: str) -> Field:
    return _field(name, Kind.DECIMAL)


def boolean(name: str) -> Field:
    return _field(name, Kind.BOOL)


def date(name: str, *, writable: bool = True) -> Field:
    return _field(name, Kind.DATE, writable=writable)


def datetime(name: str, *, writable: bool = True) -> Field:
    return _field(name, Kind.DATETIME, writable=writable)


def timestamps() -> tuple[Field, Field]:
    """``created_at`` and ``updated_at``, kept by the database."""
    return datetime("created_at", writable=False), datetime("updated_at", writable=False)


def full_name(first: str = "first_name", last: str = "last_name") -> Field:
    """``full_name``, read-only, computed from the two name fields (family name first for CJK
    names); no CSV column: the name columns hold it."""
    return _field(
        "full_name", Kind.TEXT, writable=False, read=Read.FULL_NAME, csv=None, columns=(first, last)
    )


def ref(
    name: str,
    *,
    entity: str,
    label: str,
    through: str | None = None,
    writable: bool = True,
) -> Field:
    """A foreign key `name` to `entity`, shown with the related record's `label` field.
    `through` reads it across another relation instead (``stage`` for a deal's pipeline)."""
    path = f"{through}__{name}" if through else name
    if label == "full_name":
        label_columns: tuple[str, ...] = (f"{path}__first_name", f"{path}__last_name")
    else:
        label_columns = (f"{path}__{label}",)
    reference = Reference(
        entity=entity,
        label=label,
        attribute=f"{through}.{name}" if through else name,
        id_column=f"{path}_id",
        label_columns=label_columns,
    )
    return _field(
        name,
        Kind.REFERENCE,
        writable=writable,
        read=Read.RELATED,
        reference=reference,
        columns=(reference.id_column, *label_columns),
    )


def tags() -> Field:
    """``tags``: the record's tag names, one "|"-separated CSV cell."""
    return _field("tags", Kind.TAGS, read=Read.TAGS, columns=())


def custom_values() -> Field:
    """``custom_fields``: every active custom field of the entity by name (null when unset),
    PII ones masked like built-in PII; in CSV a column per custom field."""
    return _field(
        "custom_fields", Kind.CUSTOM, read=Read.CUSTOM_VALUES, csv=None, columns=("custom_fields",)
    )
