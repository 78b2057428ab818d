from django.core.management.base import BaseCommand, CommandParser

from customers.services.encryption import rebuild_blind_indexes


class Command(BaseCommand):
    help = "Recompute the blind indexes (email, phone, PII custom fields) for a new index key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size: int, **options) -> None:
        count = rebuild_blind_indexes(batch_size=batch_size)
        self.stdout.write(self.style.SUCCESS(f"Rebuilt the blind indexes of {count} records."))
