"""The pipeline board: columns by stage with totals, moving a deal through the service."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from customers.models import Deal, Pipeline, Stage
from tests.factories import DealFactory, default_stage

pytestmark = pytest.mark.django_db


def test_columns_follow_the_stages_with_counts_and_totals(sales_client):
    qualification, proposal = default_stage("Qualification"), default_stage("Proposal")
    DealFactory(name="A", amount="100.00", stage=qualification)
    DealFactory(name="B", amount="250.50", stage=qualification)
    DealFactory(name="C", amount="7.00", stage=proposal)
    response = sales_client.get(reverse("web:deal-board"))
    columns = {column["stage"].pk: column for column in response.context["columns"]}
    stages = list(Pipeline.objects.get(is_default=True).stages.order_by("position", "id"))
    assert [column["stage"] for column in response.context["columns"]] == stages
    assert columns[qualification.pk]["count"] == 2
    assert "350.50" in columns[qualification.pk]["total"]
    assert {deal.name for deal in columns[qualification.pk]["deals"]} == {"A", "B"}


def test_moving_a_card_saves_through_the_service_and_answers_new_totals(sales_client):
    deal = DealFactory(amount="100.00", stage=default_stage("Qualification"))
    proposal = default_stage("Proposal")
    response = sales_client.post(
        reverse("web:deal-move", args=[deal.pk]),
        {"stage": proposal.pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    deal.refresh_from_db()
    assert deal.stage == proposal
    totals = {column["stage"]: column for column in response.json()["columns"]}
    assert totals[proposal.pk]["count"] == 1


def test_moving_to_a_won_stage_closes_the_deal_as_the_api_would(sales_client):
    deal = DealFactory(stage=default_stage("Qualification"))
    won = Stage.objects.get(pipeline=deal.stage.pipeline, outcome="won")
    sales_client.post(reverse("web:deal-move", args=[deal.pk]), {"stage": won.pk})
    deal.refresh_from_db()
    assert deal.status == Deal.Status.WON and deal.closed_at is not None


def test_a_refused_move_changes_nothing_and_says_why(sales_client):
    deal = DealFactory(stage=default_stage("Qualification"))
    response = sales_client.post(
        reverse("web:deal-move", args=[deal.pk]),
        {"stage": "999999"},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    assert "not moved" in response.json()["message"]
    deal.refresh_from_db()
    assert deal.stage == default_stage("Qualification")


def test_without_javascript_the_move_form_redirects_back_with_a_message(sales_client):
    deal = DealFactory(stage=default_stage("Qualification"))
    response = sales_client.post(
        reverse("web:deal-move", args=[deal.pk]),
        {"stage": default_stage("Proposal").pk, "next": reverse("web:deal-board")},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("web:deal-board")
    assert "moved to" in response.content.decode()


def test_moving_needs_change_permission_and_a_post(client, django_user_model):
    deal = DealFactory(stage=default_stage("Qualification"))
    viewer = django_user_model.objects.create_user("viewer", password="x")
    from django.contrib.auth.models import Permission

    viewer.user_permissions.add(Permission.objects.get(codename="view_deal"))
    client.force_login(viewer)
    assert client.get(reverse("web:deal-board")).status_code == 200
    url = reverse("web:deal-move", args=[deal.pk])
    assert client.post(url, {"stage": default_stage("Proposal").pk}).status_code == 403
    deal.refresh_from_db()
    assert deal.stage == default_stage("Qualification")
    assert Decimal(deal.amount) == Decimal("1000.00")


def test_a_column_total_lists_each_currency_on_its_own_never_summed(sales_client):
    qualification = default_stage("Qualification")
    DealFactory(amount="100.00", currency="CNY", stage=qualification)
    DealFactory(amount="50.00", currency="USD", stage=qualification)
    DealFactory(amount="20.00", currency="EUR", stage=qualification)
    columns = sales_client.get(reverse("web:deal-board")).context["columns"]
    total = next(column for column in columns if column["stage"] == qualification)["total"]
    assert total == "CNY 100.00 · EUR 20.00 · USD 50.00"


def test_the_hint_is_for_those_who_may_move_deals(sales_client, client, django_user_model):
    DealFactory(stage=default_stage("Qualification"))
    page = sales_client.get(reverse("web:deal-board")).content.decode()
    assert "or click a card and choose its new stage" in page
    viewer = django_user_model.objects.create_user("viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_deal"))
    client.force_login(viewer)
    page = client.get(reverse("web:deal-board")).content.decode()
    assert "choose its new stage" not in page and "move-form" not in page
