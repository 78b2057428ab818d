"""The dashboard's numbers match the database; my work comes first."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation

from customers.models import Activity, Contact, Deal, Stage
from customers.web import charts
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


def test_a_first_login_that_owns_nothing_sees_the_team_figures_with_a_note(client):
    """`admin` on a fresh install: every record belongs to someone else."""
    newcomer = SalesUserFactory(username="admin")
    colleague = SalesUserFactory(username="colleague")
    DealFactory(name="Team deal", owner=colleague, stage=default_stage("Qualification"))
    ActivityFactory(subject="Team call", author=colleague, due_at=timezone.now())
    client.force_login(newcomer)

    response = client.get(reverse("web:dashboard"))
    body = response.content.decode()
    assert "this page shows the team's" in body
    assert "Team open deals" in body and "Team activities due today" in body
    assert [deal.name for deal in response.context["my_deals"]] == ["Team deal"]
    assert [a.subject for a in response.context["my_activities"]] == ["Team call"]
    assert "1 overdue" in body or "1 today" in body
    assert "colleague" in body  # whose work it is

    chinese = client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "团队" in chinese.content.decode()


def test_a_user_with_a_record_of_their_own_sees_only_theirs_and_no_note(sales_client, sales_user):
    colleague = SalesUserFactory(username="colleague")
    DealFactory(name="Team deal", owner=colleague)
    ContactFactory(owner=sales_user)  # owns a contact, no deal and no activity yet
    response = sales_client.get(reverse("web:dashboard"))
    body = response.content.decode()
    assert "team-fallback" not in body and "My open deals" in body
    assert response.context["my_deals"] == []
    assert "No open deals." in body


def test_pipeline_amounts_in_several_currencies_are_never_added_together(sales_client):
    qualification = default_stage("Qualification")
    DealFactory(amount="100.00", currency="CNY", stage=qualification)
    DealFactory(amount="999.00", currency="USD", stage=qualification)
    DealFactory(amount="1.00", currency="USD", stage=qualification)

    page = sales_client.get(reverse("web:dashboard")).content.decode()
    assert 'data-currency="CNY"' in page and 'data-currency="USD"' in page
    assert 'data-value="100.00"' in page  # the default currency's chart, CNY alone
    assert 'data-value="1099.00"' not in page and 'data-value="1100.00"' not in page
    assert "CNY 100.00 in 1 open deal" in page and "USD 1,000.00 in 2 open deals" in page

    usd = sales_client.get(reverse("web:dashboard"), {"currency": "USD"})
    assert usd.context["currency"] == "USD"
    usd_page = usd.content.decode()
    assert 'data-value="1000.00"' in usd_page and 'data-value="100.00"' not in usd_page
    assert "Open deal value by stage, in USD" in usd_page


def test_an_unknown_currency_in_the_address_shows_the_default_one(sales_client):
    DealFactory(amount="100.00", currency="CNY", stage=default_stage("Qualification"))
    response = sales_client.get(reverse("web:dashboard"), {"currency": "<b>"})
    assert response.status_code == 200 and response.context["currency"] == "CNY"


def test_chart_labels_wrap_within_their_column_and_the_tooltip_has_them_whole(sales_client):
    long_name = "Proposal sent and waiting for the customer's procurement board to meet"
    stage = default_stage("Proposal")
    stage.name = long_name
    stage.save()
    DealFactory(amount="98765432.10", currency="CNY", stage=stage)

    chart = sales_client.get(reverse("web:dashboard")).context["pipeline_chart"]
    group = next(group for group in chart.groups if group.label == long_name)
    assert 1 < len(group.lines) <= charts.MAX_LABEL_LINES
    assert all(charts.text_width(line) <= group.slot_width for line in group.lines)
    assert long_name in group.tooltip and "CNY 98,765,432.10 in 1 open deal" in group.tooltip
    bar = group.bars[0]
    assert bar.short_text == "98.8M" and bar.value_attr == "98765432.10"


@pytest.mark.parametrize(
    ("language", "value", "expected"),
    [
        ("en", 0, "0"),
        ("en", 999, "999"),
        ("en", 45000, "45K"),
        ("en", 999_999, "1M"),
        ("en", Decimal("1234567.89"), "1.23M"),
        ("en", 1_250_000_000, "1.25B"),
        ("zh-hans", 45000, "4.5万"),
        ("zh-hans", Decimal("98765432.10"), "9877万"),
        ("zh-hans", 1_250_000_000, "12.5亿"),
    ],
)
def test_values_printed_on_bars_are_abbreviated_the_way_the_language_counts(
    language, value, expected
):
    with translation.override(language):
        assert charts.compact(value) == expected


def test_a_label_wraps_between_words_between_chinese_characters_and_inside_a_long_word():
    assert charts.wrap("Needs analysis", 60) == ["Needs", "analysis"]
    assert charts.wrap("上海华东国际贸易", 45) == ["上海华东", "国际贸易"]
    lines = charts.wrap("Supercalifragilisticexpialidocious", 80)
    assert "".join(lines) == "Supercalifragilisticexpialidocious"
    assert len(lines) > 1 and all(charts.text_width(line) <= 80 for line in lines)
    assert charts.wrap("one two three four five six seven", 30, max_lines=2)[-1].endswith("…")
