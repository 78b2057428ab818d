"""Where the `file` connector may read and move files.

A drop folder lies inside one of ``CONNECTOR_FILE_ROOTS`` (absolute paths; by default
``<CRM_VAR_DIR>/drop/``, created on demand), after every symbolic link is resolved, and is
neither one of the CRM's own folders (the project, ``CRM_VAR_DIR``, ``MEDIA_ROOT``,
``STATIC_ROOT``) nor inside or above one, the default drop root excepted. Its pattern names
files of the folder itself, and its done and failed folders are subfolders of it. Every rule
here is checked when a connection is saved and again when it runs: the roots or the folder's
links may have changed since.
"""

import os
from collections.abc import Iterable
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def roots() -> list[Path]:
    """The configured roots, resolved; the default one is created when missing."""
    configured = settings.CONNECTOR_FILE_ROOTS
    if isinstance(configured, str):
        configured = [part.strip() for part in configured.split(",") if part.strip()]
    if configured:
        return [_real(Path(root)) for root in configured if os.path.isabs(root)]
    default = _default_root()
    default.mkdir(parents=True, exist_ok=True, mode=0o700)
    return [_real(default)]


def drop_folder(value: str) -> Path:
    """The real path of the drop folder `value` names (absolute, or relative to the first
    root); ValidationError keyed ``config.folder`` when it is not one the connector may use."""
    allowed = roots()
    path = _path(value, "config.folder")
    if not path.is_absolute():
        if not allowed:
            raise _error("config.folder", _("No CONNECTOR_FILE_ROOTS is configured."))
        path = allowed[0] / path
    real = _real(path)
    if not any(_within(real, root) for root in allowed):
        listed = ", ".join(str(root) for root in allowed)
        raise _error(
            "config.folder",
            _("%(folder)s is outside the drop folders' roots (CONNECTOR_FILE_ROOTS: %(roots)s).")
            % {"folder": value, "roots": listed},
        )
    if _touches_own_files(real):
        raise _error(
            "config.folder",
            _("%(folder)s is, holds or lies inside the CRM's own files.") % {"folder": value},
        )
    if not real.is_dir():
        raise _error("config.folder", _("%(folder)s is not a folder.") % {"folder": value})
    return real


def file_pattern(value: str) -> str:
    """A file-name pattern (``*.csv``): no folder part, so it matches only the folder's own
    files and never the done and failed folders' ones."""
    if not value or any(mark in value for mark in ("/", "\\", "\0")) or value in {".", ".."}:
        raise _error(
            "config.pattern",
            _("Give a file-name pattern such as *.csv, without a folder or '..'."),
        )
    return value


def subfolder(folder: Path, value: str | None, *, default: str, key: str) -> Path:
    """The real path of the done or failed folder: `value` (relative to the drop folder, or
    absolute inside it) or `default`; ValidationError keyed `key` when it would leave it."""
    path = _path(value or default, key)
    real = _real(path if path.is_absolute() else folder / path)
    if not _within(real, folder) or real == folder:
        raise _error(
            key,
            _("%(name)s must be a folder inside the drop folder (such as %(default)s).")
            % {"name": value or default, "default": default},
        )
    return real


def inside(path: Path, folder: Path) -> bool:
    """Whether `path`, every link followed, is `folder` or lies in it."""
    return _within(_real(path), folder)


def _path(value: str, key: str) -> Path:
    if "\0" in value:
        raise _error(key, _("The path contains a NUL character."))
    path = Path(value)
    if ".." in path.parts:
        raise _error(key, _("The path must not contain '..'."))
    return path


def _touches_own_files(real: Path) -> bool:
    default_root = _real(_default_root())
    if _within(real, default_root):
        return False
    return any(
        _within(own, real) or _within(real, own) for own in _own_folders() if own is not None
    )


def _own_folders() -> Iterable[Path | None]:
    for name in ("BASE_DIR", "VAR_DIR", "MEDIA_ROOT", "STATIC_ROOT"):
        value = getattr(settings, name, None)
        yield _real(Path(value)) if value else None


def _default_root() -> Path:
    return Path(settings.VAR_DIR) / "drop"


def _real(path: Path) -> Path:
    return Path(os.path.realpath(path))


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _error(key: str, message: str) -> ValidationError:
    return ValidationError({key: message})
