"""List filters with days and times at the edge of the calendar: the filter is reported as out
of range and left out, the page still answers (9999-12-31 has no next midnight to compare
with; 0001-01-01 east of UTC starts before year 1 in UTC)."""

import pytest
from django.urls import reverse

from customers.actors import SYSTEM
from customers.services import custom_fields
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

LISTS = ["web:contact-list", "web:company-list", "web:deal-list"]
EDGE_DAYS = [{"created_to": "9999-12-31"}, {"created_from": "0001-01-01"}]


@pytest.fixture
def east_of_utc(settings):
    settings.TIME_ZONE = "Asia/Shanghai"


@pytest.fixture
def one_of_each(db):
    ContactFactory()
    CompanyFactory()
    DealFactory()


@pytest.mark.parametrize("page", LISTS)
@pytest.mark.parametrize("params", EDGE_DAYS, ids=lambda p: next(iter(p)))
def test_a_day_at_the_edge_of_the_calendar_is_reported_and_ignored(
    sales_client, east_of_utc, one_of_each, page, params
):
    response = sales_client.get(reverse(page), params)

    assert response.status_code == 200
    assert "The date is out of range." in response.content.decode()
    assert len(response.context["page"].rows) == 1  # the filter was left out, not applied


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals"])
def test_an_export_with_a_day_at_the_edge_of_the_calendar_is_not_a_server_error(
    sales_client, east_of_utc, one_of_each, resource
):
    response = sales_client.get(reverse("web:export", args=[resource]), EDGE_DAYS[0])

    assert response.status_code < 500


def test_the_last_representable_days_still_filter(sales_client, one_of_each):
    response = sales_client.get(
        reverse("web:contact-list"), {"created_from": "0001-01-02", "created_to": "9999-12-30"}
    )

    assert response.status_code == 200
    assert len(response.context["page"].rows) == 1


def test_a_custom_datetime_filter_before_year_one_in_utc_is_reported(sales_client, one_of_each):
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="seen", label="Seen", type="datetime"
    )

    response = sales_client.get(
        reverse("web:contact-list"), {"cf_seen__gte": "0001-01-01T00:00:00+05:00"}
    )

    assert response.status_code == 200
    assert "out of range" in response.content.decode()
