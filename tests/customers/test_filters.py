"""customers.filters: every door's query parameters, parsed once into validated values with
errors keyed by the parameter, and applied to any queryset of the entity's records."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from customers import filters
from customers.actors import SYSTEM, Actor, Door
from customers.models import Contact, Deal
from customers.services import custom_fields
from tests.factories import CompanyFactory, ContactFactory, DealFactory, SalesUserFactory

pytestmark = pytest.mark.django_db

READER = Actor(door=Door.REST, may_read_pii=True)
NO_PII = Actor(door=Door.REST, may_read_pii=False)


def matching(entity_model, params, actor=READER):
    parsed = filters.parse(entity_model._meta.model_name, params, actor=actor)
    return set(parsed.apply(entity_model.objects.all()).values_list("pk", flat=True))


def errors_of(entity, params, actor=READER, **options):
    with pytest.raises(ValidationError) as refused:
        filters.parse(entity, params, actor=actor, **options)
    return refused.value.message_dict


def test_no_filter_parameter_builds_no_filterset_and_narrows_nothing():
    parsed = filters.parse("contact", {"cursor": "abc", "format": "json"}, actor=NO_PII)

    assert not parsed
    assert parsed.filterset is None


def test_named_filters_narrow_by_owner_tag_and_lifecycle_stage():
    owner = SalesUserFactory()
    kept = ContactFactory(owner=owner, tags=["VIP"], lifecycle_stage="customer")
    ContactFactory(owner=owner, tags=["VIP"], lifecycle_stage="lead")
    ContactFactory(tags=["VIP"], lifecycle_stage="customer")

    params = {"owner": str(owner.pk), "tag": " vip ", "lifecycle_stage": ["customer"]}

    assert matching(Contact, params) == {kept.pk}


def test_a_repeated_parameter_matches_any_of_its_values():
    lead = ContactFactory(lifecycle_stage="lead")
    customer = ContactFactory(lifecycle_stage="customer")
    ContactFactory(lifecycle_stage="churned")

    assert matching(Contact, {"lifecycle_stage": ["lead", "customer"]}) == {lead.pk, customer.pk}


def test_search_needs_every_word_somewhere_in_name_title_company_or_external_id():
    acme = CompanyFactory(name="Acme Trading")
    found = ContactFactory(first_name="伟", last_name="张", company=acme)
    ContactFactory(first_name="伟", last_name="王")

    assert matching(Contact, {"search": "张伟 acme"}) == {found.pk}
    assert matching(Contact, {"search": "张伟, trading"}) == {found.pk}


def test_search_longer_than_the_bound_is_refused_naming_search():
    errors = errors_of("contact", {"search": "x" * (filters.SEARCH_MAX_CHARS + 1)})

    assert list(errors) == ["search"]
    assert str(filters.SEARCH_MAX_CHARS) in errors["search"][0]


def test_every_invalid_parameter_is_reported_at_once_keyed_by_its_name():
    errors = errors_of(
        "deal", {"status": "sold", "amount_min": "lots", "updated_since": "yesterday"}
    )

    assert set(errors) == {"status", "amount_min", "updated_since"}


def test_messages_are_in_the_callers_language():
    with translation.override("zh-hans"):
        errors = errors_of("contact", {"cf_nothing": "1"})

    assert errors["cf_nothing"] != ["Unknown custom field."]


def test_an_unknown_owner_id_is_an_error_on_owner():
    assert list(errors_of("contact", {"owner": "999999"})) == ["owner"]


def test_unknown_names_are_ignored_unless_strict():
    assert not filters.parse("company", {"colour": "red"}, actor=READER)
    assert errors_of("company", {"colour": "red"}, strict=True) == {"colour": ["Unknown filter."]}


@pytest.mark.parametrize("params", [{"email": "ada@example.com"}, {"phone": "+86 138 0000 0001"}])
def test_a_lookup_by_personal_data_is_refused_to_an_actor_who_may_not_read_it(params):
    ContactFactory(email="ada@example.com", phone="+86 138 0000 0001")

    errors = errors_of("contact", params, actor=NO_PII)

    assert list(errors) == list(params)
    assert "right to read it" in errors[next(iter(params))][0]


def test_the_refusal_is_the_same_whether_or_not_the_person_exists():
    ContactFactory(email="ada@example.com")

    assert errors_of("contact", {"email": "ada@example.com"}, actor=NO_PII) == errors_of(
        "contact", {"email": "nobody@example.com"}, actor=NO_PII
    )


def test_a_lookup_by_personal_data_finds_the_person_for_an_actor_who_may_read_it():
    ada = ContactFactory(email="Ada@Example.com")
    ContactFactory()

    assert matching(Contact, {"email": "ada@example.com"}) == {ada.pk}


def test_custom_field_filters_take_ranges_and_refuse_pii_lookups_without_the_right():
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="deal", name="seats", label="Seats", type="integer"
    )
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="deal", name="secret", label="Secret", type="text", pii=True
    )
    big = DealFactory(custom_fields={"seats": 50})
    DealFactory(custom_fields={"seats": 5})

    assert matching(Deal, {"cf_seats__gte": "10"}) == {big.pk}
    assert list(errors_of("deal", {"cf_secret": "x"}, actor=NO_PII)) == ["cf_secret"]
    assert list(errors_of("deal", {"cf_seats__gte": "ten"})) == ["cf_seats__gte"]


def test_typed_values_are_taken_as_they_are():
    """A door that already parsed its values (SOAP's xs:dateTime, an id) passes them."""
    old = ContactFactory()
    Contact.objects.filter(pk=old.pk).update(updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    new = ContactFactory()

    since = datetime(2024, 1, 1, tzinfo=UTC)
    assert matching(Contact, {"updated_since": since, "email": None, "search": ""}) == {new.pk}


def test_filters_narrow_the_plain_rows_of_a_list_fast_path_too():
    kept = ContactFactory(lifecycle_stage="customer", first_name="Kept")
    ContactFactory(lifecycle_stage="lead")
    parsed = filters.parse(
        "contact", {"lifecycle_stage": "customer", "search": "kept"}, actor=READER
    )

    rows = parsed.apply(Contact.objects.values("pk"))

    assert [row["pk"] for row in rows] == [kept.pk]
