"""The dashboard's numbers match the database; my work comes first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from customers.models import Activity, Contact, Deal, Stage
from tests.factories import (
    ActivityFactory,
    ContactFactory,
    DealFactory,
    SalesUserFactory,
    default_stage,
)

pytestmark = pytest.mark.django_db


def test_pipeline_value_by_stage_is_the_sum_of_open_deals(sales_client):
    qualification = default_stage("Qualification")
    DealFactory(amount="100.00", currency="CNY", stage=qualification)
    DealFactory(amount="23.45", currency="CNY", stage=qualification)
    DealFactory(amount="999.00", currency="USD", stage=qualification)
    response = sales_client.get(reverse("web:dashboard"))
    values = {value.stage.pk: value for value in response.context["stage_values"]}
    expected = Deal.objects.filter(stage=qualification, currency="CNY").aggregate(s=Sum("amount"))
    assert values[qualification.pk].amount == expected["s"] == Decimal("123.45")
    assert values[qualification.pk].other_currencies == {"USD": Decimal("999.00")}
    assert values[qualification.pk].count == 3
    body = response.content.decode()
    assert "<svg" in body and 'data-value="123.45"' in body


def test_won_and_lost_per_month_count_closed_deals(sales_client):
    pipeline = default_stage().pipeline
    won = Stage.objects.get(pipeline=pipeline, outcome="won")
    lost = Stage.objects.get(pipeline=pipeline, outcome="lost")
    for stage in (won, won, lost):
        DealFactory(stage=stage)
    months = sales_client.get(reverse("web:dashboard")).context["months"]
    this_month = months[-1]
    assert this_month[0] == timezone.localdate().replace(day=1)
    assert (this_month[1], this_month[2]) == (2, 1)
    assert sum(won for _m, won, _l in months) == Deal.objects.filter(status="won").count()


def test_new_contacts_per_week_match_the_table(sales_client):
    for _ in range(3):
        ContactFactory()
    old = ContactFactory()
    Contact.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=400))
    weeks = sales_client.get(reverse("web:dashboard")).context["weeks"]
    assert weeks[-1][1] == 3
    assert sum(count for _w, count in weeks) == 3


def test_my_work_comes_first_and_is_only_mine(sales_client, sales_user):
    other = SalesUserFactory(username="other")
    DealFactory(name="My deal", owner=sales_user)
    DealFactory(name="Their deal", owner=other)
    now = timezone.now()
    ActivityFactory(subject="Call me today", author=sales_user, due_at=now)
    ActivityFactory(subject="Overdue one", author=sales_user, due_at=now - timedelta(days=2))
    ActivityFactory(subject="Theirs", author=other, due_at=now)
    done = ActivityFactory(subject="Done already", author=sales_user, due_at=now)
    Activity.objects.filter(pk=done.pk).update(done_at=now)

    response = sales_client.get(reverse("web:dashboard"))
    assert [deal.name for deal in response.context["my_deals"]] == ["My deal"]
    assert [a.subject for a in response.context["my_activities"]] == [
        "Overdue one",
        "Call me today",
    ]
    assert response.context["my_due"].overdue == 1
    assert response.context["team_due"].today >= 2


def test_dashboard_in_chinese_formats_money_the_chinese_way(sales_client):
    DealFactory(amount="1234567.00", currency="CNY", stage=default_stage("Qualification"))
    body = sales_client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans").content
    text = body.decode()
    assert "仪表盘" in text
    assert "¥1,234,567.00" in text


def test_an_activity_due_today_can_be_ticked_off_from_the_dashboard(sales_client, sales_user):
    activity = ActivityFactory(subject="Call back", author=sales_user, due_at=timezone.now())
    response = sales_client.post(
        reverse("web:activity-done", args=[activity.pk]), HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Call back" in response.content.decode()
    activity.refresh_from_db()
    assert activity.done_at is not None
    assert not sales_client.get(reverse("web:dashboard")).context["my_activities"]
