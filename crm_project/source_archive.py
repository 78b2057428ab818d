"""The running code as a zip: the Corresponding Source that AGPL section 13 has us offer to every
user of the web UI. Built from the files on disk (a deployment need not have git), with what
git would not track left out, and cached until a file changes."""

import hashlib
import os
import time
import zipfile
from collections.abc import Iterable
from fnmatch import fnmatchcase
from pathlib import Path
from typing import BinaryIO

ARCHIVE_FOLDER = "crm"  # every path in the zip starts with it, as in a release tarball

# Left out whatever .gitignore says (a deployment may lack it): state and secrets that must
# never be offered to users, and compiled files that are not source.
ALWAYS_LEFT_OUT = (
    ".git",
    "__pycache__",
    "*.py[cod]",
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "*.p12",
    "*.pfx",
    "*.sqlite3",
    "*.sqlite3-*",
    "dev-secrets.json",
    "admin-credentials.txt",
)


def _ignore_patterns(folder: Path) -> list[str]:
    gitignore = folder / ".gitignore"
    if not gitignore.is_file():
        return []
    lines = gitignore.read_text(encoding="utf-8", errors="replace").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _ignored(relative: str, is_dir: bool, rules: list[tuple[str, str]]) -> bool:
    """Whether git would ignore `relative` (a path under the project) by these (folder,
    pattern) rules: the last matching pattern wins, `!` re-includes, a trailing `/` matches
    folders only, a pattern holding `/` is anchored to its .gitignore's folder."""
    name = relative.rsplit("/", 1)[-1]
    ignored = False
    for base, raw in rules:
        negated = raw.startswith("!")
        pattern = raw[1:] if negated else raw
        if pattern.endswith("/"):
            if not is_dir:
                continue
            pattern = pattern.rstrip("/")
        if "/" in pattern:
            local = relative[len(base) + 1 :] if base else relative
            if base and not relative.startswith(base + "/"):
                continue
            matched = fnmatchcase(local, pattern.lstrip("/"))
        else:
            matched = fnmatchcase(name, pattern)
        if matched:
            ignored = not negated
    return ignored


def _kept(
    path: Path, relative: str, is_dir: bool, rules: list[tuple[str, str]], excluded: set[Path]
) -> bool:
    return not (
        path.is_symlink()
        or (not is_dir and not os.access(path, os.R_OK))
        or (is_dir and (path in excluded or (path / "pyvenv.cfg").exists()))
        or _ignored(relative, is_dir, rules)
    )


def source_files(root: Path, *, left_out: Iterable[Path] = ()) -> list[Path]:
    """The project's source files, sorted: what .gitignore and ALWAYS_LEFT_OUT exclude, the
    `left_out` folders (local state such as CRM_VAR_DIR and MEDIA_ROOT), virtualenvs and
    symbolic links (which may lead anywhere) are not part of it."""
    root = root.resolve()
    excluded = {Path(path).resolve() for path in left_out}
    always = [("", pattern) for pattern in ALWAYS_LEFT_OUT]
    rules_by_folder: dict[str, list[tuple[str, str]]] = {}
    found = []
    for folder, dirnames, filenames in os.walk(root):
        here = Path(folder)
        relative_folder = here.relative_to(root).as_posix()
        relative_folder = "" if relative_folder == "." else relative_folder
        parent = relative_folder.rsplit("/", 1)[0] if "/" in relative_folder else ""
        inherited = rules_by_folder.get(parent, []) if relative_folder else always
        rules = inherited + [(relative_folder, p) for p in _ignore_patterns(here)]
        rules_by_folder[relative_folder] = rules

        prefix = f"{relative_folder}/" if relative_folder else ""
        dirnames[:] = sorted(
            name for name in dirnames if _kept(here / name, prefix + name, True, rules, excluded)
        )
        found += [
            here / name
            for name in sorted(filenames)
            if _kept(here / name, prefix + name, False, rules, excluded)
        ]
    return found


def _fingerprint(root: Path, files: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:24]


# The page is public: within this many seconds of a walk, the archive it found is served
# again without walking the tree (about 50 ms) for every anonymous request.
REWALK_AFTER_SECONDS = 60.0
_last_walk: dict[Path, tuple[float, Path]] = {}


def open_source_archive(root: Path, *, cache_dir: Path, left_out: Iterable[Path] = ()) -> BinaryIO:
    """The zip of the source as it is on disk, opened for reading. It is built once per state
    of the files (a walk of the tree, at most once a minute per process, tells the state);
    archives of earlier states are deleted, and one already opened stays readable."""
    root = root.resolve()
    walked_at, found = _last_walk.get(cache_dir, (float("-inf"), None))
    if found is not None and time.monotonic() - walked_at < REWALK_AFTER_SECONDS:
        try:
            return found.open("rb")
        except FileNotFoundError:
            pass
    files = source_files(root, left_out=[*left_out, cache_dir])
    target = cache_dir / f"crm-source-{_fingerprint(root, files)}.zip"
    _last_walk[cache_dir] = (time.monotonic(), target)
    try:
        return target.open("rb")
    except FileNotFoundError:
        pass
    cache_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    with zipfile.ZipFile(
        partial, "w", compression=zipfile.ZIP_DEFLATED, strict_timestamps=False
    ) as archive:
        for path in files:
            archive.write(path, f"{ARCHIVE_FOLDER}/{path.relative_to(root).as_posix()}")
    os.replace(partial, target)
    for stale in cache_dir.glob("crm-source-*.zip"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target.open("rb")
