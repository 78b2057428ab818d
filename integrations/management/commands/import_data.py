"""`manage.py import_data FILE --resource contacts [--match email] [--create-related] …`

Runs the import here, in this process (no worker needed), with a progress bar and a summary on
stderr. Exit status: 0 every row imported (or left as it was: unchanged, or skipped as the mode
says), 1 the job failed (or was cancelled), 2 it finished but some rows were rejected as
invalid (their errors are listed).
"""

import json
import time
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm_project.storage_errors import StorageUnavailable
from integrations.imports import services as imports
from integrations.management.errors import as_sentence
from integrations.models import FileFormat, ImportJob, ImportRowError, JobStatus, Resource

ROWS_WITH_ERRORS_SHOWN = 20
PARTIAL_EXIT_STATUS = 2
_BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import contacts, companies or deals from a CSV, JSON or XML file, synchronously."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--resource", required=True, choices=Resource.values)
        parser.add_argument("--format", choices=FileFormat.values, help="Default: detected.")
        parser.add_argument("--mode", choices=ImportJob.Mode.values, default="upsert")
        parser.add_argument(
            "--match", choices=ImportJob.MatchKey.values, default="external_id", dest="match_key"
        )
        parser.add_argument(
            "--mapping",
            type=Path,
            help='A JSON file: {"File column": "field name", "Unwanted column": null}.',
        )
        parser.add_argument("--dry-run", action="store_true", help="Validate and count only.")
        parser.add_argument(
            "--all-or-nothing", action="store_true", help="Import nothing if any row fails."
        )
        parser.add_argument(
            "--create-related",
            action="store_true",
            help="Create the companies the rows name (and, for deals, the contacts named by "
            "email) when no record matches.",
        )
        parser.add_argument("--user", help="Record the job as this user's (a username).")

    def handle(self, *args: Any, file: Path, **options: Any) -> None:
        mapping = _read_mapping(options["mapping"])
        user = _user(options["user"])
        try:
            with file.open("rb") as handle:
                job = imports.import_create(
                    user=user,
                    file=handle,
                    filename=file.name,
                    resource=options["resource"],
                    format=options["format"] or "",
                    mode=options["mode"],
                    match_key=options["match_key"],
                    mapping=mapping,
                    dry_run=options["dry_run"],
                    all_or_nothing=options["all_or_nothing"],
                    create_related=options["create_related"],
                    enqueue=False,
                )
        except FileNotFoundError:
            raise CommandError(f"No such file: {file}") from None
        except ValidationError as error:
            raise CommandError(as_sentence(error)) from None
        except StorageUnavailable as error:
            raise CommandError(error.user_message()) from error

        bar = ProgressBar(self.stderr)
        try:
            job = imports.import_run(job_id=job.pk, on_progress=bar.update)
        except KeyboardInterrupt:
            imports.import_cancel(job=job)
            raise CommandError(
                f"Interrupted: import #{job.pk} is cancelled; the chunks written so far stay.",
                returncode=130,
            ) from None
        bar.finish()
        self._summary(job)
        if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            raise CommandError(f"Import #{job.pk} {job.status}. {job.error_message}".strip())
        if job.rows_failed:
            raise CommandError(
                f"{job.rows_failed} of {job.rows_total} rows were rejected (see above).",
                returncode=PARTIAL_EXIT_STATUS,
            )

    def _summary(self, job: ImportJob) -> None:
        prefix = "Dry run: would have " if job.dry_run else ""
        self.stderr.write(
            f"{prefix}{job.rows_created} created, {job.rows_updated} updated, "
            f"{job.rows_unchanged} unchanged, {job.rows_skipped} skipped, "
            f"{job.rows_failed} failed of {job.rows_total} "
            f"({job.status}, import #{job.pk})."
        )
        if job.companies_created or job.contacts_created:
            self.stderr.write(
                f"{prefix}{job.companies_created} companies and {job.contacts_created} "
                "contacts created because no record matched."
            )
        problems = ImportRowError.objects.filter(job=job).order_by("row_number", "id")
        for problem in problems[:ROWS_WITH_ERRORS_SHOWN]:
            self.stderr.write(
                f"  row {problem.row_number}: {problem.field or '-'}: {problem.message}"
            )
        hidden = problems.count() - ROWS_WITH_ERRORS_SHOWN
        if hidden > 0:
            self.stderr.write(
                f"  … and {hidden} more: GET /api/v1/imports/{job.pk}/errors/?format=csv"
            )


class ProgressBar:
    """`[#####-----]  50.0%  10000/20000 rows`, redrawn in place on a terminal, a line per
    update (at most every few seconds) elsewhere."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.last_line = 0.0
        self.drawn = False

    def update(self, processed: int, total: int) -> None:
        now = time.monotonic()
        if not self.interactive and now - self.last_line < 2 and processed < total:
            return
        self.last_line = now
        share = processed / total if total else 1.0
        filled = int(share * _BAR_WIDTH)
        text = (
            f"[{'#' * filled}{'-' * (_BAR_WIDTH - filled)}] {share:6.1%}  {processed}/{total} rows"
        )
        self.stream.write(
            ("\r" if self.interactive else "") + text, ending="" if self.interactive else "\n"
        )
        self.stream.flush()
        self.drawn = True

    def finish(self) -> None:
        if self.drawn and self.interactive:
            self.stream.write("")


def _read_mapping(path: Path | None) -> dict[str, str | None]:
    if path is None:
        return {}
    try:
        mapping = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CommandError(f"No such mapping file: {path}") from None
    except ValueError as error:
        raise CommandError(f"The mapping file is not valid JSON: {error}") from None
    if not isinstance(mapping, dict) or not all(
        value is None or isinstance(value, str) for value in mapping.values()
    ):
        raise CommandError('The mapping file must hold {"column": "field name" or null, …}.')
    return mapping


def _user(username: str | None):
    if not username:
        return None
    user = get_user_model()._default_manager.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user named {username!r}.")
    return user
