import pytest

from tests.factories import ContactFactory


@pytest.mark.django_db
def test_contact_factory_creates_through_services():
    contact = ContactFactory(email="Smoke@Example.com")
    assert contact.pk and contact.email_index
