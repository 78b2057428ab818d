"""SearchContacts(email=…) and SearchCompanies(phone=…) over SOAP answer only callers who may
read personal data: anyone else gets a Client.ValidationError naming the criterion, the same
for a customer and a stranger."""

from tests.factories import CompanyFactory, ContactFactory
from tests.soap.support import field_errors, raises_fault

EMAIL = "zhang.wei@example.cn"


def test_search_by_email_without_pii_read_is_a_validation_fault_naming_email(soap_without_pii):
    ContactFactory(email=EMAIL)

    with raises_fault("Client.ValidationError") as known:
        soap_without_pii.service.SearchContacts(email=EMAIL)
    with raises_fault("Client.ValidationError") as unknown:
        soap_without_pii.service.SearchContacts(email="nobody@example.cn")

    assert list(field_errors(known.value)) == ["email"]
    assert known.value.message == unknown.value.message
    assert EMAIL not in known.value.message


def test_search_by_name_without_pii_read_still_answers(soap_without_pii):
    person = ContactFactory(first_name="伟", last_name="张", email=EMAIL)

    page = soap_without_pii.service.SearchContacts(query="张伟")

    assert [item.id for item in page.items] == [person.pk]
    assert page.items[0].email == "z***@example.cn"


def test_search_by_email_with_pii_read_finds_the_person(soap):
    person = ContactFactory(email=EMAIL)

    page = soap.service.SearchContacts(email=EMAIL)

    assert page.total == 1 and page.items[0].id == person.pk


def test_search_companies_by_phone_without_pii_read_is_a_validation_fault_naming_phone(
    soap_without_pii,
):
    CompanyFactory(name="Acme", phone="+86 21 5555 0101")

    with raises_fault("Client.ValidationError") as refused:
        soap_without_pii.service.SearchCompanies(phone="+86 21 5555 0101")

    assert list(field_errors(refused.value)) == ["phone"]


def test_search_companies_by_phone_with_pii_read_finds_it(soap):
    acme = CompanyFactory(name="Acme", phone="+86 21 5555 0101")

    page = soap.service.SearchCompanies(phone="+86 21 5555 0101")

    assert [item.id for item in page.items] == [acme.pk]
