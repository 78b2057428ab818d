"""A chunk's PII encrypted ahead in the helper process: real Fernet tokens, each used once."""

import io

import pytest

from customers import crypto, selectors
from customers.models import Contact
from integrations.imports import services as imports
from integrations.imports.encryption import MIN_VALUES_TO_SEND, ChunkEncryptor


def test_the_helper_returns_tokens_our_keys_open_one_per_value():
    values = [f"person{n}@example.com" for n in range(MIN_VALUES_TO_SEND)] + ["twice", "twice"]

    with ChunkEncryptor() as encryptor:
        tokens = encryptor.submit(values)
        taken = [tokens.take(value) for value in values]

    assert all(taken[:-1]) and taken[-1] is None  # a repeated value is encrypted here instead
    assert len(set(taken[:-1])) == len(values) - 1
    keyring = crypto.keyring()
    assert [keyring.decrypt(t.encode()).decode() for t in taken[:-1]] == values[:-1]


def test_small_chunks_do_not_start_the_helper():
    with ChunkEncryptor() as encryptor:
        tokens = encryptor.submit(["a@example.com"] * 10)

        assert tokens.take("a@example.com") is None
        assert encryptor._process is None


@pytest.mark.django_db
@pytest.mark.parametrize("helpers", [1, 0])
def test_an_import_big_enough_for_the_helper_stores_what_the_file_says(settings, tmp_path, helpers):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_ENCRYPTION_PROCESSES = helpers
    rows = MIN_VALUES_TO_SEND // 3 + 100
    content = "first_name,email,phone,address\n" + "".join(
        f"N{n},p{n}@example.com,+86 138 {n:08d},{n} Nanjing Road\n" for n in range(rows)
    )
    job = imports.import_create(
        user=None,
        file=io.BytesIO(content.encode()),
        filename="people.csv",
        resource="contacts",
        match_key="email",
        enqueue=False,
    )

    job = imports.import_run(job_id=job.pk)

    assert job.rows_created == rows
    stored = {c.first_name: (c.email, c.phone, c.address) for c in Contact.objects.all()}
    assert stored == {
        f"N{n}": (f"p{n}@example.com", f"+86 138 {n:08d}", f"{n} Nanjing Road") for n in range(rows)
    }
    found = selectors.find_contact_by_email("P17@example.com")
    assert found is not None and found.first_name == "N17"


def test_closing_with_a_reply_never_read_stops_the_helper_cleanly():
    encryptor = ChunkEncryptor()
    encryptor.submit(f"v{n}" for n in range(MIN_VALUES_TO_SEND))  # a chunk that then failed
    process = encryptor._process

    encryptor.close()

    assert process.returncode == 0
