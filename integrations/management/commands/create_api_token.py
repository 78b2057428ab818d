"""`manage.py create_api_token USERNAME --scopes contacts:read,pii:read --name "ERP sync"`.

The key goes alone to stdout, so ``KEY=$(manage.py create_api_token …)`` captures it; the
notes go to stderr.
"""

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from integrations.scopes import ALL_SCOPES
from integrations.services import api_keys


class Command(BaseCommand):
    help = "Create a partner API key for a user and print it once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Comma-separated, from: {', '.join(ALL_SCOPES)}.",
        )
        parser.add_argument("--name", required=True, help="What the key is for, e.g. 'ERP sync'.")
        parser.add_argument("--expires-in-days", type=int, default=None)

    def handle(self, *args, username: str, scopes: str, name: str, **options) -> None:
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        days = options["expires_in_days"]
        if days is not None and days <= 0:
            raise CommandError("--expires-in-days must be a positive number of days.")
        expires_at = timezone.now() + timedelta(days=days) if days else None
        try:
            api_key, raw_key = api_keys.api_key_create(
                user=user,
                name=name,
                scopes=[scope for scope in scopes.split(",") if scope.strip()],
                expires_at=expires_at,
            )
        except ValidationError as error:
            messages = [f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items()]
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(raw_key)
        self.stderr.write(
            self.style.WARNING(
                f"Key {api_key.prefix!r} for {username} ({', '.join(api_key.scopes)}): "
                "store it now, it cannot be shown again."
            )
        )
