from django.core.management.base import BaseCommand, CommandParser

from customers.services.encryption import rotate_encryption_keys


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value under the first key of FIELD_ENCRYPTION_KEYS, in "
        "batches. Afterwards keys after the first can be removed. Safe to run again."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size: int, **options) -> None:
        def progress(label: str, rows: int) -> None:
            if options["verbosity"] > 1:
                self.stdout.write(f"  {label}: {rows} rows checked")

        report = rotate_encryption_keys(batch_size=batch_size, on_batch=progress)
        for label, count in report.by_model.items():
            self.stdout.write(f"{label}: {count} values re-encrypted")
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {report.rows_examined} rows checked, "
                f"{report.values_reencrypted} values re-encrypted under the primary key."
            )
        )
