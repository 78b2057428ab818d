"""The list selectors: every door reads through them with its actor; filters need one."""

import pytest
from django.core.exceptions import ValidationError

from customers import filters, selectors
from customers.actors import SYSTEM, Actor, Door
from customers.models import Contact
from integrations.models import ApiKey
from integrations.services.api_keys import api_key_create
from tests.factories import (
    ActivityFactory,
    CompanyFactory,
    ContactFactory,
    DealFactory,
    SalesUserFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_filtered_reads_name_their_actor():
    with pytest.raises(TypeError):
        selectors.contact_list(filters={"search": "x"})


def test_each_list_selector_applies_its_entitys_filters():
    acme = CompanyFactory(name="Acme")
    person = ContactFactory(company=acme, first_name="Ada")
    deal = DealFactory(name="Big one", company=acme)
    call = ActivityFactory(contact=person, subject="Kick-off")
    ContactFactory(first_name="Bob")
    DealFactory(name="Small")

    assert list(selectors.contact_list(actor=SYSTEM, filters={"company": acme.pk})) == [person]
    assert list(selectors.company_list(actor=SYSTEM, filters={"search": "acme"})) == [acme]
    assert list(selectors.deal_list(actor=SYSTEM, filters={"search": "big"})) == [deal]
    assert list(selectors.activity_list(actor=SYSTEM, filters={"contact": person.pk})) == [call]


def test_a_selector_narrows_another_shape_of_the_same_records():
    ada = ContactFactory(first_name="Ada")
    ContactFactory(first_name="Bob")

    rows = selectors.contact_list(
        actor=SYSTEM, filters={"search": "ada"}, queryset=Contact.objects.values("pk")
    )

    assert list(rows) == [{"pk": ada.pk}]


def test_already_parsed_filters_are_applied_as_they_are():
    ada = ContactFactory(first_name="Ada")
    parsed = filters.parse("contact", {"search": "ada"}, actor=SYSTEM)

    assert list(selectors.contact_list(filters=parsed)) == [ada]


def test_the_pii_gate_holds_in_the_selector_for_an_actor_without_the_right():
    ContactFactory(email="ada@example.com")
    actor = Actor.for_user(UserFactory(), door=Door.WEB)

    with pytest.raises(ValidationError) as refused:
        selectors.contact_list(actor=actor, filters={"email": "ada@example.com"})

    assert list(refused.value.message_dict) == ["email"]


def test_an_api_keys_actor_reads_pii_only_with_the_users_right_and_the_keys_scope():
    user = SalesUserFactory()
    with_scope, _ = api_key_create(user=user, name="a", scopes=["contacts:read", "pii:read"])
    without_scope, _ = api_key_create(user=user, name="b", scopes=["contacts:read"])

    assert Actor.for_api_key(with_scope, door=Door.SOAP).may_read_pii
    assert not Actor.for_api_key(without_scope, door=Door.SOAP).may_read_pii
    assert not Actor.for_api_key(
        ApiKey(user=UserFactory(), scopes=["pii:read"]), door=Door.REST
    ).may_read_pii


def test_an_actor_says_who_acts_through_which_door():
    user = SalesUserFactory()
    key, _ = api_key_create(user=user, name="k", scopes=["contacts:read"])

    actor = Actor.for_api_key(key, door=Door.REST)

    assert (actor.door, actor.user, actor.api_key_id) == (Door.REST, user, key.pk)
    assert Actor.for_user(user, door=Door.ADMIN).may_read_pii  # sales users hold view_pii
