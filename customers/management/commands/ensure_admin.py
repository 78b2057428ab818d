"""`manage.py ensure_admin`: a development superuser with a generated password, created once.

The password is kept in VAR_DIR (git-ignored, mode 0600) so `make run` can show it again; an
existing user's password is never changed here.
"""

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

CREDENTIALS_FILE = "admin-credentials.txt"


class Command(BaseCommand):
    help = (
        "Create a superuser with a random password if it does not exist, store the login in "
        "VAR_DIR/admin-credentials.txt and print it. Never changes an existing password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")
        # `make run` passes the HOST and PORT it serves on, so the login printed is the one.
        parser.add_argument("--host", default="127.0.0.1", help="Where the CRM is served.")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, username: str, host: str, port: int, **options) -> None:
        self.urls = _urls(host, port)
        user_model = get_user_model()
        path = Path(settings.VAR_DIR) / CREDENTIALS_FILE
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            password = secrets.token_urlsafe(18)
            # The user only exists if its password was written down: a failed write rolls back.
            with transaction.atomic():
                user_model._default_manager.create_superuser(
                    username, email=f"{username}@localhost", password=password
                )
                _write_private(path, f"username: {username}\npassword: {password}\n")
            self._print_login("Created superuser", username, password, path)
            return

        stored = _read_credentials(path)
        if stored.get("username") == username:
            # hashers.check_password, not user.check_password: that one may re-hash and save.
            if check_password(stored.get("password"), user.password):
                self._print_login("Superuser exists", username, stored["password"], path)
                return
            reason = f"the password in {path} no longer works (it was changed since)"
        else:
            reason = "its password was set earlier and is not stored here"
        self.stdout.write(
            f"User {username!r} exists; {reason}. "
            f"To set a new one: python manage.py changepassword {username}\n{self.urls}"
        )

    def _print_login(self, heading: str, username: str, password: str, path: Path) -> None:
        self.stdout.write(
            self.style.SUCCESS(f"{heading}. Log in at:")
            + f"\n{self.urls}\n  username: {username}\n  password: {password}\n  (kept in {path})"
        )


def _urls(host: str, port: int) -> str:
    """The CRM first (where a user works), the admin on its own line."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return f"CRM:   http://{authority}/\nAdmin: http://{authority}/admin/"


def _write_private(path: Path, text: str) -> None:
    """Created with mode 0600 from the start, so the password is never world-readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(path, 0o600)  # O_CREAT's mode does not apply to a file that already existed
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)


def _read_credentials(path: Path) -> dict[str, str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return {}
    return dict(line.split(": ", 1) for line in lines if ": " in line)
