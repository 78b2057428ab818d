"""`manage.py sync NAME [--full]`: run a connection now, in this process (no worker needed),
with a progress bar and a summary on stderr.

Exit status: 0 every record imported (or left as it was), 1 the run failed (the source could
not be read, the import failed; the cursor did not move) or could not start, 2 it finished but
some records were rejected (the first are listed; the rest are the import's error report).
"""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.management.commands.import_data import PARTIAL_EXIT_STATUS, ProgressBar
from integrations.models import Connection, SyncRun
from integrations.services import sync

SOURCE_ERRORS_SHOWN = 20


class Command(BaseCommand):
    help = "Run a connection's sync now, synchronously, and report its counts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("name", help="The connection's name.")
        parser.add_argument(
            "--full",
            action="store_true",
            help="Ignore the saved cursor: fetch every record the source has (the import "
            "upserts, so nothing is doubled); the cursor then moves on as after any run.",
        )

    def handle(self, *args: Any, name: str, full: bool, **options: Any) -> None:
        connection = Connection.objects.filter(name=name).first()
        if connection is None:
            known = ", ".join(Connection.objects.values_list("name", flat=True)) or "none"
            raise CommandError(f"No connection is named {name!r} (connections: {known}).")
        if not connection.enabled:
            raise CommandError(f"{name!r} is disabled: enable it to run it.")
        since = "the beginning" if full or not connection.cursor else repr(connection.cursor)
        self.stderr.write(f"Syncing {name!r} from {since}…")
        bar = ProgressBar(self.stderr)
        run = sync.sync_run(connection.pk, full=full, on_progress=bar.update)
        bar.finish()
        if run is None:
            raise CommandError(
                f"Another run of {name!r} is still going; try again once it has finished."
            )
        self._summary(run)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(f"Run #{run.pk} failed: {run.error_message}")
        if run.failed:
            raise CommandError(
                f"{run.failed} of {run.fetched} records were rejected (see above).",
                returncode=PARTIAL_EXIT_STATUS,
            )

    def _summary(self, run: SyncRun) -> None:
        self.stderr.write(
            f"{run.fetched} fetched, {run.created} created, {run.updated} updated, "
            f"{run.unchanged} unchanged, {run.skipped} skipped, {run.failed} failed, "
            f"{run.deleted} deleted ({run.status}, run #{run.pk}); "
            f"cursor {run.cursor_before or '-'} → {run.cursor_after or '-'}."
        )
        for error in run.source_errors[:SOURCE_ERRORS_SHOWN]:
            self.stderr.write(f"  record {error['record']}: {error['message']}")
        if run.import_job_id and run.failed > len(run.source_errors):
            self.stderr.write(
                f"  rows the import rejected: GET /api/v1/imports/{run.import_job_id}/errors/"
            )
