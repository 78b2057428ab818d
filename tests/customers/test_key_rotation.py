import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from customers.actors import SYSTEM
from customers.crypto import FieldDecryptionError
from customers.models import Company, Contact
from customers.services.encryption import _write_swaps, rotate_encryption_keys
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def new_key() -> str:
    return Fernet.generate_key().decode()


def raw_email(pk):
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM customers_contact WHERE id = %s", [pk])
        return cursor.fetchone()[0]


def test_old_rows_still_read_after_a_new_key_is_prepended(settings, encryption_keys):
    old_key = encryption_keys[0]
    contact = ContactFactory(email="old@example.com")

    settings.FIELD_ENCRYPTION_KEYS = [new_key(), old_key]

    assert Contact.objects.get(pk=contact.pk).email == "old@example.com"


def test_rotation_reencrypts_every_row_so_the_old_key_can_go(settings, encryption_keys):
    old_key = encryption_keys[0]
    contacts = ContactFactory.create_batch(7)
    company = CompanyFactory(phone="+86 21 5555 0000")
    primary = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [primary, old_key]

    call_command("rotate_encryption_keys", "--batch-size", "3", verbosity=0)

    settings.FIELD_ENCRYPTION_KEYS = [primary]
    for contact in contacts:
        reloaded = Contact.objects.get(pk=contact.pk)
        assert (reloaded.email, reloaded.phone) == (contact.email, contact.phone)
        Fernet(primary.encode()).decrypt(raw_email(contact.pk).encode())
    assert Company.objects.get(pk=company.pk).phone == "+86 21 5555 0000"


def test_rotation_is_idempotent(settings, encryption_keys):
    ContactFactory.create_batch(3, address=None)
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), encryption_keys[0]]

    first = rotate_encryption_keys(batch_size=2)
    second = rotate_encryption_keys(batch_size=2)

    assert first.by_model["customers.Contact"] == 6  # email and phone of 3 contacts
    assert second.values_reencrypted == 0


def test_rotation_stops_with_a_clear_error_when_a_key_is_missing(settings, encryption_keys):
    ContactFactory()
    settings.FIELD_ENCRYPTION_KEYS = [new_key()]

    with pytest.raises(FieldDecryptionError, match="Restore the old key"):
        rotate_encryption_keys()


def test_a_value_changed_during_rotation_is_not_overwritten(settings, encryption_keys):
    contact = ContactFactory(email="before@example.com")
    stale_token = raw_email(contact.pk)
    settings.FIELD_ENCRYPTION_KEYS = [new_key(), encryption_keys[0]]
    Contact.objects.filter(pk=contact.pk).update(email="after@example.com")

    rotated_stale = Fernet(settings.FIELD_ENCRYPTION_KEYS[0].encode()).encrypt(b"before")
    _write_swaps(Contact, {"email": [(rotated_stale.decode(), contact.pk, stale_token)]})

    assert Contact.objects.get(pk=contact.pk).email == "after@example.com"


def test_rotation_reencrypts_pii_custom_field_values(settings, encryption_keys):
    from customers.services.custom_fields import custom_field_create

    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    contact = ContactFactory(custom_fields={"wechat": "wx_li"})
    primary = new_key()
    settings.FIELD_ENCRYPTION_KEYS = [primary, encryption_keys[0]]

    report = rotate_encryption_keys()

    assert report.by_model["customers.Contact.custom_fields"] == 1
    token = Contact.objects.get(pk=contact.pk).custom_fields["wechat"]
    assert Fernet(primary.encode()).decrypt(token.encode()) == b"wx_li"


def test_blind_indexes_are_rebuilt_under_a_new_index_key(settings, encryption_keys):
    from customers import selectors
    from customers.services.custom_fields import custom_field_create

    custom_field_create(
        actor=SYSTEM, entity="contact", name="fax", label="Fax", type="phone", pii=True
    )
    contact = ContactFactory(email="Find.Me@example.com", custom_fields={"fax": "+86 10 1234 5678"})
    company = CompanyFactory(phone="+86 21 5555 0000")
    settings.BLIND_INDEX_KEY = "a-brand-new-index-key"
    assert selectors.find_contact_by_email("find.me@example.com") is None

    call_command("rebuild_blind_indexes", "--batch-size", "1", verbosity=0)

    assert selectors.find_contact_by_email("find.me@example.com") == contact
    phone = {"phone": "021 5555 0000"}
    assert list(selectors.company_list(actor=SYSTEM, filters=phone)) == [company]
    assert Contact.objects.filter(custom_index__fax__isnull=False).count() == 1
    from customers.custom_fields.values import index_value
    from customers.models import CustomField

    fax = CustomField.objects.get(name="fax")
    stored = Contact.objects.get(pk=contact.pk).custom_index["fax"]
    assert stored == index_value(fax, "+86 10 1234 5678")
