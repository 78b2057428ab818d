"""No N+1: a list page costs the same number of queries for 3 rows as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.actors import SYSTEM
from customers.services import custom_fields
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

LISTS = ["web:contact-list", "web:company-list", "web:deal-list", "web:deal-board", "web:dashboard"]


def _make(count: int) -> None:
    for index in range(count):
        company = CompanyFactory(tags=[f"t{index}"])
        contact = ContactFactory(company=company, tags=["a", "b"], custom_fields={"tier": "gold"})
        DealFactory(company=company, primary_contact=contact, tags=["x"])


def _queries(client, name: str, *args) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse(name, args=args)).status_code == 200
    return len(captured)


@pytest.mark.parametrize("name", LISTS)
def test_query_count_is_constant_in_the_number_of_rows(sales_client, name):
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="tier", label="Tier", type="choice", choices=["gold"]
    )
    _make(3)
    few = _queries(sales_client, name)
    _make(27)
    many = _queries(sales_client, name)
    assert many == few, f"{name}: {few} queries for 3 rows, {many} for 30"


@pytest.mark.parametrize("kind", ["contact", "company", "deal"])
def test_detail_pages_cost_the_same_with_3_or_30_related_records(sales_client, kind):
    company = CompanyFactory()
    contact = ContactFactory(company=company, tags=["a"])
    deal = DealFactory(company=company, primary_contact=contact)
    record = {"contact": contact, "company": company, "deal": deal}[kind]

    def add(count: int) -> None:
        for _ in range(count):
            ContactFactory(company=company, tags=["b"])
            DealFactory(company=company, primary_contact=contact, tags=["x"])
            ActivityFactory(contact=contact, deal=deal, company=company)

    add(3)
    few = _queries(sales_client, f"web:{kind}-detail", record.pk)
    add(27)
    many = _queries(sales_client, f"web:{kind}-detail", record.pk)
    assert many == few, f"{kind}: {few} queries with 3 related records, {many} with 30"
