"""Company and deal screens: lists, detail pages, edit forms, bulk export."""

import csv
import io
from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Activity, Company, Deal
from tests.factories import (
    CompanyFactory,
    ContactFactory,
    DealFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "name", ["web:company-list", "web:company-create", "web:deal-list", "web:deal-board"]
)
def test_anonymous_users_are_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_company_detail_shows_its_people_deals_and_timeline(sales_client):
    company = CompanyFactory(name="Acme")
    person = ContactFactory(first_name="伟", last_name="张", company=company)
    DealFactory(name="Big order", company=company)
    Activity.objects.create(kind="note", subject="Met at expo", company=company)
    body = sales_client.get(reverse("web:company-detail", args=[company.pk])).content.decode()
    assert "张伟" in body and "Big order" in body and "Met at expo" in body
    assert reverse("web:contact-detail", args=[person.pk]) in body


def test_company_phone_is_masked_without_view_pii(no_pii_client):
    company = CompanyFactory(phone="+86 10 6000 1234", address="1 Chang'an Avenue")
    body = no_pii_client.get(reverse("web:company-detail", args=[company.pk])).content.decode()
    assert "6000 1234" not in body and "Chang&#x27;an" not in body
    assert "*** **** 1234" in body


def test_company_search_and_edit(sales_client):
    CompanyFactory(name="北京科技有限公司")
    CompanyFactory(name="Globex")
    page = sales_client.get(reverse("web:company-list"), {"q": "科技"})
    assert [c.name for c in page.context["page"].rows] == ["北京科技有限公司"]

    company = Company.objects.get(name="Globex")
    response = sales_client.post(
        reverse("web:company-edit", args=[company.pk]),
        {"name": "Globex Ltd", "country": "china"},
    )
    assert response.status_code == 422
    assert response.context["form"].errors["country"]
    company.refresh_from_db()
    assert company.name == "Globex"


def test_deal_create_uses_the_services_defaults_and_rules(sales_client, sales_user):
    stage = default_stage()
    response = sales_client.post(
        reverse("web:deal-create"),
        {"name": "Expo stand", "amount": "1200.50", "currency": "cny", "stage": stage.pk},
    )
    deal = Deal.objects.get(name="Expo stand")
    assert response.status_code == 302
    assert (deal.amount, deal.currency, deal.stage) == (Decimal("1200.50"), "CNY", stage)

    refused = sales_client.post(
        reverse("web:deal-create"),
        {"name": "Bad", "amount": "10", "currency": "C1Y", "stage": stage.pk},
    )
    assert refused.status_code == 422
    assert refused.context["form"].errors["currency"]
    assert not Deal.objects.filter(name="Bad").exists()


def test_deal_list_filters_by_stage_and_sorts_by_amount(sales_client):
    stage = default_stage()
    small = DealFactory(amount="10.00", stage=stage)
    big = DealFactory(amount="99999.00", stage=stage)
    DealFactory(amount="500.00", stage=default_stage("Proposal"))
    page = sales_client.get(
        reverse("web:deal-list"), {"stage": stage.pk, "sort": "-amount"}
    ).context["page"]
    assert [deal.pk for deal in page.rows] == [big.pk, small.pk]


def test_deal_detail_logs_an_activity_on_the_deal(sales_client):
    deal = DealFactory(company=CompanyFactory())
    sales_client.post(
        reverse("web:deal-log-activity", args=[deal.pk]),
        {"kind": "meeting", "subject": "Demo"},
    )
    activity = Activity.objects.get(subject="Demo")
    assert activity.deal == deal and activity.company == deal.company
    assert "Demo" in sales_client.get(reverse("web:deal-detail", args=[deal.pk])).content.decode()


def test_export_selected_deals(sales_client):
    chosen = DealFactory(name="Chosen", amount="12.00")
    DealFactory(name="Other")
    response = sales_client.post(reverse("web:deal-bulk"), {"action": "export", "ids": [chosen.pk]})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(row["name"], row["amount"]) for row in rows] == [("Chosen", "12.00")]


def test_export_cells_that_look_like_formulas_are_neutralised(sales_client):
    company = CompanyFactory(name='=HYPERLINK("http://evil")')
    response = sales_client.post(
        reverse("web:company-bulk"), {"action": "export", "ids": [company.pk]}
    )
    text = b"".join(response.streaming_content).decode()
    assert "'=HYPERLINK" in text


def test_garbage_in_a_deal_form_is_a_field_error_not_a_500(sales_client):
    response = sales_client.post(
        reverse("web:deal-create"),
        {
            "name": "X",
            "amount": "ten",
            "currency": "CNY",
            "stage": "x",
            "company": "abc",
            "primary_contact": "1 OR 1=1",
        },
    )
    assert response.status_code == 422
    assert {"amount", "stage", "company"} <= set(response.context["form"].errors)
    assert not Deal.objects.exists()


def test_deals_filter_by_expected_close_date(sales_client):
    soon = DealFactory(name="Soon", expected_close_date="2026-12-01")
    DealFactory(name="Later", expected_close_date="2027-06-01")
    DealFactory(name="Undated")
    page = sales_client.get(
        reverse("web:deal-list"), {"closing_from": "2026-11-01", "closing_to": "2026-12-31"}
    ).context["page"]
    assert [deal.pk for deal in page.rows] == [soon.pk]
