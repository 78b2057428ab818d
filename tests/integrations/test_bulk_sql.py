from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from customers.models import Contact, Deal
from integrations.imports.bulk_sql import column_in, insert_returning_pks, update_fields
from tests.factories import ContactFactory, default_stage

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


SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_inserted_dates_and_times_read_back_exactly_in_any_time_zone():
    stage = default_stage()
    moments = [
        datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI),
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
        None,
    ]
    deals = [
        Deal(
            name=f"Deal {n}",
            amount=Decimal("1.00"),
            currency="CNY",
            stage=stage,
            status=stage.outcome,
            closed_at=moment,
            expected_close_date=moment.date() if moment else None,
        )
        for n, moment in enumerate(moments)
    ]

    insert_returning_pks(Deal, deals)

    stored = Deal.objects.in_bulk([deal.pk for deal in deals])
    assert [stored[deal.pk].closed_at for deal in deals] == moments
    assert [stored[deal.pk].expected_close_date for deal in deals] == [
        date(2026, 3, 1),
        date(1999, 12, 31),
        None,
    ]
    assert {stored[deal.pk].created_at for deal in deals} == {deals[0].created_at}


def test_updated_times_read_back_exactly():
    people = [ContactFactory() for _ in range(2)]
    moment = datetime(2026, 11, 26, 8, 0, 0, 1, tzinfo=SHANGHAI)
    people[0].consent_updated_at = moment
    people[1].consent_updated_at = None

    update_fields(Contact, people, ["consent_updated_at"])

    stored = Contact.objects.in_bulk([person.pk for person in people])
    assert stored[people[0].pk].consent_updated_at == moment
    assert stored[people[1].pk].consent_updated_at is None
