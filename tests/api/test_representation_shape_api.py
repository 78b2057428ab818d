"""Every field the representation declares reaches every door with the same value: REST JSON
(the record and the list's fast path), XML and CSV, and an export file in each format. The
test walks the spec, so a field added there is checked here without a line of its own."""

import io
from xml.etree import ElementTree

import pytest
from django.utils import timezone

from customers.actors import SYSTEM
from customers.custom_fields.values import definitions_for
from customers.models import Stage
from customers.representation import ENTITIES, Entity, Field, Kind
from customers.services.custom_fields import custom_field_create
from integrations.exports import services as exports
from integrations.formats import open_reader
from integrations.formats.csv_cells import cell_text, flatten
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    SalesUserFactory,
)

pytestmark = pytest.mark.django_db

RESOURCES = {
    "contact": "contacts",
    "company": "companies",
    "deal": "deals",
    "activity": "activities",
}
EXPORTED = ["contact", "company", "deal"]  # activities have no export


@pytest.fixture
def full_records(sales_user):
    """One record per entity with every field set (no null a door could hide a field behind),
    custom fields included, one of them personal data."""
    for entity in ("contact", "company", "deal"):
        custom_field_create(actor=SYSTEM, entity=entity, name="tier", label="Tier", type="text")
        custom_field_create(
            actor=SYSTEM, entity=entity, name="wechat", label="WeChat", type="text", pii=True
        )
        custom_field_create(
            actor=SYSTEM, entity=entity, name="seats", label="Seats", type="integer"
        )
    owner = SalesUserFactory(username="owner.li")
    custom = {"tier": "gold", "wechat": "wx_1", "seats": 12}
    company = CompanyFactory(
        name="Acme 上海",
        size_band="11-50",
        owner=owner,
        tags=["b2b", "east"],
        external_id="erp-c1",
        custom_fields=custom,
    )
    contact = ContactFactory(
        first_name="伟",
        last_name="张",
        title="CTO",
        company=company,
        source="fair",
        owner=owner,
        tags=["vip", "beta"],
        notes="Met at the fair",
        consent_email=True,
        consent_phone=True,
        external_id="erp-p1",
        custom_fields=custom,
    )
    won = Stage.objects.filter(outcome=Stage.Outcome.WON).first()
    deal = DealFactory(
        name="Renewal",
        company=company,
        primary_contact=contact,
        amount="1234.50",
        stage=won,
        expected_close_date="2027-01-31",
        owner=owner,
        tags=["q1"],
        external_id="erp-d1",
        custom_fields=custom,
    )
    activity = ActivityFactory(
        kind="meeting",
        subject="Kick-off",
        body="Agenda",
        due_at=timezone.now(),
        done_at=timezone.now(),
        contact=contact,
        company=company,
        deal=deal,
        author=owner,
        external_id="erp-a1",
    )
    return {"contact": contact, "company": company, "deal": deal, "activity": activity}


def cells(record: dict) -> dict[str, str]:
    """A record as text per dotted path, the one form every format can be compared in."""
    return {
        path: cell_text(value, escape_formulas=False) for path, value in flatten(record).items()
    }


def paths(entity: Entity, spec: Field) -> list[str]:
    """The dotted paths a field's value takes in a record."""
    if spec.kind is Kind.REFERENCE:
        return [f"{spec.name}.id", f"{spec.name}.{spec.reference.label}"]
    if spec.kind is Kind.CUSTOM:
        return [f"custom_fields.{d.name}" for d in definitions_for(entity.name)]
    return [spec.name]


def read(content: bytes, format: str) -> list[dict[str, str]]:
    with open_reader(io.BytesIO(content), format=format) as reader:
        return [cells(record.values) for record in reader]


@pytest.fixture
def shape(api, full_records):
    """Per entity: the record's JSON as the serializer renders it, and its spec."""

    def get(entity_name: str) -> tuple[Entity, dict]:
        record = full_records[entity_name]
        response = api.get(f"/api/v1/{RESOURCES[entity_name]}/{record.pk}/?format=json")
        assert response.status_code == 200
        return ENTITIES[entity_name], response.json()

    return get


@pytest.mark.parametrize("entity_name", list(ENTITIES))
def test_rest_json_has_every_field_in_spec_order_and_none_is_left_empty(shape, entity_name):
    entity, record = shape(entity_name)

    assert tuple(record) == entity.names
    for spec in entity:
        for path in paths(entity, spec):
            assert cells(record)[path] != "", f"{entity_name}.{path} is empty: set it in the test"


@pytest.mark.parametrize("entity_name", list(ENTITIES))
def test_rest_xml_has_every_field_as_its_element_with_the_same_value(api, shape, entity_name):
    entity, record = shape(entity_name)
    url = f"/api/v1/{RESOURCES[entity_name]}/{record['id']}/?format=xml"
    content = api.get(url).content

    elements = [child.tag for child in ElementTree.fromstring(content)]
    assert elements == [spec.xml for spec in entity]
    listed = api.get(f"/api/v1/{RESOURCES[entity_name]}/?format=xml").content
    (xml,) = read(listed, "xml")  # the reader reads a list of records
    expected = cells(record)
    for spec in entity:
        for path in paths(entity, spec):
            assert xml[path] == expected[path], f"{entity_name}.{path}"


@pytest.mark.parametrize("entity_name", list(ENTITIES))
def test_rest_csv_has_a_column_per_field_with_the_same_value(api, shape, entity_name):
    entity, record = shape(entity_name)
    url = f"/api/v1/{RESOURCES[entity_name]}/{record['id']}/?format=csv"
    (csv,) = read(api.get(url).content, "csv")

    columns = entity.csv_columns(definitions_for(entity.name))
    headers = {c: c for c in columns if isinstance(c, str)}
    headers.update(dict(c for c in columns if not isinstance(c, str)))
    expected = cells(record)
    for spec in entity:
        if spec.csv is None and spec.kind is not Kind.CUSTOM:
            continue  # computed (full_name): its parts have columns
        for path in paths(entity, spec):
            assert csv[headers[path]] == expected[path], f"{entity_name}.{path}"


def test_the_contact_list_fast_path_shows_every_field_as_the_record_does(api, shape):
    entity, record = shape("contact")
    listed = api.get("/api/v1/contacts/?format=json").json()["results"]

    assert listed == [record]


@pytest.mark.parametrize("format", ["csv", "json", "xml"])
@pytest.mark.parametrize("entity_name", EXPORTED)
def test_an_export_file_carries_every_field_with_the_same_value(shape, entity_name, format):
    entity, record = shape(entity_name)
    stream = io.BytesIO()
    exports.export_write(
        resource=RESOURCES[entity_name],
        format=format,
        filters={},
        include_pii=True,
        stream=stream,
    )
    (exported,) = read(stream.getvalue(), format)

    expected = cells(record)
    if format == "csv":
        columns = entity.csv_columns(definitions_for(entity.name))
        exported = {
            (c if isinstance(c, str) else c[0]): exported[c if isinstance(c, str) else c[1]]
            for c in columns
        }
    for spec in entity:
        if format == "csv" and spec.csv is None and spec.kind is not Kind.CUSTOM:
            continue
        for path in paths(entity, spec):
            assert exported[path] == expected[path], f"{entity_name}.{path} in {format}"
