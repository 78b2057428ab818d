"""Development keys, generated once into a git-ignored file so a fresh clone runs with no setup.

Only used when the environment does not provide the keys and DEBUG is on; production must set
SECRET_KEY, FIELD_ENCRYPTION_KEYS and BLIND_INDEX_KEY explicitly.
"""

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet


def _generate() -> dict[str, str]:
    return {
        "SECRET_KEY": secrets.token_urlsafe(50),
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "BLIND_INDEX_KEY": secrets.token_urlsafe(32),
    }


def load_or_create(path: Path) -> dict[str, str]:
    if path.exists():
        return json.loads(path.read_text())
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(_generate(), handle, indent=2)
    # link() is atomic and refuses to overwrite: when two processes start at once, one key set wins.
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
    return json.loads(path.read_text())
