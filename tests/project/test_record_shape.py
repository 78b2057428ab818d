"""One record shape behind every door: for each entity, walking its declaration
(``customers.representation``), every field reads the same value through REST (JSON, XML, CSV),
SOAP (``Get<Entity>``), an export file in each format (CSV, JSON, XML), a webhook payload and
the change feed's ``include=record``, for a reader who may read personal data (values in the
clear) and for one who may not (masked, the same way everywhere). Custom fields included.

Each door has one normalising function that turns its document into ``{field: value}`` in
plain Python values (text, int, Decimal, bool, date, aware UTC datetime, tag list, ``(id,
label)`` for a related record, ``{name: text}`` for custom fields); a mismatch names the door
and the field. The expected values are read from the database rows themselves, not from any
door. Webhook deliveries over HTTP are covered by ``tests/integrations/test_webhooks.py``;
here the payload is built by the delivery's own builder.
"""

import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from customers import pii, selectors
from customers.actors import SYSTEM
from customers.custom_fields.values import active_definitions, mask
from customers.models import ChangeEvent, Stage
from customers.representation import ENTITIES, Entity, Kind, Read
from customers.services import pipelines
from customers.services.custom_fields import custom_field_create
from integrations.exports import services as exports
from integrations.representations import representation
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from integrations.soap import types as soap_types
from integrations.webhooks.payloads import event_payload
from tests.api.conftest import client_with_key
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    SalesUserFactory,
)

# Committed writes: on PostgreSQL the change feed serves only transactions that have ended.
pytestmark = pytest.mark.django_db(transaction=True)

RESOURCES = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "activity": "activities",
}
SOAP_ENTITIES = {"contact", "company", "deal"}  # SOAP and the export jobs serve these three
NO_PII = [scope for scope in ALL_SCOPES if scope != "pii:read"]
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"

# Custom values as a client writes them, on each entity with custom fields; one is personal data.
CUSTOM_FIELDS = [
    ("backup_email", "email", True, "zhang.wei@backup.example.cn"),
    ("score", "integer", False, 42),
    ("budget", "decimal", False, "1234.50"),
    ("renewal", "date", False, "2027-03-01"),
    ("vip", "boolean", False, True),
    ("tier", "text", False, "金牌"),
]


# Plain values, whatever the door's notation.


def _text(value: Any) -> str:
    """Text as every door can carry it: CSV and XML cannot tell null from blank."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _moment(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.astimezone(UTC)


def _plain(kind: Kind, value: Any) -> Any:
    """A scalar value of `kind` from JSON, from text (CSV, XML, SOAP) or from the model."""
    if kind in (Kind.TEXT, Kind.EMAIL, Kind.PHONE, Kind.CHOICE):
        return _text(value)
    if value in (None, ""):
        return None
    if kind is Kind.INT:
        return int(value)
    if kind is Kind.DECIMAL:
        return Decimal(str(value))
    if kind is Kind.BOOL:
        return value if isinstance(value, bool) else {"true": True, "false": False}[value.lower()]
    if kind is Kind.DATE:
        return value if isinstance(value, date) else date.fromisoformat(value)
    if kind is Kind.DATETIME:
        return _moment(value)
    raise AssertionError(f"no scalar rule for {kind}")


def _related(record_id: Any, label: Any) -> tuple[int, str] | None:
    return None if record_id in (None, "") else (int(record_id), _text(label))


class IdOnly:
    """A related record a door shows by id alone (SOAP's unpublished labels)."""

    def __init__(self, record_id: Any) -> None:
        self.record_id = None if record_id in (None, "") else int(record_id)

    def __eq__(self, other: object) -> bool:
        return (other[0] if other else None) == self.record_id  # type: ignore[index]

    def __repr__(self) -> str:
        return f"IdOnly({self.record_id})"


# What the database holds, as a reader with or without the right to read personal data sees it.


def expected_record(entity: Entity, instance: Any, *, can_view_pii: bool) -> dict[str, Any]:
    expected: dict[str, Any] = {}
    for spec in entity:
        if spec.read is Read.RELATED:
            other = instance
            for step in spec.reference.attribute.split("."):
                other = getattr(other, step) if other is not None else None
            label = getattr(other, spec.reference.label) if other is not None else None
            expected[spec.name] = None if other is None else (other.pk, _text(label))
        elif spec.read is Read.TAGS:
            expected[spec.name] = sorted(tag.name for tag in instance.tags.all())
        elif spec.read is Read.CUSTOM_VALUES:
            expected[spec.name] = {
                definition.name: _text(
                    value
                    if can_view_pii or not definition.pii
                    else mask(definition, value)  # the value as written: stored encrypted
                )
                for definition in active_definitions(entity.name)
                for name, _type, _pii, value in CUSTOM_FIELDS
                if name == definition.name
            }
        elif spec.read is Read.FULL_NAME:
            expected[spec.name] = instance.full_name
        else:
            value = getattr(instance, spec.name)
            if spec.pii and not can_view_pii:
                value = pii.MASKERS[spec.pii](value)
            expected[spec.name] = _plain(spec.kind, value)
    return expected


# One normalising function per door.


def from_json(entity: Entity, record: Mapping[str, Any]) -> dict[str, Any]:
    """REST JSON, the JSON export, the webhook payload and the change feed record."""
    found: dict[str, Any] = {}
    for spec in entity:
        if spec.name not in record:
            continue
        value = record[spec.name]
        if spec.kind is Kind.REFERENCE:
            found[spec.name] = (
                None if value is None else _related(value["id"], value[spec.reference.label])
            )
        elif spec.kind is Kind.TAGS:
            found[spec.name] = list(value)
        elif spec.kind is Kind.CUSTOM:
            found[spec.name] = {name: _text(custom) for name, custom in value.items()}
        else:
            found[spec.name] = _plain(spec.kind, value)
    return found


def from_xml(entity: Entity, element: etree._Element) -> dict[str, Any]:
    """REST XML and the XML export: an element per field, nested for related records."""

    def text(child: etree._Element | None) -> str | None:
        if child is None or child.get(XSI_NIL) == "true":
            return None
        return child.text or ""

    found: dict[str, Any] = {}
    for spec in entity:
        child = element.find(spec.xml)
        if child is None:
            continue
        if spec.kind is Kind.REFERENCE:
            found[spec.name] = (
                None
                if child.get(XSI_NIL) == "true"
                else _related(text(child.find("id")), text(child.find(spec.reference.label)))
            )
        elif spec.kind is Kind.TAGS:
            found[spec.name] = [item.text or "" for item in child]
        elif spec.kind is Kind.CUSTOM:
            found[spec.name] = {item.tag: _text(text(item)) for item in child}
        else:
            found[spec.name] = _plain(spec.kind, text(child))
    return found


def _cell(text: str) -> str:
    """Undo the formula guard (a "'" before =, +, -, @ …), as the CSV import does."""
    return text[1:] if text[:1] == "'" and text[1:2] in tuple("=+-@'\t\r") else text


def from_csv(entity: Entity, row: Mapping[str, str]) -> dict[str, Any]:
    """REST CSV and the CSV export: dotted columns for related records, "|"-joined tags, a
    column per custom field; a computed field (``full_name``) has no column by declaration."""
    cells = {header: _cell(value) for header, value in row.items()}
    builtin = {column for spec in entity for column in spec.csv_columns}
    found: dict[str, Any] = {}
    for spec in entity:
        if spec.kind is Kind.CUSTOM:
            found[spec.name] = {h: _text(v) for h, v in cells.items() if h not in builtin}
        elif not spec.csv_columns or spec.csv_columns[0] not in cells:
            continue
        elif spec.kind is Kind.REFERENCE:
            found[spec.name] = _related(*(cells[column] for column in spec.csv_columns))
        elif spec.kind is Kind.TAGS:
            found[spec.name] = cells[spec.csv].split("|") if cells[spec.csv] else []
        else:
            found[spec.name] = _plain(spec.kind, cells[spec.csv])
    return found


def from_soap(entity: Entity, element: etree._Element) -> dict[str, Any]:
    """A SOAP record: ``<x>_id`` and ``<x>_<label>`` for a related record, typed custom field
    entries; an element left out is null (the writer omits nulls)."""
    children = {etree.QName(child).localname: child for child in element}

    def text(name: str) -> str | None:
        child = children.get(name)
        return None if child is None or child.get(XSI_NIL) == "true" else (child.text or "")

    published = {e.name for e in soap_types.elements(entity)}
    found: dict[str, Any] = {}
    for spec in entity:
        if spec.kind is Kind.REFERENCE:
            label = f"{spec.name}_{spec.reference.label}"
            record_id = text(f"{spec.name}_id")
            if label in published:
                found[spec.name] = _related(record_id, text(label))
            else:
                found[spec.name] = IdOnly(record_id)
        elif spec.kind is Kind.TAGS:
            tags = children.get(spec.name)
            found[spec.name] = [] if tags is None else [item.text or "" for item in tags]
        elif spec.kind is Kind.CUSTOM:
            found[spec.name] = {}
            for entry in children.get(spec.name, ()):
                fields = {etree.QName(part).localname: part for part in entry}
                value = fields.get("value")
                found[spec.name][fields["name"].text] = _text(
                    None if value is None or value.get(XSI_NIL) == "true" else value.text
                )
        else:
            found[spec.name] = _plain(spec.kind, text(spec.name))
    return found


# The doors.


class Doors:
    """Reads one record through each door as one reader (an API key with or without pii:read,
    of a user who may read personal data)."""

    def __init__(self, *, can_view_pii: bool) -> None:
        self.can_view_pii = can_view_pii
        self.user = SalesUserFactory()
        scopes = ALL_SCOPES if can_view_pii else NO_PII
        _, self.raw_key = api_key_create(user=self.user, name="shape", scopes=list(scopes))
        self.api = client_with_key(self.user, scopes)

    def all(self, entity: Entity, record_id: int) -> dict[str, Callable[[], dict[str, Any]]]:
        doors = {
            "REST JSON": lambda: self.rest_json(entity, record_id),
            "REST XML": lambda: self.rest_xml(entity, record_id),
            "REST CSV": lambda: self.rest_csv(entity, record_id),
            "webhook payload": lambda: self.webhook(entity, record_id),
            "change feed": lambda: self.change_feed(entity, record_id),
        }
        if entity.name in SOAP_ENTITIES:
            doors["SOAP"] = lambda: self.soap(entity, record_id)
            for format in ("csv", "json", "xml"):
                doors[f"{format.upper()} export"] = lambda format=format: self.export(
                    entity, record_id, format
                )
        return doors

    def _get(self, entity: Entity, record_id: int, accept: str) -> bytes:
        response = self.api.get(
            f"/api/v1/{RESOURCES[entity.name]}/{record_id}/", HTTP_ACCEPT=accept
        )
        assert response.status_code == 200, response.content
        return response.content

    def rest_json(self, entity: Entity, record_id: int) -> dict[str, Any]:
        return from_json(entity, json.loads(self._get(entity, record_id, "application/json")))

    def rest_xml(self, entity: Entity, record_id: int) -> dict[str, Any]:
        return from_xml(entity, etree.fromstring(self._get(entity, record_id, "application/xml")))

    def rest_csv(self, entity: Entity, record_id: int) -> dict[str, Any]:
        content = self._get(entity, record_id, "text/csv").decode("utf-8-sig")
        (row,) = csv.DictReader(io.StringIO(content))
        return from_csv(entity, row)

    def soap(self, entity: Entity, record_id: int) -> dict[str, Any]:
        operation = f"Get{entity.name.capitalize()}"
        envelope = (
            '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns:crm="urn:crm:soap:v1"><s:Header><wsse:Security xmlns:wsse="http://docs.'
            'oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd">'
            f"<wsse:UsernameToken><wsse:Username>{self.user.get_username()}</wsse:Username>"
            f"<wsse:Password>{self.raw_key}</wsse:Password></wsse:UsernameToken>"
            f"</wsse:Security></s:Header><s:Body><crm:{operation}><crm:id>{record_id}</crm:id>"
            f"</crm:{operation}></s:Body></s:Envelope>"
        )
        response = self.api.generic(
            "POST", "/soap/", envelope.encode(), content_type="text/xml; charset=utf-8"
        )
        assert response.status_code == 200, response.content
        result = next(
            element
            for element in etree.fromstring(response.content).iter()
            if isinstance(element.tag, str)
            and etree.QName(element).localname == f"{operation}Result"
        )
        return from_soap(entity, result)

    def export(self, entity: Entity, record_id: int, format: str) -> dict[str, Any]:
        stream = io.BytesIO()
        exports.export_write(
            resource=RESOURCES[entity.name],
            format=format,
            filters={},
            include_pii=self.can_view_pii,
            stream=stream,
        )
        content = stream.getvalue()
        if format == "json":
            (record,) = [r for r in json.loads(content) if r["id"] == record_id]
            return from_json(entity, record)
        if format == "xml":
            (element,) = [
                item for item in etree.fromstring(content) if item.findtext("id") == str(record_id)
            ]
            return from_xml(entity, element)
        rows = csv.DictReader(io.StringIO(content.decode("utf-8-sig")))
        (row,) = [row for row in rows if row["id"] == str(record_id)]
        return from_csv(entity, row)

    def webhook(self, entity: Entity, record_id: int) -> dict[str, Any]:
        event = ChangeEvent.objects.filter(entity=entity.name, record_id=record_id).last()
        record = representation(entity.name, record_id, can_view_pii=self.can_view_pii)
        body = json.dumps(event_payload(event, record=record), ensure_ascii=False)
        return from_json(entity, json.loads(body)["record"])

    def change_feed(self, entity: Entity, record_id: int) -> dict[str, Any]:
        response = self.api.get(
            "/api/v1/changes/", {"include": "record", "types": f"{entity.name}.created"}
        )
        assert response.status_code == 200, response.content
        (event,) = [e for e in response.json()["results"] if e["record_id"] == record_id]
        return from_json(entity, event["record"])


# The records: every field set, so that a door leaving one out cannot pass on a null.


@pytest.fixture
def records(settings, tmp_path) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path
    # a flushed database has lost the data migration's pipeline: recreate it
    selectors.default_pipeline() or pipelines.pipeline_create(
        actor=SYSTEM, name="Sales", is_default=True
    )
    for entity in ("contact", "company", "deal"):
        for name, kind, is_pii, _value in CUSTOM_FIELDS:
            custom_field_create(
                actor=SYSTEM, entity=entity, name=name, label=name.title(), type=kind, pii=is_pii
            )
    custom = {name: value for name, _kind, _pii, value in CUSTOM_FIELDS}
    owner = SalesUserFactory(username="li.na")
    company = CompanyFactory(
        external_id="erp-c-1",
        name="Acme 贸易",
        size_band="51-200",
        phone="+86 10 6552 9988",
        address="北京市朝阳区建国路 88 号",
        owner=owner,
        tags=["key", "华北"],
        custom_fields=custom,
    )
    contact = ContactFactory(
        external_id="erp-p-1",
        first_name="伟",
        last_name="张",
        title="采购经理",
        company=company,
        email="zhang.wei@example.cn",
        phone="+86 138 0013 1234",
        address="上海市浦东新区 1 号",
        lifecycle_stage="customer",
        source="trade show",
        owner=owner,
        tags=["vip", "a-list"],
        custom_fields=custom,
        notes="Prefers WeChat.\nCall after 10:00.",
        consent_email=True,
        consent_phone=False,
    )
    won = Stage.objects.filter(outcome=Stage.Outcome.WON).first()
    deal = DealFactory(
        external_id="erp-d-1",
        name="年度合同",
        company=company,
        primary_contact=contact,
        amount="98765.40",
        currency="CNY",
        stage=won,
        expected_close_date="2027-01-15",
        owner=owner,
        tags=["renewal"],
        custom_fields=custom,
    )
    activity = ActivityFactory(
        external_id="erp-a-1",
        kind="meeting",
        subject="Quarterly review",
        body="Agenda: pricing",
        due_at="2027-01-10T09:30:00Z",
        done_at="2027-01-10T10:45:30Z",
        contact=contact,
        company=company,
        deal=deal,
        author=owner,
    )
    return {"contact": contact, "company": company, "deal": deal, "activity": activity}


def _mismatches(entity: Entity, door: str, got: dict[str, Any], expected: dict[str, Any]):
    for spec in entity:
        csv_door = door.startswith(("REST CSV", "CSV export"))
        if csv_door and not spec.csv_columns and spec.kind is not Kind.CUSTOM:
            continue  # computed from other columns, by declaration (full_name)
        if spec.name not in got:
            yield f"{door}: {spec.name} is missing"
        elif got[spec.name] != expected[spec.name]:
            yield f"{door}: {spec.name} is {got[spec.name]!r}, expected {expected[spec.name]!r}"


@pytest.mark.parametrize("can_view_pii", [True, False], ids=["pii-reader", "no-pii-reader"])
@pytest.mark.parametrize("entity", ENTITIES.values(), ids=list(ENTITIES))
def test_every_field_reads_the_same_through_every_door(records, entity, can_view_pii):
    instance = type(records[entity.name]).objects.get(pk=records[entity.name].pk)
    expected = expected_record(entity, instance, can_view_pii=can_view_pii)
    doors = Doors(can_view_pii=can_view_pii)

    problems = [
        problem
        for door, read in doors.all(entity, instance.pk).items()
        for problem in _mismatches(entity, door, read(), expected)
    ]

    assert not problems, "\n".join(problems)


def test_the_records_set_every_field_and_mask_personal_data_for_a_reader_without_the_right(
    records,
):
    """Guards the test itself: a null or an unmasked value would let a door pass unseen."""
    for name, record in records.items():
        entity = ENTITIES[name]
        instance = type(record).objects.get(pk=record.pk)
        shown = expected_record(entity, instance, can_view_pii=True)
        masked = expected_record(entity, instance, can_view_pii=False)
        assert all(value not in (None, "", [], {}) for value in shown.values()), (name, shown)
        for spec in entity.pii_fields:
            assert masked[spec.name] != shown[spec.name] and "***" in masked[spec.name]
        if entity.has_custom_fields:
            assert masked["custom_fields"]["backup_email"] == "z***@backup.example.cn"
