"""The connector interface: declared configuration keys, a fetch that yields records and ends
with a cursor, and an acknowledgement once the records are safely committed."""

from collections.abc import Generator, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from integrations.formats import Record

RecordStream = Generator[Record, None, str | None]
# A record whose values carry this key (with its `external_id`) asks for a deletion.
DELETE_MARKER = "__deleted__"


class ConnectorError(Exception):
    """The source cannot be read (unreachable, refused, malformed): the run fails with this
    message and keeps its previous cursor, so the next run fetches the same changes again."""


@dataclass(frozen=True)
class ConfigKey:
    """One configuration key a connector understands."""

    type: type | tuple[type, ...] = str
    required: bool = False
    secret: bool = False  # stored encrypted, never shown back
    help: str = ""


class Fetch(Iterator[Record]):
    """The records of one run; `cursor` holds the new cursor once they are exhausted."""

    def __init__(self, records: RecordStream, *, cursor: str | None) -> None:
        self._records = records
        self.cursor = cursor
        self.exhausted = False

    def __iter__(self) -> "Fetch":
        return self

    def __next__(self) -> Record:
        try:
            return next(self._records)
        except StopIteration as end:
            self.exhausted = True
            if end.value is not None:
                self.cursor = end.value
            raise

    def close(self) -> None:
        self._records.close()


class Connector:
    """Base class of every connector.

    Subclasses set `name` and `config_keys` and implement `records(cursor)`: a generator that
    yields `Record`s (numbered from 1 in this run) and returns the new cursor, or None to keep
    the old one.
    """

    name: ClassVar[str]
    label: ClassVar[str] = ""
    config_keys: ClassVar[Mapping[str, ConfigKey]] = {}

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = self.validate_config(config)

    @classmethod
    def validate_config(cls, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The configuration, checked key by key; a ValidationError names each bad key."""
        if config is None:
            config = {}
        if not isinstance(config, Mapping):
            raise ValidationError({"config": _("Expected an object of configuration keys.")})
        errors: dict[str, str] = {}
        for key in config:
            if key not in cls.config_keys:
                known = ", ".join(sorted(cls.config_keys))
                errors[f"config.{key}"] = _(
                    "Unknown key for the %(connector)s connector; known: %(known)s."
                ) % {"connector": cls.name, "known": known}
        for key, spec in cls.config_keys.items():
            value = config.get(key)
            if value is None or value == "":
                if spec.required:
                    errors[f"config.{key}"] = _("This key is required.")
                continue
            if not isinstance(value, spec.type) or isinstance(value, bool) != (spec.type is bool):
                errors[f"config.{key}"] = _("Expected %(type)s.") % {"type": _type_name(spec.type)}
        if errors:
            raise ValidationError(errors)
        checked = {key: value for key, value in config.items() if value not in (None, "")}
        cls.check_config(checked)
        return checked

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        """Rules across keys or about values (a URL's scheme); raise ValidationError naming
        the key as ``config.<key>``."""

    @classmethod
    def secret_keys(cls) -> set[str]:
        return {key for key, spec in cls.config_keys.items() if spec.secret}

    def fetch(self, cursor: str | None) -> Fetch:
        return Fetch(self.records(cursor), cursor=cursor)

    def records(self, cursor: str | None) -> RecordStream:
        raise NotImplementedError

    def acknowledge(self, fetch: Fetch) -> None:
        """Called once the fetched records are committed (default: nothing to do)."""


def _type_name(expected: type | tuple[type, ...]) -> str:
    types = expected if isinstance(expected, tuple) else (expected,)
    names = {str: _("text"), int: _("a whole number"), bool: _("true or false")}
    names |= {dict: _("an object"), list: _("a list"), float: _("a number")}
    return _(" or ").join(names.get(kind, kind.__name__) for kind in types)


def dotted(value: Any, path: str) -> Any:
    """The value at a dotted path (``data.items``) inside nested objects; None when absent.
    An empty path is the value itself."""
    for part in path.split(".") if path else ():
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def newest(cursor: str | None, value: Any) -> str | None:
    """The greater of a cursor and a record's cursor field. ISO timestamps and zero-padded
    numbers compare correctly as text; numbers compare as numbers."""
    if value is None or value == "":
        return cursor
    if isinstance(value, int | float) and not isinstance(value, bool):
        if cursor is None:
            return str(value)
        try:
            return str(value) if value > float(cursor) else cursor
        except ValueError:
            return str(value)
    text = str(value)
    return text if cursor is None or text > cursor else cursor


def flatten(item: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested structures as dotted keys (``company.name``), scalars as text the import reads."""
    flat: dict[str, Any] = {}
    for key, value in item.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten(value, f"{name}.")
        else:
            flat[name] = _plain(value)
    return flat


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [flatten(v) if isinstance(v, Mapping) else _plain(v) for v in value]
    return value
