"""The helper process of `imports.encryption`: reads lists of plaintexts, answers with Fernet
tokens.

Run as ``python -m integrations.imports.encryption_helper``; imports nothing of Django
(``customers.crypto.bulk_encrypt`` encrypts a whole list in one pass). Frames
on stdin/stdout are an 8-byte big-endian length and a `marshal`-ed list of str; the first frame
in is the encrypting key.
"""

import marshal
import sys
from typing import IO, Any

from customers.crypto import encrypt_many


def read_frame(stream: IO[bytes]) -> Any:
    header = stream.read(8)
    if len(header) < 8:
        return None
    return marshal.loads(stream.read(int.from_bytes(header, "big")))


def write_frame(stream: IO[bytes], value: Any) -> None:
    data = marshal.dumps(value)
    stream.write(len(data).to_bytes(8, "big") + data)
    stream.flush()


def main() -> None:
    requests, replies = sys.stdin.buffer, sys.stdout.buffer
    key = read_frame(requests).decode()
    while (values := read_frame(requests)) is not None:
        write_frame(replies, encrypt_many(values, key))


if __name__ == "__main__":
    main()
