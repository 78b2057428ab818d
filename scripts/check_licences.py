"""Check that every dependency's licence lets the CRM be distributed under AGPL-3.0-or-later.

Reads the installed distributions' metadata (PEP 639 ``License-Expression``, else ``License``,
else the trove classifiers, a BSD licence told apart by its text) for every requirement in
``requirements.txt`` (runtime) and ``requirements-dev.txt`` (development) and for everything
they require in turn, as resolved from the installed packages (markers and extras applied).
A licence that is not known to be compatible fails the check (exit 1), an unknown or missing
one included, unless ``scripts/licence-allow-list.toml`` records a hand-checked licence for that
exact version with a reason.

Usage: python scripts/check_licences.py [--markdown | --update-readme]
           [--runtime FILE ...] [--dev FILE ...] [--path DIR ...] [--allow-list FILE]
"""

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import Distribution, distributions
from pathlib import Path

from packaging.licenses import InvalidLicenseExpression, canonicalize_license_expression
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

BASE_DIR = Path(__file__).resolve().parent.parent
ALLOW_LIST = BASE_DIR / "scripts" / "licence-allow-list.toml"
README = BASE_DIR / "README.md"
TABLE_START = "<!-- dependency-licences:start (scripts/check_licences.py --update-readme) -->"
TABLE_END = "<!-- dependency-licences:end -->"
PROJECT_LICENCE = "AGPL-3.0-or-later"

# Licences whose code may be combined with, and distributed in, an AGPL-3.0-or-later work:
# permissive ones, the weak copylefts (MPL-2.0 allows the GPL family as secondary licence; any
# LGPL may be conveyed under the GPL v3), and the GPL family from version 3 on (AGPL section 13
# allows combining with GPL-3.0). GPL-2.0-only is not: it forbids the extra AGPL terms.
COMPATIBLE = frozenset(
    {
        "0BSD",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
        "Apache-2.0",
        "BSD-2-Clause",
        "BSD-3-Clause",
        "BSL-1.0",
        "CC0-1.0",
        "GPL-2.0-or-later",
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "HPND",
        "ISC",
        "LGPL-2.0-only",
        "LGPL-2.0-or-later",
        "LGPL-2.1-only",
        "LGPL-2.1-or-later",
        "LGPL-3.0-only",
        "LGPL-3.0-or-later",
        "MIT",
        "MIT-0",
        "MPL-2.0",
        "PSF-2.0",
        "Python-2.0",
        "Unicode-3.0",
        "Unicode-DFS-2016",
        "Unlicense",
        "X11",
        "Zlib",
    }
)

# SPDX identifiers deprecated for being ambiguous: read as the narrower grant ("only").
_DEPRECATED = {
    f"{family}-{version}{plus}": f"{family}-{version}-{'or-later' if plus else 'only'}"
    for family, versions in {
        "GPL": ("1.0", "2.0", "3.0"),
        "LGPL": ("2.0", "2.1", "3.0"),
        "AGPL": ("1.0", "3.0"),
    }.items()
    for version in versions
    for plus in ("", "+")
}

# What a free-form ``License`` field commonly says (lower case, "license" dropped at the end).
# "BSD" alone names a family: its text says which (see _bsd_variant).
_ALIASES = {
    "mit": "MIT",
    "expat": "MIT",
    "bsd": "BSD",
    "new bsd": "BSD-3-Clause",
    "modified bsd": "BSD-3-Clause",
    "revised bsd": "BSD-3-Clause",
    "bsd 3-clause": "BSD-3-Clause",
    "3-clause bsd": "BSD-3-Clause",
    "simplified bsd": "BSD-2-Clause",
    "bsd 2-clause": "BSD-2-Clause",
    "2-clause bsd": "BSD-2-Clause",
    "apache 2.0": "Apache-2.0",
    "apache 2": "Apache-2.0",
    "apache license 2.0": "Apache-2.0",
    "apache license, version 2.0": "Apache-2.0",
    "psf": "PSF-2.0",
    "psfl": "PSF-2.0",
    "python software foundation": "PSF-2.0",
    "mpl 2.0": "MPL-2.0",
    "mozilla public license 2.0": "MPL-2.0",
    "lgplv3": "LGPL-3.0-only",
    "lgplv3+": "LGPL-3.0-or-later",
    "lgplv2.1": "LGPL-2.1-only",
    "lgplv2.1+": "LGPL-2.1-or-later",
    "gplv2": "GPL-2.0-only",
    "gplv2+": "GPL-2.0-or-later",
    "gplv3": "GPL-3.0-only",
    "gplv3+": "GPL-3.0-or-later",
    "agplv3": "AGPL-3.0-only",
    "agplv3+": "AGPL-3.0-or-later",
    "isc": "ISC",
    "zlib": "Zlib",
    "unlicense": "Unlicense",
}

_CLASSIFIERS = {
    "License :: OSI Approved :: MIT License": "MIT",
    "License :: OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "License :: OSI Approved :: BSD License": "BSD",
    "License :: OSI Approved :: Apache Software License": "Apache-2.0",
    "License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "License :: OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "License :: OSI Approved :: ISC License (ISCL)": "ISC",
    "License :: OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "License :: OSI Approved :: zlib/libpng License": "Zlib",
    "License :: OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "License :: OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": (
        "LGPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "License :: OSI Approved :: GNU General Public License v2 or later (GPLv2+)": (
        "GPL-2.0-or-later"
    ),
    "License :: OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "License :: OSI Approved :: GNU General Public License v3 or later (GPLv3+)": (
        "GPL-3.0-or-later"
    ),
    "License :: OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "License :: OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": (
        "AGPL-3.0-or-later"
    ),
    "License :: Other/Proprietary License": "LicenseRef-Proprietary",
}

_LICENCE_FILE = re.compile(r"(LICEN[CS]E|COPYING)", re.IGNORECASE)
_MAX_TEXT = 200_000  # characters of a licence file read: enough for any licence text


@dataclass
class Dependency:
    name: str
    version: str
    needed_for: str  # "runtime" or "development"
    licence: str  # an SPDX expression, or "" when none could be read
    read_from: str  # which metadata said so
    problem: str = ""  # why it is not compatible; empty when it is


class CheckError(Exception):
    """The inputs themselves are wrong (a requirement not installed, a bad allow-list)."""


def read_requirements(path: Path, seen: set[Path] | None = None) -> list[Requirement]:
    """Requirements of a pip requirements file, following ``-r`` includes; options skipped."""
    seen = set() if seen is None else seen
    path = path.resolve()
    if path in seen:
        return []
    seen.add(path)
    requirements = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            included = path.parent / line.split(None, 1)[1].strip()
            requirements += read_requirements(included, seen)
        elif not line.startswith("-"):
            try:
                requirements.append(Requirement(line))
            except InvalidRequirement as error:
                raise CheckError(f"{path.name}: cannot read {line!r}: {error}") from None
    return requirements


def installed(paths: list[str] | None) -> dict[str, Distribution]:
    """Installed distributions by normalised name; the first on the path wins, as for imports."""
    found: dict[str, Distribution] = {}
    for dist in distributions(**({"path": paths} if paths else {})):
        name = dist.metadata["Name"]
        if name:
            found.setdefault(canonicalize_name(name), dist)
    return found


def closure(
    roots: list[Requirement], dists: dict[str, Distribution]
) -> tuple[dict[str, Distribution], list[str]]:
    """Every distribution the roots need at run time, transitively (extras and markers applied),
    and the requirements that are not installed."""
    needed: dict[str, Distribution] = {}
    extras_seen: dict[str, set[str]] = {}
    missing: list[str] = []
    queue = [(req, "") for req in roots]
    while queue:
        requirement, extra = queue.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        key = canonicalize_name(requirement.name)
        dist = dists.get(key)
        if dist is None:
            missing.append(str(requirement))
            continue
        new_extras = {""} | set(requirement.extras)
        known = extras_seen.setdefault(key, set())
        if key in needed and new_extras <= known:
            continue
        needed[key] = dist
        for wanted in sorted(new_extras - known):
            queue += [(Requirement(text), wanted) for text in dist.requires or ()]
        known |= new_extras
    return needed, missing


def licence_texts(dist: Distribution) -> str:
    """The licence files a distribution ships in its metadata folder (and a long ``License``
    field, which some put the whole text in)."""
    texts = []
    field = dist.metadata.get("License") or ""
    if "\n" in field.strip() or len(field) > 80:
        texts.append(field)
    for file in dist.files or ():
        if ".dist-info" in str(file) and _LICENCE_FILE.search(file.name):
            try:
                texts.append(dist.read_text(str(file).split(".dist-info/", 1)[1]) or "")
            except (OSError, UnicodeDecodeError):
                continue
    return "\n".join(texts)[:_MAX_TEXT]


def _bsd_variant(text: str) -> str:
    """Which BSD licence a text is: the advertising clause makes it 4-clause (incompatible), the
    endorsement clause 3-clause; "" when there is no BSD text to tell."""
    lowered = " ".join(text.lower().split())
    if "redistribution and use in source and binary forms" not in lowered:
        return ""
    if "all advertising materials" in lowered:
        return "BSD-4-Clause"
    if "endorse or promote" in lowered:
        return "BSD-3-Clause"
    return "BSD-2-Clause"


def _canonical(expression: str) -> str:
    """An SPDX expression in canonical form with deprecated identifiers made explicit; ""
    when it is not one."""
    try:
        canonical = canonicalize_license_expression(expression)
    except InvalidLicenseExpression:
        return ""
    return " ".join(_DEPRECATED.get(token, token) for token in canonical.split(" "))


def _from_words(field: str) -> str:
    """A short ``License`` field as an SPDX expression: an expression already, or aliases
    joined by OR/AND ("BSD 3-Clause OR Apache-2.0")."""
    if not field or "\n" in field.strip() or len(field) > 80:
        return ""
    canonical = _canonical(field)
    if canonical:
        return canonical
    parts = re.split(r"\s+(OR|AND)\s+", field.strip())
    mapped = []
    for index, part in enumerate(parts):
        if index % 2:
            mapped.append(part)
            continue
        key = re.sub(r"\s+", " ", part.strip().lower())
        key = re.sub(r"^the |\s*licen[cs]e$", "", key)
        alias = _ALIASES.get(key) or _canonical(part.strip())
        if not alias:
            return ""
        mapped.append(alias)
    return " ".join(mapped)


def declared_licence(dist: Distribution) -> tuple[str, str]:
    """(SPDX expression, where it was read): ``License-Expression``, else the ``License`` field,
    else the classifiers (alternatives when the field says "dual", else all of them apply);
    a bare "BSD" is told apart by its licence text. ("", "nothing") when none says."""
    metadata = dist.metadata
    expression = metadata.get("License-Expression")
    if expression:
        return (_canonical(expression) or expression), "License-Expression"
    field = (metadata.get("License") or "").strip()
    licence, read_from = _from_words(field), "License field"
    if not licence:
        classified = [
            _CLASSIFIERS.get(c, "LicenseRef-Unrecognised")
            for c in metadata.get_all("Classifier") or []
            if c.startswith("License ::")
        ]
        joiner = " OR " if "dual" in field.lower() else " AND "
        licence, read_from = joiner.join(dict.fromkeys(classified)), "classifiers"
    if not licence:
        return "", "nothing"
    if "BSD" in licence.split(" "):
        variant = _bsd_variant(licence_texts(dist))
        licence = " ".join(
            (variant or "LicenseRef-BSD-unknown-variant") if token == "BSD" else token
            for token in licence.split(" ")
        )
        read_from += " + licence text"
    return licence, read_from


def compatible(expression: str) -> bool:
    """Whether an SPDX expression is compatible: an OR needs one compatible branch, an AND all
    of its parts. Exceptions (WITH) only add permissions, so the licence alone decides."""
    tokens = re.findall(r"\(|\)|[^\s()]+", expression)
    position = 0

    def parse_or() -> bool:
        nonlocal position
        result = parse_and()
        while position < len(tokens) and tokens[position].upper() == "OR":
            position += 1
            result = parse_and() or result
        return result

    def parse_and() -> bool:
        nonlocal position
        result = parse_atom()
        while position < len(tokens) and tokens[position].upper() == "AND":
            position += 1
            result = parse_atom() and result
        return result

    def parse_atom() -> bool:
        nonlocal position
        if position >= len(tokens):
            raise ValueError(expression)
        token = tokens[position]
        position += 1
        if token == "(":
            result = parse_or()
            if position >= len(tokens) or tokens[position] != ")":
                raise ValueError(expression)
            position += 1
            return result
        if position < len(tokens) and tokens[position].upper() == "WITH":
            position += 2
        return token in COMPATIBLE

    try:
        result = parse_or()
    except ValueError:
        return False
    return result and position == len(tokens)


def read_allow_list(path: Path) -> dict[str, dict]:
    """Reviewed entries by normalised name. Each must name the version it was checked for, the
    licence found by hand and the reason, so an upgrade is reviewed again."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise CheckError(f"{path.name}: {error}") from None
    entries = {}
    for entry in data.get("package", []):
        blank = [key for key in ("name", "version", "licence", "reason") if not entry.get(key)]
        if blank:
            raise CheckError(f"{path.name}: an entry lacks {', '.join(blank)}: {entry}")
        entries[canonicalize_name(entry["name"])] = entry
    return entries


def check(
    runtime: list[Path], dev: list[Path], paths: list[str] | None, allow_list: Path
) -> list[Dependency]:
    dists = installed(paths)
    reviewed = read_allow_list(allow_list)
    found: dict[str, Dependency] = {}
    missing: list[str] = []
    for needed_for, files in (("runtime", runtime), ("development", dev)):
        roots = [req for file in files for req in read_requirements(file)]
        needed, not_installed = closure(roots, dists)
        missing += not_installed
        for key, dist in needed.items():
            if key not in found:
                found[key] = _dependency(dist, needed_for, reviewed.pop(key, None))
    if missing:
        raise CheckError(
            "not installed, so their licences cannot be read: " + ", ".join(sorted(set(missing)))
        )
    if reviewed:
        raise CheckError(
            f"{allow_list.name} lists what is no longer a dependency: "
            + ", ".join(sorted(entry["name"] for entry in reviewed.values()))
            + " (remove the entries)"
        )
    order = {"runtime": 0, "development": 1}
    return sorted(found.values(), key=lambda d: (order[d.needed_for], d.name.lower()))


def _dependency(dist: Distribution, needed_for: str, reviewed: dict | None) -> Dependency:
    name, version = dist.metadata["Name"], dist.version
    if reviewed and reviewed["version"] == version:
        return Dependency(name, version, needed_for, reviewed["licence"], "reviewed by hand")
    licence, read_from = declared_licence(dist)
    dependency = Dependency(name, version, needed_for, licence, read_from)
    if reviewed:
        dependency.problem = (
            f"reviewed for version {reviewed['version']}, installed {version}: review it again"
        )
    elif not licence:
        dependency.problem = "its metadata declares no licence"
    elif not compatible(licence):
        dependency.problem = (
            f"{licence} (read from {read_from}) is not known to be compatible with "
            f"{PROJECT_LICENCE}"
        )
    return dependency


def markdown(dependencies: list[Dependency]) -> str:
    rows = ["| Package | Licence | Needed for | Read from |", "|---|---|---|---|"]
    rows += [
        f"| {d.name} | {d.licence.replace('|', '/')} | {d.needed_for} | {d.read_from} |"
        for d in dependencies
    ]
    return "\n".join(rows) + "\n"


def update_readme(table: str, readme: Path = README) -> bool:
    """Replace the table between the README's markers; True when it changed."""
    text = readme.read_text(encoding="utf-8")
    start, end = text.index(TABLE_START) + len(TABLE_START), text.index(TABLE_END)
    updated = text[:start] + "\n" + table + text[end:]
    if updated != text:
        readme.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--markdown", action="store_true", help="print the README's table")
    output.add_argument("--update-readme", action="store_true", help="rewrite the README's table")
    parser.add_argument("--runtime", action="append", type=Path, help="runtime requirements")
    parser.add_argument("--dev", action="append", type=Path, help="development requirements")
    parser.add_argument(
        "--path", action="append", help="look for distributions here, not on sys.path"
    )
    parser.add_argument("--allow-list", type=Path, default=ALLOW_LIST)
    args = parser.parse_args(argv)
    runtime = args.runtime or [BASE_DIR / "requirements.txt"]
    dev = args.dev or ([] if args.runtime else [BASE_DIR / "requirements-dev.txt"])
    try:
        dependencies = check(runtime, dev, args.path, args.allow_list)
    except CheckError as error:
        print(f"check_licences: {error}", file=sys.stderr)
        return 1
    problems = [d for d in dependencies if d.problem]
    for d in problems:
        print(f"{d.name} {d.version} ({d.needed_for}): {d.problem}", file=sys.stderr)
    if problems:
        print(
            f"check_licences: {len(problems)} dependenc{'y' if len(problems) == 1 else 'ies'} "
            f"not cleared for {PROJECT_LICENCE}. Replace each, or check its licence by hand and "
            f"record it with a reason in {args.allow_list.name}.",
            file=sys.stderr,
        )
        return 1
    if args.markdown:
        print(markdown(dependencies), end="")
    elif args.update_readme:
        changed = update_readme(markdown(dependencies))
        print(f"README.md {'updated' if changed else 'already current'}")
    else:
        count = len(dependencies)
        print(f"check_licences: {count} dependencies, all compatible with {PROJECT_LICENCE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
