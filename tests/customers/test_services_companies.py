import pytest
from django.core.exceptions import ValidationError

from customers.actors import SYSTEM
from customers.models import Activity, Company, Contact, Deal
from customers.services import companies
from tests.factories import ActivityFactory, CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def test_create_upper_cases_the_country_and_indexes_the_phone():
    company = companies.company_create(
        actor=SYSTEM, name="Acme 中国", country="cn", phone="010 6000 0000"
    )

    assert company.country == "CN" and company.phone_index


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"country": "China"}, "country"),
        ({"size_band": "huge"}, "size_band"),
        ({"phone": "n/a"}, "phone"),
    ],
)
def test_bad_input_raises_field_error_and_writes_nothing(data, field):
    with pytest.raises(ValidationError) as excinfo:
        companies.company_create(actor=SYSTEM, **{"name": "Acme", **data})

    assert field in excinfo.value.message_dict
    assert Company.objects.count() == 0


def test_upsert_by_external_id_is_idempotent():
    data = {"external_id": "acct-9", "name": "Globex", "tags": ["key account"]}

    first, created = companies.company_upsert(actor=SYSTEM, data=data)
    second, created_again = companies.company_upsert(
        actor=SYSTEM, data={**data, "industry": "Energy"}
    )

    assert (created, created_again) == (True, False)
    assert first.pk == second.pk and Company.objects.get().industry == "Energy"


def test_deleting_a_company_keeps_its_contacts_deals_and_activities():
    company = CompanyFactory()
    contact = ContactFactory(company=company)
    deal = DealFactory(company=company)
    activity = ActivityFactory(company=company, contact=None)

    companies.company_delete(actor=SYSTEM, company=company)

    assert Contact.objects.get(pk=contact.pk).company is None
    assert Deal.objects.get(pk=deal.pk).company is None
    assert Activity.objects.filter(pk=activity.pk).exists()


def test_merge_moves_contacts_deals_and_activities():
    primary = CompanyFactory(phone=None, external_id=None)
    duplicate = CompanyFactory(phone="+86 21 1234 5678", external_id="acct-1")
    contact = ContactFactory(company=duplicate)
    deal = DealFactory(company=duplicate)
    ActivityFactory(company=duplicate, contact=None)

    merged = companies.company_merge(actor=SYSTEM, primary=primary, duplicates=[duplicate])

    assert not Company.objects.filter(pk=duplicate.pk).exists()
    assert Contact.objects.get(pk=contact.pk).company == merged
    assert Deal.objects.get(pk=deal.pk).company == merged
    assert Activity.objects.filter(company=merged).count() == 1
    assert (merged.phone, merged.external_id) == ("+86 21 1234 5678", "acct-1")
