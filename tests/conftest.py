import pytest
from cryptography.fernet import Fernet


@pytest.fixture
def encryption_keys(settings):
    """A fresh primary key for the test, so key-handling tests never depend on var/."""
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return settings.FIELD_ENCRYPTION_KEYS


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories hash a password per user; the real hasher's cost buys tests nothing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
