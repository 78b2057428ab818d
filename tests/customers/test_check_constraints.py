"""Check constraints answered in Python (customers/check_constraints.py) give the database's
answer: every check constraint of our models, over edge values, against Django's own query."""

import itertools
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models

from customers.check_constraints import CheckConstraintsInPython, evaluate, violated
from customers.models import Contact, Deal, Stage

pytestmark = pytest.mark.django_db

# Values at and around each constraint's edges, NULL included where the column allows it.
EDGES = {
    (Contact, "contact_identifiable"): {
        "first_name": ["", "Wei"],
        "last_name": ["", "Zhang"],
        "email_index": [None, "e" * 64],
        "phone_index": [None, "p" * 64],
    },
    (Deal, "deal_amount_not_negative"): {
        "amount": [Decimal("-0.01"), Decimal("0"), Decimal("12.50"), None],
    },
    (Stage, "stage_probability_range"): {"win_probability": [0, 100, 101, None]},
}


def _check_constraints():
    for model in apps.get_models():
        for constraint in model._meta.constraints:
            if isinstance(constraint, models.CheckConstraint):
                yield model, constraint


def test_every_check_constraint_of_our_models_is_answered_in_python_and_covered_here():
    for model, constraint in _check_constraints():
        if model._meta.app_label not in {"customers", "integrations"}:
            continue
        assert issubclass(model, CheckConstraintsInPython), model
        assert (model, constraint.name) in EDGES, f"add edge values for {constraint.name}"


def _cases():
    for (model, name), edges in EDGES.items():
        for values in itertools.product(*edges.values()):
            yield pytest.param(
                model, name, dict(zip(edges, values, strict=True)), id=f"{name}-{values}"
            )


@pytest.mark.parametrize(("model", "name", "values"), list(_cases()))
def test_python_gives_the_database_s_verdict(model, name, values):
    constraint = next(c for c in model._meta.constraints if c.name == name)
    instance = model(**values)
    against = instance._get_field_expression_map(meta=model._meta)

    database_keeps = models.Q(constraint.condition).check(against, using=connection.alias)

    assert violated(constraint, instance, exclude=()) is (not database_keeps)


def test_a_comparison_with_null_is_unknown_and_an_unknown_condition_passes():
    assert evaluate(models.Q(amount__gte=0), Deal(amount=None)) is None
    assert evaluate(~models.Q(amount__gte=0), Deal(amount=None)) is None
    assert evaluate(models.Q(amount__gte=0) | models.Q(amount=None), Deal(amount=None)) is True
    assert (
        violated(
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="n"),
            Deal(amount=None),
            exclude=(),
        )
        is False
    )


def test_what_python_cannot_answer_is_left_to_the_database():
    across_a_relation = models.CheckConstraint(condition=models.Q(stage__name="x"), name="r")
    with_an_expression = models.CheckConstraint(
        condition=models.Q(amount__gte=models.F("probability")), name="e"
    )
    other_lookup = models.CheckConstraint(condition=models.Q(name__startswith="x"), name="s")

    for constraint in (across_a_relation, with_an_expression, other_lookup):
        assert violated(constraint, Deal(amount=Decimal(1)), exclude=()) is None


def test_a_check_reading_an_excluded_field_is_skipped_as_django_skips_it():
    constraint = next(c for c in Deal._meta.constraints if c.name == "deal_amount_not_negative")

    assert violated(constraint, Deal(amount=Decimal(-1)), exclude={"amount"}) is False


def test_errors_are_reported_as_django_reports_them_with_one_query_less():
    contact = Contact(first_name="", last_name="")
    Contact.objects.create(first_name="Taken", external_id="x-1")
    contact.external_id = "x-1"

    with pytest.raises(ValidationError) as ours:
        contact.validate_constraints()
    with pytest.raises(ValidationError) as djangos:
        models.Model.validate_constraints(contact)

    assert ours.value.message_dict == djangos.value.message_dict
    assert set(ours.value.message_dict) == {"external_id", "__all__"}


def test_validating_a_contact_asks_the_database_only_about_its_unique_values(
    django_assert_num_queries,
):
    contact = Contact(first_name="Wei", external_id="x-2", email_index="e" * 64)

    # contact_external_id_unique and contact_email_unique; contact_identifiable in Python
    with django_assert_num_queries(2):
        contact.validate_constraints()
