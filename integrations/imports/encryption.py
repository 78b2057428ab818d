"""A chunk's PII encrypted in a helper process while this one matches and applies the rows.

Fernet costs ~6 µs a value and a contact has three: a third of an import's work on one core.
The chunk's plaintexts go to the helper as one list as soon as the rows are clean; by the time
the rows are matched, merged and validated, the tokens are back. Each token is used once (a
fresh IV per stored value, so equal values never share a ciphertext); a value without a token
(a duplicate, or a small chunk not worth the trip) is encrypted here. The helper is a plain
subprocess holding only the encrypting key (no Django, no inherited connections; allowed in a
Celery prefork child, where multiprocessing is not), started once per job; if it cannot start
or dies, encryption simply stays in this process.
"""

import contextlib
import logging
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

from django.conf import settings

from customers import crypto
from integrations.imports.encryption_helper import read_frame, write_frame

logger = logging.getLogger(__name__)

# Fewer values than this are encrypted in this process: the round trip would cost more.
MIN_VALUES_TO_SEND = 3_000


class Tokens:
    """Ciphertexts made ahead for one chunk's values; `take` hands each out once."""

    def __init__(self, encryptor: "ChunkEncryptor | None" = None, values: list[str] = ()) -> None:
        self._encryptor, self._values = encryptor, values
        self._tokens: dict[str, str] | None = None if encryptor else {}

    def take(self, value: str) -> str | None:
        if self._tokens is None:
            self.resolve()
        return self._tokens.pop(value, None)

    def resolve(self) -> None:
        if self._tokens is None:
            tokens = self._encryptor.receive()
            self._tokens = dict(zip(self._values, tokens, strict=False))


NO_TOKENS = Tokens()


class ChunkEncryptor:
    """One helper process for a whole job; `close()` (or the context manager) stops it."""

    def __init__(self) -> None:
        self._process: subprocess.Popen | None = None
        self._pending: Tokens | None = None
        self._disabled = settings.IMPORT_ENCRYPTION_PROCESSES < 1

    def submit(self, values: Iterable[Any]) -> Tokens:
        if self._pending is not None:  # one request in flight: the pipes stay unblocked
            self._pending.resolve()
        plaintexts = [str(value) for value in values if value is not None and value != ""]
        if len(plaintexts) < MIN_VALUES_TO_SEND or self._disabled:
            return NO_TOKENS
        try:
            process = self._process or self._start()
            write_frame(process.stdin, plaintexts)
        except OSError as error:
            return self._give_up(error)
        self._pending = Tokens(self, plaintexts)
        return self._pending

    def receive(self) -> list[str]:
        self._pending = None
        try:
            tokens = read_frame(self._process.stdout)
        except (OSError, ValueError, EOFError) as error:
            tokens = None
            self._give_up(error)
        if tokens is None:
            self._give_up("the helper ended")
            return []
        return tokens

    def _start(self) -> subprocess.Popen:
        crypto.primary_key_only()  # a bad key fails here, loudly, not in the helper
        self._process = subprocess.Popen(
            [sys.executable, "-m", "integrations.imports.encryption_helper"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            cwd=settings.BASE_DIR,
        )
        write_frame(self._process.stdin, settings.FIELD_ENCRYPTION_KEYS[0].encode())
        return self._process

    def _give_up(self, reason: Any) -> Tokens:
        logger.warning("Import encryption stays in this process: %s", reason)
        self._disabled = True
        self.close()
        return NO_TOKENS

    def close(self) -> None:
        process, pending = self._process, self._pending
        self._process = self._pending = None
        if process is not None:
            if pending is not None:  # a chunk that failed midway: let the helper finish
                with contextlib.suppress(OSError, ValueError, EOFError):
                    read_frame(process.stdout)
            process.stdin.close()
            process.stdout.close()
            process.wait(timeout=30)

    def __enter__(self) -> "ChunkEncryptor":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
