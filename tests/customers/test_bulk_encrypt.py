"""Bulk encryption writes standard Fernet tokens, each with its own IV, that every reader of
ours (Fernet itself, MultiFernet, bulk decryption) opens."""

import base64
import time

import pytest
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from customers.crypto import decrypt_many, encrypt_many

KEY, OLD = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TEXTS = ["", "a", "x" * 15, "y" * 16, "z" * 17, "伟张 🙂" * 40, "+86 138 0013 8000", "p@e.com"]


def iv_of(token: str) -> bytes:
    return base64.urlsafe_b64decode(token)[9:25]


def test_fernet_opens_every_token_and_reads_each_value_back_in_order():
    tokens = encrypt_many(TEXTS * 3, KEY)

    assert [Fernet(KEY).decrypt(token.encode()).decode() for token in tokens] == TEXTS * 3


def test_our_readers_open_them_beside_tokens_under_an_older_key():
    tokens = encrypt_many(TEXTS, KEY) + [Fernet(OLD).encrypt(b"old").decode()]

    assert decrypt_many(tokens, [KEY, OLD], what="test data") == [*TEXTS, "old"]
    assert MultiFernet([Fernet(KEY), Fernet(OLD)]).decrypt(tokens[0].encode()) == b""


def test_each_token_has_its_own_iv_so_equal_values_never_share_a_ciphertext():
    tokens = encrypt_many(["same"] * 500, KEY) + encrypt_many(["same"] * 500, KEY)

    assert len(set(tokens)) == 1000
    assert len({iv_of(token) for token in tokens}) == 1000


def test_tokens_carry_the_time_they_were_made():
    before = int(time.time())
    (token,) = encrypt_many(["value"], KEY)

    assert before <= Fernet(KEY).extract_timestamp(token.encode()) <= time.time()


def test_a_token_altered_after_encryption_is_refused():
    data = bytearray(base64.urlsafe_b64decode(encrypt_many(["secret"], KEY)[0]))
    data[30] ^= 1

    with pytest.raises(InvalidToken):
        Fernet(KEY).decrypt(base64.urlsafe_b64encode(bytes(data)))


def test_nothing_to_encrypt_is_no_work_and_a_malformed_key_is_refused():
    assert encrypt_many([], KEY) == []
    with pytest.raises(ValueError, match="32"):
        encrypt_many(["x"], base64.urlsafe_b64encode(b"short").decode())
