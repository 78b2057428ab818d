from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from customers import selectors
from customers.actors import SYSTEM
from customers.models import Activity, Deal, Stage
from customers.services import deals, pipelines
from tests.factories import ActivityFactory, CompanyFactory, DealFactory, default_stage

pytestmark = pytest.mark.django_db


def test_a_new_deal_starts_in_the_default_pipelines_first_open_stage():
    deal = deals.deal_create(actor=SYSTEM, name="Pilot", amount="12500.50")

    assert deal.stage == default_stage("Qualification")
    assert deal.status == Deal.Status.OPEN
    assert Deal.objects.get(pk=deal.pk).amount == Decimal("12500.50")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": "1234567890123456.00"}, "amount"),
        ({"stage": 999_999}, "stage"),
        ({"currency": "yuan"}, "currency"),
        ({"name": ""}, "name"),
        ({"name": "n" * 256}, "name"),
        ({"expected_close_date": "31/12/2026"}, "expected_close_date"),
        ({"company": 999_999}, "company"),
        ({"status": "maybe"}, "status"),
    ],
)
def test_bad_input_raises_field_error_and_writes_nothing(data, field):
    with pytest.raises(ValidationError) as excinfo:
        deals.deal_create(actor=SYSTEM, **{"name": "Deal", **data})

    assert field in excinfo.value.message_dict
    assert Deal.objects.count() == 0


def test_every_mistake_is_reported_at_once_and_a_bad_stage_only_once():
    with pytest.raises(ValidationError) as excinfo:
        deals.deal_create(
            actor=SYSTEM,
            name="",
            amount="lots",
            stage=999_999,
            primary_contact=999_999,
            status="won",
        )

    errors = excinfo.value.message_dict
    assert set(errors) == {"name", "amount", "stage", "primary_contact"}
    assert errors["stage"] == ["Unknown stage 999999."]  # not also "cannot be null"
    assert Deal.objects.count() == 0


def test_a_bad_status_is_reported_with_the_other_mistakes():
    with pytest.raises(ValidationError) as excinfo:
        deals.deal_create(actor=SYSTEM, name="Deal", amount="-1", status="maybe", company=999_999)

    assert set(excinfo.value.message_dict) == {"amount", "status", "company"}


def test_currency_is_upper_cased():
    assert deals.deal_create(actor=SYSTEM, name="D", currency=" usd").currency == "USD"


def test_moving_to_a_won_stage_wins_the_deal_and_stamps_closed_at():
    deal = DealFactory()

    deals.deal_move_to_stage(actor=SYSTEM, deal=deal, stage=default_stage("Closed won"))

    stored = Deal.objects.get(pk=deal.pk)
    assert stored.status == Deal.Status.WON and stored.closed_at is not None


def test_reopening_a_deal_clears_closed_at():
    deal = DealFactory(stage=default_stage("Closed lost"))
    assert deal.status == Deal.Status.LOST

    deals.deal_move_to_stage(actor=SYSTEM, deal=deal, stage=default_stage("Proposal"))

    stored = Deal.objects.get(pk=deal.pk)
    assert stored.status == Deal.Status.OPEN and stored.closed_at is None


def test_setting_only_the_status_moves_the_deal_to_a_matching_stage():
    deal = DealFactory()

    deals.deal_update(actor=SYSTEM, deal=deal, data={"status": "won"})

    assert Deal.objects.get(pk=deal.pk).stage == default_stage("Closed won")


def test_status_contradicting_the_given_stage_is_refused():
    with pytest.raises(ValidationError) as excinfo:
        deals.deal_create(actor=SYSTEM, name="D", stage=default_stage("Proposal"), status="won")

    assert "status" in excinfo.value.message_dict


def test_status_without_a_matching_stage_is_refused():
    pipeline = pipelines.pipeline_create(actor=SYSTEM, name="Renewals", stages=[{"name": "Open"}])
    deal = deals.deal_create(actor=SYSTEM, name="D", stage=selectors.first_stage(pipeline=pipeline))

    with pytest.raises(ValidationError, match="no won stage"):
        deals.deal_update(actor=SYSTEM, deal=deal, data={"status": "won"})
    assert Deal.objects.get(pk=deal.pk).status == Deal.Status.OPEN


def test_upsert_by_external_id_is_idempotent():
    company = CompanyFactory()
    data = {"external_id": "opp-1", "name": "Expansion", "amount": "99.90", "company": company.pk}

    first, created = deals.deal_upsert(actor=SYSTEM, data=data)
    second, created_again = deals.deal_upsert(actor=SYSTEM, data=data)

    assert (created, created_again) == (True, False)
    assert first.pk == second.pk and Deal.objects.count() == 1


def test_deleting_a_deal_keeps_its_activities():
    deal = DealFactory()
    activity = ActivityFactory(deal=deal)

    deals.deal_delete(actor=SYSTEM, deal=deal)

    assert Activity.objects.filter(pk=activity.pk).exists()


def test_a_stage_with_deals_is_only_deleted_once_they_are_moved():
    stage = default_stage("Proposal")
    deal = DealFactory(stage=stage)

    with pytest.raises(ValidationError):
        pipelines.stage_delete(actor=SYSTEM, stage=stage)
    pipelines.stage_delete(actor=SYSTEM, stage=stage, move_deals_to=default_stage("Negotiation"))

    assert not Stage.objects.filter(pk=stage.pk).exists()
    assert Deal.objects.get(pk=deal.pk).stage.name == "Negotiation"


def test_only_one_pipeline_is_the_default():
    renewals = pipelines.pipeline_create(actor=SYSTEM, name="Renewals", is_default=True)

    assert selectors.default_pipeline() == renewals
    assert list(type(renewals).objects.filter(is_default=True).values_list("name", flat=True)) == [
        "Renewals"
    ]


def test_stage_probability_above_100_is_refused():
    pipeline = selectors.default_pipeline()

    with pytest.raises(ValidationError) as excinfo:
        pipelines.stage_create(
            actor=SYSTEM, pipeline=pipeline, data={"name": "Dream", "win_probability": 150}
        )

    assert "win_probability" in excinfo.value.message_dict
