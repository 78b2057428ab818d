"""The same record through the services' door (REST), a file import and a connector sync is
accepted or refused alike, with the same fields named in the same words, in the language of the
person behind the door.

Activities are not here: no file import or connector writes them (the services are their only
door). SOAP, a second service door, is compared on a subset in test_soap_parity.py."""

import pytest

from customers import selectors
from customers.actors import SYSTEM
from customers.services.custom_fields import custom_field_create
from tests.parity.cases import CASES, CUSTOM_FIELDS, DIVERGENCES, Case

pytestmark = pytest.mark.django_db


def _params() -> list:
    return list(_each_param())


def _each_param():
    for case in CASES:
        for language in case.languages:
            divergence = DIVERGENCES.get(case.id)
            marks = []
            if divergence is not None and language in divergence.languages:
                marks.append(pytest.mark.xfail(strict=True, reason=divergence.reason))
            yield pytest.param(case, language, id=f"{case.id}-{language}", marks=marks)


@pytest.fixture
def custom_fields(request):
    def define(case: Case) -> None:
        entity = {"contacts": "contact", "companies": "company", "deals": "deal"}[case.resource]
        for definition in CUSTOM_FIELDS:
            custom_field_create(actor=SYSTEM, entity=entity, **definition)
        if case.required_custom:
            custom_field_create(
                actor=SYSTEM,
                entity=entity,
                name="region",
                label="Region",
                type="text",
                required=True,
            )

    return define


def _with_stage(record: dict) -> dict:
    if record.get("stage") == "OPEN_STAGE":
        stage = selectors.first_stage(pipeline=selectors.default_pipeline())
        assert stage.outcome == "open"
        record = {**record, "stage": stage.pk}
    return record


@pytest.mark.parametrize(("case", "language"), _params())
def test_every_door_gives_the_services_answer(case, language, custom_fields, outcomes):
    custom_fields(case)

    seen = outcomes(case.resource, _with_stage(case.record()))

    service = seen.pop("rest")
    assert seen == {door: service for door in seen}
