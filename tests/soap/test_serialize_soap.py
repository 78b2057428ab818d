"""The fast response writer produces exactly spyne's XML for every record and page type."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from lxml import etree
from spyne.protocol.soap import Soap11

from integrations.soap import types
from integrations.soap.app import build_application
from integrations.soap.serialize import FastSoap11

build_application()  # as in production: the interface gives every array its namespace


def _custom_fields():
    return [
        types.CustomFieldValue(name="tier", type="choice", value="金"),
        types.CustomFieldValue(name="langs", type="multi_choice", items=["zh", "en"]),
        types.CustomFieldValue(name="unset", type="integer"),
    ]


def _contact(**overrides):
    values = dict(
        id=7,
        external_id="erp-7",
        first_name="伟",
        last_name="张",
        full_name="张伟",
        title="",
        company_id=3,
        company_name="Acme & <Co>",
        email="z***@example.com",
        phone=None,
        address="北京\n朝阳",
        lifecycle_stage="lead",
        owner_id=None,
        tags=["vip", "客户"],
        custom_fields=_custom_fields(),
        consent_email=True,
        consent_phone=False,
        consent_updated_at=None,
        created_at=datetime(2026, 1, 31, 9, 30, 1, 123456, tzinfo=UTC),
        updated_at=datetime(2026, 2, 1, tzinfo=UTC),
    )
    return types.Contact(**{**values, **overrides})


def _deal():
    return types.Deal(
        id=1,
        name="大单",
        amount=Decimal("12345.60"),
        currency="CNY",
        pipeline_id=1,
        stage_id=2,
        stage_name="Proposal",
        status="open",
        expected_close_date=date(2026, 12, 31),
        tags=[],
        custom_fields=[],
        created_at=datetime(2026, 1, 31, tzinfo=UTC),
    )


CASES = {
    "contact": (types.Contact, _contact()),
    "bare contact": (types.Contact, types.Contact(id=1)),
    "company": (
        types.Company,
        types.Company(id=2, name="华为", country="CN", tags=None, custom_fields=_custom_fields()),
    ),
    "deal": (types.Deal, _deal()),
    "contact page": (
        types.ContactPage,
        types.ContactPage(total=2, offset=0, limit=50, items=[_contact(), _contact(id=8)]),
    ),
    "empty page": (types.DealPage, types.DealPage(total=0, offset=0, limit=50, items=[])),
    "deal page": (types.DealPage, types.DealPage(total=1, offset=0, limit=1, items=[_deal()])),
    "upsert": (
        types.ContactUpsertResult,
        types.ContactUpsertResult(created=True, contact=_contact()),
    ),
}


def _render(protocol, cls, value) -> tuple:
    """The element tree as nested tuples: names with their namespaces, text and attributes
    (prefixes are the envelope's business)."""
    root = etree.Element("root")
    protocol.to_parent(None, cls, value, root, "urn:test", "result")
    return _shape(root)


def _shape(element) -> tuple:
    children = tuple(_shape(child) for child in element)
    return (element.tag, element.text, tuple(sorted(element.attrib.items())), children)


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_writer_matches_spyne(case):
    cls, value = CASES[case]
    expected = _render(Soap11(), cls, value)
    assert len(str(expected)) > 90  # something was written
    assert _render(FastSoap11(), cls, value) == expected
