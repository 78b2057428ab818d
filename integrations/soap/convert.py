"""Records to SOAP types and back, both derived from the entities' representation through the
elements ``types.elements`` publishes: output from the record every door shows (so both
doors show one record the same way, PII masked by the same rule), input gathered from only
the elements a client sent (absent means "unchanged", nil means null)."""

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from types import SimpleNamespace
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree

from customers.custom_fields.values import error_key
from customers.models import CustomField
from customers.representation import Kind, entity_spec
from customers.representation.instances import record_of
from customers.representation.masked_input import drop_unchanged_masked
from integrations.soap import types

#: Each entity's writable elements, in order (``company_id`` for the service's ``company``).
WRITABLE = {
    name: [element.name for element in types.elements(entity_spec(name)) if element.writable]
    for name in ("contact", "company", "deal")
}


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _number(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


# A record's JSON text back to the value the element's spyne type writes.
_FROM_TEXT = {Kind.DATETIME: _moment, Kind.DATE: _day, Kind.DECIMAL: _number}


def _custom_entries(values: Mapping[str, Any], kinds: Mapping[str, str]) -> list[SimpleNamespace]:
    """Plain values (decrypted or masked already) as typed entries, every field listed."""
    result = []
    for name, value in values.items():
        entry = SimpleNamespace(name=name, type=kinds[name], value=None, items=None)
        if isinstance(value, list):
            entry.items = value
        elif isinstance(value, bool):
            entry.value = "true" if value else "false"
        elif value is not None:
            entry.value = str(value)
        result.append(entry)
    return result


_EMPTY: Mapping[str, Any] = {}


@cache
def _builder(entity: str) -> Callable[[Mapping[str, Any], Mapping[str, str]], SimpleNamespace]:
    """``build(record, kinds)``: one record in `entity`'s SOAP shape, as one generated call
    made once per entity from its elements. A loop over the elements per record cost half as
    much again as the rest of shaping a search page."""
    arguments = []
    for element in types.elements(entity_spec(entity)):
        value = f"r[{element.field.name!r}]"
        if element.part == "id":
            value = f"({value} or EMPTY).get('id')"
        elif element.part == "label":
            value = f"({value} or EMPTY).get({element.field.reference.label!r})"
        elif element.field.kind is Kind.CUSTOM:
            value = f"custom({value}, kinds)"
        elif element.field.kind in _FROM_TEXT:
            value = f"from_text[{str(element.field.kind)!r}]({value})"
        arguments.append(f"{element.name}={value}")
    source = f"def build(r, kinds):\n    return Namespace({', '.join(arguments)})\n"
    namespace: dict[str, Any] = {
        "Namespace": SimpleNamespace,
        "EMPTY": _EMPTY,
        "custom": _custom_entries,
        "from_text": {str(kind): parse for kind, parse in _FROM_TEXT.items()},
    }
    # Only element and field names from the declarations reach the source, each through repr()
    # or as a keyword the spyne type itself uses as an attribute name.
    exec(compile(source, f"<SOAP {entity}>", "exec"), namespace)
    return namespace["build"]


def records_out(
    entity: str, records: Iterable[Mapping[str, Any]], *, definitions: Sequence[CustomField]
) -> list[SimpleNamespace]:
    """Records (as ``customers.representation`` shapes them, PII already decrypted or
    masked) in their SOAP type's shape. A namespace rather than the spyne class: spyne only
    reads attributes, and building a spyne ComplexModel costs more than the rest of this."""
    build = _builder(entity)
    kinds = {field.name: field.type for field in definitions}
    return [build(record, kinds) for record in records]


def instances_out(
    entity: str,
    instances: Iterable[Any],
    *,
    can_view_pii: bool,
    definitions: Sequence[CustomField],
) -> list[SimpleNamespace]:
    """Model instances (tags prefetched) in their SOAP type's shape."""
    spec = entity_spec(entity)
    records = [
        record_of(spec, instance, can_view_pii=can_view_pii, definitions=definitions)
        for instance in instances
    ]
    return records_out(entity, records, definitions=definitions)


def sent_elements(body: etree._Element | None, argument: str) -> set[str]:
    """Local names of the child elements the client sent inside the `argument` element."""
    if body is None:
        return set()
    for element in body:
        if isinstance(element.tag, str) and etree.QName(element).localname == argument:
            return {etree.QName(child).localname for child in element if isinstance(child.tag, str)}
    return set()


def record_input(
    record: Any,
    *,
    entity: str,
    sent: set[str],
    definitions: list[CustomField],
    can_view_pii: bool,
    instance: Any = None,
) -> dict[str, Any]:
    """The service's `data` for the writable elements the client sent. A caller without PII
    access may send back what it read: a masked value means "unchanged"."""
    spec = entity_spec(entity)
    data: dict[str, Any] = {}
    for element in types.elements(spec):
        if not element.writable or element.name not in sent:
            continue
        value = getattr(record, element.name, None)
        if element.field.kind is Kind.TAGS:
            value = list(value or [])
        elif element.field.kind is Kind.CUSTOM:
            value = custom_values_in(value or [], definitions)
        data[element.field.name] = value
    if not can_view_pii:
        data = drop_unchanged_masked(spec, data, instance=instance, definitions=definitions)
    return data


def custom_values_in(
    entries: Iterable[types.CustomFieldValue], definitions: Iterable[CustomField]
) -> dict[str, Any]:
    """name -> raw value for the services, which check each against its definition."""
    kinds = {field.name: field.type for field in definitions}
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for entry in entries:
        name = (entry.name or "").strip()
        if entry.type and name in kinds and entry.type != kinds[name]:
            errors[error_key(name)] = _("This field's type is %(type)s, not %(sent)s.") % {
                "type": kinds[name],
                "sent": entry.type,
            }
            continue
        values[name] = list(entry.items) if entry.items else entry.value
    if errors:
        raise ValidationError(errors)
    return values


def company_out(company: Any, *, can_view_pii: bool, definitions: Sequence[CustomField]) -> Any:
    return instances_out("company", [company], can_view_pii=can_view_pii, definitions=definitions)[
        0
    ]


def deal_out(deal: Any, *, can_view_pii: bool, definitions: Sequence[CustomField]) -> Any:
    return instances_out("deal", [deal], can_view_pii=can_view_pii, definitions=definitions)[0]
