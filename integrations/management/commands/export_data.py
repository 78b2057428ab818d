"""`manage.py export_data --resource contacts --format xml [--filter key=value …] > out.xml`

Streams every matching record to stdout (or `--output FILE`) in flat memory, shaped as the REST
API returns them, so the file imports back unchanged. Filters are the REST list's query
parameters; repeat one for several values (`--filter lifecycle_stage=lead --filter
lifecycle_stage=customer`). PII is decrypted unless `--no-pii`: whoever runs this already holds
the keys.
"""

import io
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations.exports import services as exports
from integrations.management.errors import as_sentence
from integrations.models import FileFormat, Resource


class Command(BaseCommand):
    help = "Export contacts, companies or deals as CSV, JSON or XML to stdout or a file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--resource", required=True, choices=Resource.values)
        parser.add_argument("--format", required=True, choices=FileFormat.values)
        parser.add_argument(
            "--filter",
            action="append",
            default=[],
            dest="filters",
            metavar="NAME=VALUE",
            help="A list filter, e.g. tag=vip or updated_since=2026-01-01T00:00:00Z.",
        )
        parser.add_argument("--no-pii", action="store_true", help="Mask email, phone, address.")
        parser.add_argument("--output", type=Path, help="Write to this file instead of stdout.")
        parser.add_argument("--bom", action="store_true", help="CSV: start with a UTF-8 BOM.")

    def handle(self, *args: Any, **options: Any) -> None:
        filters = _parse_filters(options["filters"])
        write = {
            "resource": options["resource"],
            "format": options["format"],
            "filters": filters,
            "include_pii": not options["no_pii"],
            "bom": options["bom"],
        }
        try:
            if options["output"]:
                with options["output"].open("wb") as handle:
                    rows = exports.export_write(stream=handle, **write)
            else:
                rows = exports.export_write(stream=self._stdout(), **write)
        except ValidationError as error:
            raise CommandError(as_sentence(error)) from None
        self.stderr.write(f"Exported {rows} {options['resource']}.")

    def _stdout(self):
        """The real stdout as bytes (UTF-8 whatever the locale), else the text stream given
        to ``call_command``. Not ``self.stdout.write``: it would add a newline to each piece."""
        target = self.stdout._out
        return getattr(target, "buffer", None) or _Text(target)


class _Text(io.TextIOBase):
    def __init__(self, target) -> None:
        self._target = target

    def write(self, text: str) -> int:
        return self._target.write(text)

    def flush(self) -> None:
        self._target.flush()


def _parse_filters(pairs: list[str]) -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for pair in pairs:
        name, separator, value = pair.partition("=")
        if not separator or not name.strip():
            raise CommandError(f"--filter takes NAME=VALUE, got {pair!r}.")
        name = name.strip()
        if name in filters:  # a repeated filter: several values, as in a query string
            previous = filters[name]
            filters[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            filters[name] = value
    return filters
