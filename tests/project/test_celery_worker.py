"""A real worker process runs the domain's tasks on the configured broker and database
(the embedded default here: filesystem broker and SQLite; PostgreSQL and Redis in CI's
integration run)."""

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.db import connection

from customers.tasks import rotate_encryption_keys
from tests.factories import ContactFactory
from tests.workers import celery_worker, wait_for

pytestmark = pytest.mark.slow


def stored_emails() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT email FROM customers_contact WHERE email IS NOT NULL")
        return [row[0] for row in cursor.fetchall()]


def all_readable_with(key: str) -> bool:
    fernet = Fernet(key.encode())
    try:
        for token in stored_emails():
            fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


@pytest.mark.django_db(transaction=True)
def test_worker_process_rotates_encryption_keys(settings, encryption_keys, tmp_path):
    old_key = encryption_keys[0]
    ContactFactory.create_batch(25)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    assert not all_readable_with(new_key)

    with celery_worker(tmp_path / "worker.log") as queue:
        rotate_encryption_keys.apply_async(kwargs={"batch_size": 10}, queue=queue)
        wait_for(lambda: all_readable_with(new_key), timeout=60)

    assert len(stored_emails()) == 25
