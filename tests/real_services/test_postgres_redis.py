"""Migrations, services, key rotation and a Celery worker on real PostgreSQL and Redis."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from customers import selectors
from customers.actors import SYSTEM
from customers.models import Contact
from customers.services import contacts
from customers.tasks import rotate_encryption_keys
from tests.factories import ContactFactory
from tests.project.test_celery_worker import all_readable_with, stored_emails
from tests.workers import celery_worker, wait_for


@pytest.mark.django_db
def test_migrations_created_the_constraints_and_indexes_on_postgres():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "customers_contact")

    assert constraints["contact_email_unique"]["unique"]
    assert constraints["contact_phone_index_idx"]["index"]
    assert not any(name.endswith("_like") for name in constraints)


@pytest.mark.django_db
def test_blind_index_lookup_and_unique_email_on_postgres():
    contact = ContactFactory(email="Pg.User@Example.com")

    assert selectors.find_contact_by_email("pg.user@example.com") == contact
    with pytest.raises(ValidationError):
        contacts.contact_create(actor=SYSTEM, first_name="Other", email="PG.USER@example.com")
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_rotate_command_on_postgres(settings, encryption_keys):
    ContactFactory.create_batch(12)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, encryption_keys[0]]

    call_command("rotate_encryption_keys", "--batch-size", "5", verbosity=0)

    assert all_readable_with(new_key)


@pytest.mark.django_db(transaction=True)
def test_worker_through_redis_rotates_keys_on_postgres(settings, encryption_keys, tmp_path):
    ContactFactory.create_batch(30)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, encryption_keys[0]]

    with celery_worker(tmp_path / "worker.log") as queue:
        rotate_encryption_keys.apply_async(kwargs={"batch_size": 7}, queue=queue)
        wait_for(lambda: all_readable_with(new_key), timeout=60)

    assert len(stored_emails()) == 30
