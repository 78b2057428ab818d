import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.db import connection

from customers.crypto import FieldDecryptionError
from customers.models import Company, Contact
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def raw_columns(model, pk, *columns):
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def test_pii_columns_hold_ciphertext_not_plaintext(encryption_keys):
    contact = ContactFactory(email="li.na@example.cn", phone="+86 138 0013 8000", address="北京")

    email, phone, address = raw_columns(Contact, contact.pk, "email", "phone", "address")

    for stored, plaintext in [
        (email, "li.na@example.cn"),
        (phone, "+86 138 0013 8000"),
        (address, "北京"),
    ]:
        assert plaintext not in stored
        key = Fernet(encryption_keys[0].encode())
        assert key.decrypt(stored.encode()).decode() == plaintext


def test_company_pii_columns_hold_ciphertext(encryption_keys):
    company = CompanyFactory(phone="+1 415 555 0100", address="1 Market St")

    phone, address = raw_columns(Company, company.pk, "phone", "address")

    assert "555" not in phone and "Market" not in address


def test_orm_reads_plaintext_back(encryption_keys):
    contact = ContactFactory(email="Zhang.Wei@Example.com", address="上海市浦东新区 1 号")

    reloaded = Contact.objects.get(pk=contact.pk)

    assert reloaded.email == "Zhang.Wei@Example.com"
    assert reloaded.address == "上海市浦东新区 1 号"
    assert Contact.objects.values_list("email", flat=True).get(pk=contact.pk) == (
        "Zhang.Wei@Example.com"
    )


def test_wrong_key_raises_instead_of_returning_ciphertext(settings, encryption_keys):
    contact = ContactFactory(email="secret@example.com")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(FieldDecryptionError, match="Contact.email"):
        Contact.objects.get(pk=contact.pk)


def test_secret_key_rotation_does_not_touch_stored_pii(settings, encryption_keys):
    contact = ContactFactory(email="keep@example.com")
    settings.SECRET_KEY = "a-completely-different-secret-key-" + "x" * 30

    assert Contact.objects.get(pk=contact.pk).email == "keep@example.com"


def test_blank_pii_is_stored_as_null(encryption_keys):
    contact = ContactFactory(address="", phone=None)

    assert raw_columns(Contact, contact.pk, "address", "phone") == (None, None)
    assert Contact.objects.get(pk=contact.pk).address is None


def test_filtering_on_an_encrypted_column_fails_loudly():
    with pytest.raises(FieldError, match="blind index"):
        list(Contact.objects.filter(email="x@example.com"))


def test_isnull_lookup_on_an_encrypted_column_still_works(encryption_keys):
    ContactFactory(address=None)
    ContactFactory(address="somewhere")

    assert Contact.objects.filter(address__isnull=True).count() == 1


def test_decryption_ignores_the_library_flag_set_by_another_thread(encryption_keys):
    """The library's clean() sets `_already_decrypted` on the field object every thread shares;
    a read during that window must still decrypt."""
    contact = ContactFactory(email="threads@example.com")
    field = Contact._meta.get_field("email")
    field._already_decrypted = True
    try:
        assert Contact.objects.get(pk=contact.pk).email == "threads@example.com"
    finally:
        del field._already_decrypted


def test_form_cleaning_keeps_plaintext_as_is(encryption_keys):
    field = Contact._meta.get_field("email")
    token = Fernet(encryption_keys[0].encode()).encrypt(b"someone@example.com").decode()

    # A value that happens to look like a token is still just a value in Python.
    assert field.to_python(token) == token
