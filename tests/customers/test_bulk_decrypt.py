"""Bulk decryption reads exactly what Fernet wrote, under any configured key, and fails loudly
on anything else: it never hands back ciphertext as data."""

import base64

import pytest
from cryptography.fernet import Fernet

from customers.crypto import FieldDecryptionError, decrypt_many

NEW, OLD = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_every_token_reads_back_in_order_whatever_its_key_and_length():
    texts = ["", "a", "x" * 15, "y" * 16, "z" * 17, "伟张 🙂" * 40, "+86 138 0013 8000"] * 3
    tokens = [
        Fernet(NEW if n % 2 else OLD).encrypt(t.encode()).decode() for n, t in enumerate(texts)
    ]
    tokens[4:4] = [None]
    texts[4:4] = [None]

    assert decrypt_many(tokens, [NEW, OLD], what="test data") == texts


def test_no_tokens_is_no_work():
    assert decrypt_many([], [NEW], what="test data") == []
    assert decrypt_many([None, None], [NEW], what="test data") == [None, None]


def tampered(token: str) -> str:
    data = bytearray(base64.urlsafe_b64decode(token))
    data[30] ^= 1  # a ciphertext byte
    return base64.urlsafe_b64encode(bytes(data)).decode()


@pytest.mark.parametrize(
    "bad",
    [
        Fernet(Fernet.generate_key()).encrypt(b"secret").decode(),  # a key not configured
        tampered(Fernet(NEW).encrypt(b"secret").decode()),
        "not a token",
        "gAAAAA==",
    ],
    # Stable ids: the tokens are random, and xdist workers must collect the same test names.
    ids=["unconfigured-key", "tampered", "not-a-token", "truncated"],
)
def test_a_token_no_key_opens_raises_instead_of_passing_for_data(bad):
    good = Fernet(NEW).encrypt(b"fine").decode()

    with pytest.raises(FieldDecryptionError, match="contact email"):
        decrypt_many([good, bad], [NEW, OLD], what="contact email")


def test_the_pre_hashed_hmac_is_the_standard_hmac_sha256():
    import hmac
    import os

    from customers.crypto.bulk_decrypt import _hmac_sha256

    for key_length in (16, 32, 64):
        key = os.urandom(key_length)
        mac = _hmac_sha256(key)
        for size in (0, 1, 57, 64, 65, 1000):
            message = os.urandom(size)
            assert mac(message) == hmac.digest(key, message, "sha256")


@pytest.mark.parametrize("position", [0, -32, -1])  # the version byte, the MAC's first and last
def test_a_token_altered_anywhere_in_its_signed_part_or_its_mac_raises(position):
    data = bytearray(base64.urlsafe_b64decode(Fernet(NEW).encrypt(b"secret")))
    data[position] ^= 1
    bad = base64.urlsafe_b64encode(bytes(data)).decode()

    with pytest.raises(FieldDecryptionError):
        decrypt_many([bad], [NEW, OLD], what="contact email")


def test_only_tokens_the_first_key_signed_are_current():
    from customers.crypto import signed_by_first_key

    tokens = [
        Fernet(NEW).encrypt(b"current").decode(),
        Fernet(OLD).encrypt(b"stale").decode(),
        None,
        "not a token",
        tampered(Fernet(NEW).encrypt(b"altered").decode()),
    ]

    assert signed_by_first_key(tokens, [NEW, OLD]) == [True, False, False, False, False]
