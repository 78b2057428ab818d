import hashlib
import hmac

import pytest
from cryptography.fernet import MultiFernet

from customers import crypto, selectors
from customers.actors import SYSTEM
from customers.services import contacts
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "query",
    ["zhang.wei@example.com", "ZHANG.WEI@EXAMPLE.COM", "  Zhang.Wei@example.com "],
)
def test_find_contact_by_email_ignores_case_and_whitespace(query):
    contact = ContactFactory(email="Zhang.Wei@Example.com")

    assert selectors.find_contact_by_email(query) == contact


@pytest.mark.parametrize(
    "query",
    [
        "+86 138 0013 8000",
        "+8613800138000",
        "0086-138-0013-8000",
        "138 0013 8000",
        "(0)138.0013.8000",
    ],
)
def test_find_contacts_by_phone_ignores_formatting(settings, query):
    settings.PHONE_DEFAULT_COUNTRY_CODE = "86"
    contact = ContactFactory(phone="+86 138-0013-8000")

    assert list(selectors.find_contacts_by_phone(query)) == [contact]


def test_phone_in_another_country_is_a_different_number(settings):
    settings.PHONE_DEFAULT_COUNTRY_CODE = "86"
    ContactFactory(phone="+1 138 0013 8000")

    assert not selectors.find_contacts_by_phone("138 0013 8000").exists()


def test_email_lookup_is_one_indexed_query_that_decrypts_only_the_match(
    monkeypatch, django_assert_num_queries
):
    ContactFactory.create_batch(30)
    target = ContactFactory(email="needle@example.com", phone=None, address=None)
    decrypted = []
    real_keyring = crypto.keyring

    class CountingKeyring:
        def __init__(self, inner: MultiFernet):
            self.inner = inner

        def decrypt(self, token):
            decrypted.append(token)
            return self.inner.decrypt(token)

        def __getattr__(self, name):
            return getattr(self.inner, name)

    monkeypatch.setattr(crypto, "keyring", lambda: CountingKeyring(real_keyring()))

    with django_assert_num_queries(1) as captured:
        found = selectors.find_contact_by_email("NEEDLE@example.com")

    assert found == target
    assert "email_index" in captured.captured_queries[0]["sql"]
    assert len(decrypted) == 1  # the matching row's email; no other row was opened


def test_index_values_are_keyed_hmacs(settings):
    settings.BLIND_INDEX_KEY = "key-one"
    first = crypto.email_index("a@example.com")
    settings.BLIND_INDEX_KEY = "key-two"

    assert crypto.email_index("a@example.com") != first
    assert len(first) == 64 and "a@example.com" not in first


def test_email_and_phone_indexes_use_separate_domains():
    assert crypto.blind_index("123456", purpose="email") != crypto.blind_index(
        "123456", purpose="phone"
    )


def test_changing_the_email_keeps_the_index_in_step():
    contact = ContactFactory(email="before@example.com")

    contacts.contact_update(actor=SYSTEM, contact=contact, data={"email": "after@example.com"})

    assert selectors.find_contact_by_email("before@example.com") is None
    assert selectors.find_contact_by_email("after@example.com") == contact


def test_clearing_the_phone_clears_its_index():
    contact = ContactFactory(phone="+86 10 8888 8888")

    contacts.contact_update(actor=SYSTEM, contact=contact, data={"phone": ""})

    contact.refresh_from_db()
    assert contact.phone is None and contact.phone_index is None


@pytest.mark.parametrize("key", ["short key", "k" * 64, "a key longer than a SHA-256 block " * 3])
def test_a_blind_index_is_hmac_sha256_of_purpose_and_value_under_the_index_key(settings, key):
    settings.BLIND_INDEX_KEY = key

    expected = hmac.new(key.encode(), b"email:li.na@example.com", hashlib.sha256).hexdigest()
    assert crypto.blind_index("li.na@example.com", purpose="email") == expected
