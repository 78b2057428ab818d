"""`file`: CSV, JSON or XML records from an HTTP(S) URL or a local drop folder, read with the
bulk exchange's streaming readers.

A drop folder's files are read oldest first; once their records are committed they are moved
to the done folder (a file that cannot be read at all goes to the failed folder), so each file
is imported once. Drop folders are confined (see `drop_folders`): a file that is a link leading
out of its folder is reported and set aside, never read. A URL is fetched again only when it
changed: its ETag or Last-Modified is the cursor, sent back as If-None-Match /
If-Modified-Since.
"""

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from integrations import outbound
from integrations.connectors import drop_folders
from integrations.connectors.base import ConfigKey, Connector, ConnectorError, Fetch, RecordStream
from integrations.formats import FormatError, Record, open_reader

_DOWNLOAD_CHUNK = 1 << 20


class FileConnector(Connector):
    name = "file"
    label = "File (CSV, JSON or XML from a URL or a drop folder)"
    config_keys = {
        "url": ConfigKey(str, help="An http(s) URL of one file; or use folder."),
        "folder": ConfigKey(
            str, help="A drop folder inside CONNECTOR_FILE_ROOTS (or relative to it); or use url."
        ),
        "pattern": ConfigKey(str, help="Which files of the folder to read (default *)."),
        "done_folder": ConfigKey(str, help="Subfolder read files go to (default done)."),
        "failed_folder": ConfigKey(str, help="Subfolder unreadable files go to (default failed)."),
        "format": ConfigKey(str, help="csv, json or xml; sniffed when absent."),
        "encoding": ConfigKey(str, help="The CSV encoding; detected when absent."),
        "headers": ConfigKey(dict, secret=True, help="HTTP headers for the URL."),
    }

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        if ("url" in config) == ("folder" in config):
            raise ValidationError(
                {"config.url": _("Give either url or folder, not both or neither.")}
            )
        if "url" in config and urlsplit(config["url"]).scheme not in {"http", "https"}:
            raise ValidationError({"config.url": _("Use an http or https URL.")})
        if "folder" in config:
            cls._folders(config)
        if config.get("format", "csv") not in {"csv", "json", "xml"}:
            raise ValidationError({"config.format": _("Use csv, json or xml.")})

    @staticmethod
    def _folders(config: dict[str, Any]) -> tuple[Path, str, Path, Path]:
        """The drop folder, pattern, done and failed folders, each checked (ValidationError)."""
        folder = drop_folders.drop_folder(config["folder"])
        pattern = drop_folders.file_pattern(config.get("pattern", "*"))
        done = drop_folders.subfolder(
            folder, config.get("done_folder"), default="done", key="config.done_folder"
        )
        failed = drop_folders.subfolder(
            folder, config.get("failed_folder"), default="failed", key="config.failed_folder"
        )
        return folder, pattern, done, failed

    def _checked_folders(self) -> tuple[Path, str, Path, Path]:
        """The folders again at run time: the roots, or a link in the folder, may have changed."""
        try:
            return self._folders(self.config)
        except ValidationError as error:
            raise ConnectorError(" ".join(error.messages)) from None

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self._read: list[Path] = []
        self._unreadable: list[Path] = []

    def records(self, cursor: str | None) -> RecordStream:
        if "url" in self.config:
            return (yield from self._from_url(cursor))
        yield from self._from_folder()
        return cursor

    # A drop folder

    def _from_folder(self) -> Iterator[Record]:
        folder, pattern, _done, _failed = self._checked_folders()
        files = sorted(
            (path for path in folder.glob(pattern) if path.is_file()),
            key=lambda path: (path.stat().st_mtime, path.name),
        )
        number = 0
        for path in files:
            if not drop_folders.inside(path, folder):
                number += 1
                self._unreadable.append(path)  # the link itself is set aside, not its target
                message = _("a link that leads outside the drop folder; not read.")
                yield Record(
                    number,
                    {},
                    error=_("%(name)s: %(message)s") % {"name": path.name, "message": message},
                )
                continue
            try:
                with _open_no_follow(path, folder) as source, self._open(source) as reader:
                    for record in reader:
                        number += 1
                        yield Record(number, record.values, record.error, record.line)
            except (FormatError, OSError) as error:
                number += 1
                self._unreadable.append(path)
                reason = error if isinstance(error, FormatError) else _("cannot be opened.")
                yield Record(
                    number,
                    {},
                    error=_("%(name)s: %(message)s") % {"name": path.name, "message": reason},
                )
                continue
            self._read.append(path)

    def acknowledge(self, fetch: Fetch) -> None:
        if "folder" not in self.config:
            return
        folder, _pattern, done, failed = self._checked_folders()
        for paths, target in ((self._read, done), (self._unreadable, failed)):
            for path in paths:
                target.mkdir(parents=True, exist_ok=True)
                if not drop_folders.inside(target, folder):  # made a link since the check
                    raise ConnectorError(
                        _("%(target)s leads outside the drop folder.") % {"target": target.name}
                    )
                shutil.move(path, _free_name(target / path.name))
            paths.clear()

    # One file at a URL

    def _from_url(self, cursor: str | None) -> RecordStream:
        headers = dict(self.config.get("headers", {}))
        validators = json.loads(cursor) if cursor else {}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        with tempfile.TemporaryFile() as download:
            try:
                response = outbound.request("GET", self.config["url"], headers=headers, stream=True)
            except (outbound.OutboundRefused, requests.RequestException) as error:
                raise ConnectorError(
                    _("Cannot fetch %(url)s: %(error)s")
                    % {"url": self.config["url"], "error": error}
                ) from None
            with response:
                if response.status_code == 304:
                    return cursor
                if response.status_code != 200:
                    raise ConnectorError(
                        _("%(url)s answered %(status)s.")
                        % {"url": self.config["url"], "status": response.status_code}
                    )
                _save(response, download)
            try:
                with self._open(download) as reader:
                    yield from reader
            except FormatError as error:
                raise ConnectorError(
                    _("%(name)s: %(message)s") % {"name": self.config["url"], "message": error}
                ) from None
        new = {
            "etag": response.headers.get("ETag"),
            "last_modified": response.headers.get("Last-Modified"),
        }
        return json.dumps(new) if any(new.values()) else cursor

    def _open(self, source):
        return open_reader(
            source, format=self.config.get("format"), encoding=self.config.get("encoding")
        )


def _save(response: requests.Response, target) -> None:
    limit = settings.IMPORT_MAX_BYTES
    size = 0
    for chunk in response.iter_content(_DOWNLOAD_CHUNK):
        size += len(chunk)
        if size > limit:
            raise ConnectorError(
                _("The file is larger than IMPORT_MAX_BYTES (%(limit)d bytes).") % {"limit": limit}
            )
        target.write(chunk)
    target.seek(0)


def _open_no_follow(path: Path, folder: Path):
    """The file's real path, checked to be inside `folder` again, opened without following a
    link in its last part: a file swapped for a link after the listing's check is refused
    (OSError) instead of being read through the link. `realpath` alone would follow the new
    link and hand O_NOFOLLOW its target, a plain file."""
    real = Path(os.path.realpath(path))
    if not drop_folders.inside(real, folder):
        raise OSError(errno.ELOOP, "a link that leads outside the drop folder", str(path))
    return open(real, "rb", opener=lambda name, flags: os.open(name, flags | os.O_NOFOLLOW))  # noqa: SIM115


def _free_name(path: Path) -> Path:
    if not path.exists():
        return path
    stamp = timezone.now().strftime("%Y%m%dT%H%M%S%f")
    return path.with_name(f"{path.stem}.{stamp}{path.suffix}")
