"""`manage.py purge_exchange_files [--days N]`: delete import uploads and export files of jobs
that finished more than EXCHANGE_FILE_RETENTION_DAYS (or N) days ago (the jobs stay), and
import wizard uploads abandoned for a day."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from integrations.services.exchange_files import exchange_files_purge


class Command(BaseCommand):
    help = "Delete the files of finished import and export jobs past the retention period."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            help="Keep files this many days after their job finished "
            "(default: EXCHANGE_FILE_RETENTION_DAYS).",
        )

    def handle(self, *args: Any, days: int | None = None, **options: Any) -> None:
        result = exchange_files_purge(retention_days=days)
        self.stdout.write(
            f"Deleted {result.imports} import file(s), {result.exports} export file(s) and "
            f"{result.drafts} abandoned wizard upload(s)."
        )
