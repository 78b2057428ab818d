"""Export → import the same file with upsert → the database is unchanged: every column (PII
decrypted), every custom field value, every tag and every relation."""

import io
from typing import Any

import pytest

from customers.actors import SYSTEM
from customers.custom_fields.values import definitions_for, plain_values
from customers.models import Company, Contact, Deal
from customers.services.custom_fields import custom_field_create
from customers.services.pipelines import pipeline_create
from integrations.exports import services as exports
from integrations.imports import services as imports
from integrations.models import ImportRowError, JobStatus
from tests.factories import CompanyFactory, ContactFactory, DealFactory, SalesUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("media_in_tmp")]

FORMATS = ["csv", "json", "xml"]
MODELS = {"companies": Company, "contacts": Contact, "deals": Deal}


def custom_fields(entity: str) -> None:
    custom_field_create(
        actor=SYSTEM, entity=entity, name="tier", label="Tier", label_zh="等级", type="text"
    )
    custom_field_create(actor=SYSTEM, entity=entity, name="score", label="Score", type="integer")
    custom_field_create(actor=SYSTEM, entity=entity, name="budget", label="Budget", type="decimal")
    custom_field_create(actor=SYSTEM, entity=entity, name="since", label="Since", type="date")
    custom_field_create(actor=SYSTEM, entity=entity, name="seen_at", label="Seen", type="datetime")
    custom_field_create(actor=SYSTEM, entity=entity, name="vip", label="VIP", type="boolean")
    custom_field_create(
        actor=SYSTEM,
        entity=entity,
        name="region",
        label="Region",
        type="choice",
        choices=["华北", "South"],
    )
    custom_field_create(
        actor=SYSTEM,
        entity=entity,
        name="channels",
        label="Channels",
        type="multi_choice",
        choices=["a", "b"],
    )
    custom_field_create(
        actor=SYSTEM, entity=entity, name="wechat", label="WeChat", type="text", pii=True
    )
    custom_field_create(actor=SYSTEM, entity=entity, name="site", label="Site", type="url")


FULL_VALUES = {
    "tier": "  gold  ",  # custom text keeps its spaces
    "score": -7,
    "budget": "12.50",
    "since": "2024-02-29",
    "seen_at": "2026-03-02T09:15:00Z",
    "vip": True,
    "region": "华北",
    "channels": ["b", "a"],
    "wechat": "wx_张伟",
    "site": "https://example.cn/路径?q=1",
}


@pytest.fixture
def crm():
    """Records with unicode, nulls, formula-like text, decimals, dates, tags, relations and
    custom fields of every kind (set, partly set, unset)."""
    for entity in ("contact", "company", "deal"):
        custom_fields(entity)
    owner = SalesUserFactory(username="李.owner")
    acme = CompanyFactory(
        name="北京科技有限公司",
        external_id="erp-1",
        owner=owner,
        tags=["客户", "a|b", "back\\slash"],
        size_band="51-200",
        custom_fields=FULL_VALUES,
    )
    bare = CompanyFactory(
        name="=Bare & Co", domain="", industry="", country="", phone=None, address=None
    )
    wei = ContactFactory(
        first_name="伟",
        last_name="张",
        title="-Head of 采购",
        company=acme,
        owner=owner,
        email="Zhang.Wei@Example.cn",
        phone="+86 138 0013 8000",
        address='Line 1\nLine "2", 上海',
        notes="+1 call back\r\nthen 🙂",
        consent_email=True,
        external_id="crm-7",
        tags=["vip", "北京"],
        custom_fields=FULL_VALUES,
    )
    ContactFactory(
        first_name="",
        last_name="Only Last",
        email=None,
        phone=None,
        address=None,
        company=bare,
        custom_fields={"score": 0, "vip": False, "channels": ["a"]},
    )
    other = pipeline_create(actor=SYSTEM, name="Partners")
    DealFactory(
        name="Pilot 试点",
        amount="1234.50",
        currency="USD",
        company=acme,
        primary_contact=wei,
        owner=owner,
        expected_close_date="2026-12-31",
        external_id="d-1",
        tags=["q4"],
        custom_fields=FULL_VALUES,
    )
    DealFactory(
        name="Won big",
        amount="987654321012.99",
        stage=other.stages.get(name="Closed won"),
    )
    DealFactory(name="Zero", amount="0", company=None, primary_contact=None)


def snapshot(resource: str) -> dict[int, dict[str, Any]]:
    """Every stored column (PII decrypted, custom values decrypted), tags and relations."""
    model = MODELS[resource]
    definitions = definitions_for(model._meta.model_name)
    rows = {}
    for record in model.objects.prefetch_related("tags").order_by("pk"):
        row = {
            field.attname: getattr(record, field.attname)
            for field in model._meta.concrete_fields
            if field.name not in ("updated_at", "custom_fields")
        }
        row["custom_fields"] = plain_values(record.custom_fields, definitions, can_view_pii=True)
        row["tags"] = sorted(tag.name for tag in record.tags.all())
        rows[record.pk] = row
    return rows


def export(resource: str, format: str) -> bytes:
    stream = io.BytesIO()
    exports.export_write(
        resource=resource, format=format, filters={}, include_pii=True, stream=stream
    )
    return stream.getvalue()


def import_back(resource: str, format: str, content: bytes):
    job = imports.import_create(
        user=None,
        file=io.BytesIO(content),
        filename=f"{resource}.{format}",
        resource=resource,
        mode="upsert",
        match_key="external_id",
        enqueue=False,
    )
    return imports.import_run(job_id=job.pk)


@pytest.mark.parametrize("format", FORMATS)
@pytest.mark.parametrize("resource", ["companies", "contacts", "deals"])
def test_an_export_imports_back_unchanged(crm, resource, format):
    before = snapshot(resource)
    content = export(resource, format)

    job = import_back(resource, format, content)

    problems = list(ImportRowError.objects.values_list("row_number", "field", "message"))
    assert (job.status, problems) == (JobStatus.SUCCEEDED, [])
    assert (job.rows_created, job.rows_updated, job.rows_unchanged) == (0, 0, len(before))
    assert snapshot(resource) == before


def test_the_snapshot_would_notice_a_change(crm):
    """The comparison above can fail: a changed tag, relation or custom value shows."""
    before = snapshot("contacts")
    content = export("contacts", "csv").decode().replace("vip|北京", "vip")

    import_back("contacts", "csv", content.encode())

    assert snapshot("contacts") != before


@pytest.mark.parametrize("format", FORMATS)
def test_an_export_imports_into_an_empty_crm_by_external_id(crm, format):
    """Rows with an external id find their record by it when the ids do not match (another
    CRM, or records recreated): the `id` column of a record that no longer exists creates it."""
    content = export("companies", format)
    before = {row["external_id"]: row["name"] for row in snapshot("companies").values()}
    Company.objects.all().delete()

    job = import_back("companies", format, content)

    assert job.rows_created == len(before)
    assert {c.external_id: c.name for c in Company.objects.all()} == before
