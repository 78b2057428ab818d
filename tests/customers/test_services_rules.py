"""The record rules every door shares (customers/services/rules.py), tested directly: the
services and the import only call them."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils import translation

from customers import selectors
from customers.models import Contact, Deal, Stage
from customers.services import rules

pytestmark = pytest.mark.django_db


def test_a_tag_longer_than_64_characters_is_refused_not_cut():
    with pytest.raises(ValidationError) as raised:
        rules.tag_names_by_key(["t" * 65])

    assert raised.value.message_dict == {
        "tags": [f"Tag {'t' * 20!r}… is longer than 64 characters."]
    }
    assert rules.tag_names_by_key(["t" * 64, "T" * 64]) == {"t" * 64: "t" * 64}


def test_an_id_read_from_a_file_is_named_as_the_number_a_json_door_sends():
    user_model = get_user_model()

    assert rules.unknown_reference(user_model, "42") == rules.unknown_reference(user_model, 42)
    assert rules.unknown_reference(user_model, "nobody") == "Unknown user 'nobody'."
    with translation.override("zh-hans"):
        assert rules.unknown_reference(user_model, "42") == "未知的用户 42。"


def test_a_contact_without_name_email_or_phone_is_refused_record_wide():
    errors = {}

    rules.check_contact_identifiable(Contact(), errors)

    assert errors == {NON_FIELD_ERRORS: ["A contact needs a name, an email or a phone number."]}


def test_a_deal_without_a_name_is_refused_in_the_model_fields_words():
    errors = {}

    rules.RequiredValues(Deal).check(Deal(currency="CNY"), errors)

    assert errors == {"name": ["This field cannot be blank."]}


@pytest.fixture
def stages():
    pipeline = selectors.default_pipeline()
    return pipeline, {stage.outcome: stage for stage in pipeline.stages.order_by("-position")}


def test_won_in_an_open_stage_given_with_it_is_refused_naming_the_stage(stages):
    _, by_outcome = stages
    deal = Deal(stage_id=by_outcome["open"].pk)

    with pytest.raises(ValidationError) as raised:
        rules.apply_deal_status(
            deal, requested="won", stage_given=True, stages=rules.StageTable.load()
        )

    name = by_outcome["open"].name
    assert raised.value.message_dict == {"status": [f"Stage {name!r} is open, not won."]}
    assert deal.stage_id == by_outcome["open"].pk


def test_a_status_alone_moves_the_deal_to_its_pipelines_first_stage_with_that_outcome(stages):
    pipeline, by_outcome = stages
    deal = Deal(stage_id=selectors.first_stage(pipeline=pipeline).pk)

    rules.apply_deal_status(
        deal, requested="won", stage_given=False, stages=rules.StageTable.load()
    )

    won = selectors.first_stage(pipeline=pipeline, outcome="won")
    assert (deal.stage_id, deal.status) == (won.pk, "won")


def test_a_chunks_deals_follow_their_stages_without_a_query_each(stages, django_assert_num_queries):
    pipeline, _ = stages
    table = rules.StageTable.load()
    deals = [Deal(stage_id=stage.pk) for stage in Stage.objects.filter(pipeline=pipeline)] * 50

    with django_assert_num_queries(0):
        for deal in deals:
            rules.apply_deal_status(deal, requested="lost", stage_given=False, stages=table)

    assert {deal.status for deal in deals} == {"lost"}
