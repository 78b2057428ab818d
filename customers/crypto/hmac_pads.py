"""HMAC-SHA256 with the key's padded blocks hashed once, for code that signs millions of values.

HMAC (RFC 2104) is ``sha256(outer pad | sha256(inner pad | message))``. With both pads hashed
once, each message costs two hash copies and a block each: a third of ``hmac.digest``, which
sets the key up (and looks the digest up in OpenSSL) on every call. Imports nothing of Django:
the import's encryption helper process uses it.
"""

import base64
import hashlib
from typing import Any

SHA256_BLOCK = 64


def hmac_sha256_pads(key: bytes) -> tuple[Any, Any]:
    """The (inner, outer) pad hashes of `key`; ``copy()`` each per message. Same bytes as
    ``hmac.new(key, message, sha256)``."""
    if len(key) > SHA256_BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(SHA256_BLOCK, b"\0")
    return (
        hashlib.sha256(bytes(byte ^ 0x36 for byte in block)),
        hashlib.sha256(bytes(byte ^ 0x5C for byte in block)),
    )


def fernet_key_parts(key: str) -> tuple[Any, Any, bytes]:
    """A Fernet key as (inner pad hash, outer pad hash) of its signing half, and its AES key."""
    raw = base64.urlsafe_b64decode(key)
    if len(raw) != 32:
        raise ValueError("A Fernet key is 32 url-safe base64-encoded bytes.")
    return (*hmac_sha256_pads(raw[:16]), raw[16:])
