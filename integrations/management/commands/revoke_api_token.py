"""`manage.py revoke_api_token PREFIX`: stop a partner API key working, e.g. after a leak."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.models import ApiKey
from integrations.services import api_keys


class Command(BaseCommand):
    help = "Revoke a partner API key by its prefix (the 8 characters after 'crm_') or full key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("prefix")

    def handle(self, *args, prefix: str, **options) -> None:
        prefix = api_keys.parse_prefix(prefix) or prefix
        api_key = ApiKey.objects.filter(prefix=prefix).first()
        if api_key is None:
            raise CommandError(f"No API key with prefix {prefix!r}.")
        if api_key.is_revoked:
            self.stdout.write(f"Key {prefix!r} was already revoked at {api_key.revoked_at}.")
            return
        # The operator at the shell: no user's revocation rights apply.
        api_keys.api_key_revoke(api_key=api_key, revoked_by=None)
        self.stdout.write(self.style.SUCCESS(f"Revoked key {prefix!r} ({api_key.name})."))
