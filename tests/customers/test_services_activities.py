import pytest
from django.core.exceptions import ValidationError

from customers.actors import SYSTEM
from customers.models import Activity
from customers.services import activities
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def test_an_activity_must_be_linked_to_something():
    with pytest.raises(ValidationError) as excinfo:
        activities.activity_create(actor=SYSTEM, kind="call", subject="Orphan")

    assert "contact" in excinfo.value.message_dict
    assert Activity.objects.count() == 0


def test_an_activity_on_a_contact_is_also_filed_under_its_company():
    company = CompanyFactory()
    contact = ContactFactory(company=company)

    activity = activities.activity_create(
        actor=SYSTEM, kind="meeting", subject="Kick-off", contact=contact
    )

    assert activity.company == company


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "telepathy"}, "kind"),
        ({"subject": ""}, "subject"),
        ({"due_at": "tomorrow-ish"}, "due_at"),
        ({"deal": 424242}, "deal"),
    ],
)
def test_bad_input_raises_field_error_and_writes_nothing(data, field):
    contact = ContactFactory()

    with pytest.raises(ValidationError) as excinfo:
        activities.activity_create(
            actor=SYSTEM, **{"kind": "call", "subject": "S", "contact": contact, **data}
        )

    assert field in excinfo.value.message_dict
    assert Activity.objects.count() == 0


def test_an_unknown_link_is_reported_with_the_other_mistakes_not_as_a_missing_link():
    with pytest.raises(ValidationError) as excinfo:
        activities.activity_create(actor=SYSTEM, kind="telepathy", subject="", contact=424_242)

    errors = excinfo.value.message_dict
    assert set(errors) == {"kind", "subject", "contact"}
    assert errors["contact"] == ["Unknown contact 424242."]


def test_completing_an_activity_stamps_done_at_once():
    activity = activities.activity_create(
        actor=SYSTEM, kind="task", subject="Send quote", deal=DealFactory()
    )

    done = activities.activity_complete(actor=SYSTEM, activity=activity)
    again = activities.activity_complete(actor=SYSTEM, activity=done)

    assert done.done_at is not None and again.done_at == done.done_at
