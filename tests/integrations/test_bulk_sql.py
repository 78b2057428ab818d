import pytest

from customers.models import Contact
from integrations.services.bulk_sql import column_in
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

AWKWARD_IDS = [
    'quote"inside',
    "back\\slash",
    "comma,and}brace{",
    "  spaced  ",
    "NULL",
    "客户-001",
]


def test_column_in_finds_every_value_however_awkward_and_nothing_else():
    wanted = [ContactFactory(external_id=value) for value in AWKWARD_IDS]
    ContactFactory(external_id="not-asked-for")
    asked = [person.external_id for person in wanted] + ["", "missing"]

    found = Contact.objects.filter(column_in(Contact, "external_id", asked))

    assert sorted(found.values_list("pk", flat=True)) == sorted(c.pk for c in wanted)


def test_column_in_takes_numbers_for_a_key_column():
    people = [ContactFactory() for _ in range(3)]

    found = Contact.objects.filter(column_in(Contact, "id", [people[0].pk, people[2].pk]))

    assert set(found) == {people[0], people[2]}
