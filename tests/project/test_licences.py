"""The project is AGPL-3.0-or-later, and no dependency may come in under a licence that forbids
it: `scripts/check_licences.py` (run by `make lint`) reads every installed dependency's metadata
and fails on one it cannot clear; the README's table is its output."""

import hashlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.licenses import canonicalize_license_expression

BASE_DIR = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(BASE_DIR / "scripts"))
import check_licences  # noqa: E402

# sha256 of the FSF's agpl-3.0.txt (https://www.gnu.org/licenses/agpl-3.0.txt), 34,523 bytes.
FSF_AGPL_SHA256 = "8486a10c4393cee1c25392769ddd3b2d6c242d6ec7928e1414efff7dfb2f07ef"

BSD_2_CLAUSE = """Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:
1. Redistributions of source code must retain the above copyright notice.
2. Redistributions in binary form must reproduce the above copyright notice."""
BSD_4_CLAUSE = (
    BSD_2_CLAUSE
    + """
3. All advertising materials mentioning features or use of this software
   must display the following acknowledgement: This product includes software
   developed by the organization.
4. Neither the name of the copyright holder nor the names of its contributors
   may be used to endorse or promote products derived from this software."""
)


def fake_dist(site: Path, name: str, version: str = "1.0", *lines: str, licence_text: str = ""):
    """A minimal installed distribution: its METADATA (and a licence file listed in RECORD)."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    header = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *lines]
    (info / "METADATA").write_text("\n".join(header) + "\n\n")
    record = [f"{info.name}/METADATA,,"]
    if licence_text:
        (info / "licenses").mkdir()
        (info / "licenses" / "LICENSE").write_text(licence_text)
        record.append(f"{info.name}/licenses/LICENSE,,")
    (info / "RECORD").write_text("\n".join(record) + "\n")


@pytest.fixture
def run_check(tmp_path, capsys):
    """Runs the check on requirements written to tmp_path, with distributions from
    tmp_path/site and the allow-list tmp_path/allow.toml: (exit code, stdout, stderr)."""

    def run(requirements: str, *args: str) -> tuple[int, str, str]:
        (tmp_path / "requirements.txt").write_text(requirements)
        allow_list = tmp_path / "allow.toml"
        if not allow_list.exists():
            allow_list.write_text("")
        argv = ["--runtime", str(tmp_path / "requirements.txt")]
        argv += ["--path", str(tmp_path / "site"), "--allow-list", str(allow_list), *args]
        code = check_licences.main(argv)
        return code, *capsys.readouterr()

    return run


def test_every_dependency_of_the_project_has_a_licence_compatible_with_agpl():
    result = subprocess.run(
        [sys.executable, "scripts/check_licences.py"],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "all compatible with AGPL-3.0-or-later" in result.stdout


def test_the_readme_table_is_what_the_check_reads_from_the_installed_dependencies():
    readme = (BASE_DIR / "README.md").read_text(encoding="utf-8")
    start = readme.index(check_licences.TABLE_START) + len(check_licences.TABLE_START)
    table = readme[start : readme.index(check_licences.TABLE_END)]

    dependencies = check_licences.check(
        [BASE_DIR / "requirements.txt"],
        [BASE_DIR / "requirements-dev.txt"],
        None,
        check_licences.ALLOW_LIST,
    )

    assert table == "\n" + check_licences.markdown(dependencies), (
        "README's dependency table is stale: run scripts/check_licences.py --update-readme"
    )
    rows = {d.name: d for d in dependencies}
    assert rows["spyne"].licence.startswith("LGPL") and rows["psycopg"].licence.startswith("LGPL")
    assert rows["Django"].needed_for == "runtime" and rows["pytest"].needed_for == "development"


@pytest.mark.parametrize(
    ("metadata", "named"),
    [
        (["License-Expression: SSPL-1.0"], "SSPL-1.0"),
        (["License-Expression: CC-BY-NC-4.0"], "CC-BY-NC-4.0"),
        (["License-Expression: MIT AND BUSL-1.1"], "MIT AND BUSL-1.1"),
        (["License: GPLv2"], "GPL-2.0-only"),
        (["License: GPL-2.0"], "GPL-2.0-only"),  # deprecated SPDX id: the narrower grant
        (["License: JSON"], "JSON"),
        (["Classifier: License :: Other/Proprietary License"], "LicenseRef-Proprietary"),
        (["License: Free for non-commercial use"], "declares no licence"),
        ([], "declares no licence"),
    ],
)
def test_a_dependency_whose_licence_is_not_compatible_fails_the_check(
    tmp_path, run_check, metadata, named
):
    fake_dist(tmp_path / "site", "shinylib", "2.0", *metadata)

    code, out, err = run_check("shinylib==2.0\n")

    assert code == 1
    assert "shinylib 2.0 (runtime): " in err and named in err
    assert "record it with a reason in allow.toml" in err  # says how to clear it


def test_a_bsd_licence_with_the_advertising_clause_fails_and_is_named_so(tmp_path, run_check):
    classifier = "Classifier: License :: OSI Approved :: BSD License"
    fake_dist(tmp_path / "site", "oldlib", "1.0", "License: BSD", licence_text=BSD_4_CLAUSE)
    fake_dist(tmp_path / "site", "newlib", "1.0", classifier, licence_text=BSD_2_CLAUSE)

    code, out, err = run_check("oldlib\nnewlib\n")

    assert code == 1
    assert "oldlib 1.0 (runtime): BSD-4-Clause" in err
    assert "newlib" not in err  # two clauses, no advertising: BSD-2-Clause


def test_a_dependency_of_a_dependency_is_checked_too_extras_included(tmp_path, run_check):
    site = tmp_path / "site"
    requires = ["Requires-Dist: middle>=1", "Requires-Dist: turbo; extra == 'fast'"]
    fake_dist(site, "app", "1.0", "License-Expression: MIT", *requires)
    fake_dist(site, "middle", "1.0", "License: Apache 2.0", "Requires-Dist: deep")
    fake_dist(site, "deep", "1.0", "License-Expression: SSPL-1.0")
    fake_dist(site, "turbo", "1.0", "License-Expression: LicenseRef-Proprietary")

    code, out, err = run_check("app\n")
    assert code == 1
    assert "deep 1.0 (runtime): SSPL-1.0" in err and "turbo" not in err

    code, out, err = run_check("app[fast]\n")
    assert "turbo 1.0 (runtime): LicenseRef-Proprietary" in err


def test_compatible_licences_and_alternatives_pass_and_make_the_table(tmp_path, run_check):
    site = tmp_path / "site"
    fake_dist(site, "dual", "1.0", "License-Expression: SSPL-1.0 OR MIT")
    fake_dist(site, "lesser", "1.0", "License: LGPLv3")
    fake_dist(site, "words", "1.0", "License: BSD 3-Clause OR Apache-2.0")
    fake_dist(site, "exception", "1.0", "License-Expression: Apache-2.0 WITH LLVM-exception")
    fake_dist(
        site,
        "mozilla",
        "1.0",
        "Classifier: License :: OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)",
    )

    code, out, err = run_check("dual\nlesser\nwords\nexception\nmozilla\n", "--markdown")

    assert code == 0, err
    assert out.splitlines()[2:] == [
        "| dual | SSPL-1.0 OR MIT | runtime | License-Expression |",
        "| exception | Apache-2.0 WITH LLVM-exception | runtime | License-Expression |",
        "| lesser | LGPL-3.0-only | runtime | License field |",
        "| mozilla | MPL-2.0 | runtime | classifiers |",
        "| words | BSD-3-Clause OR Apache-2.0 | runtime | License field |",
    ]


def test_a_reviewed_entry_clears_a_package_for_the_version_checked_only(tmp_path, run_check):
    fake_dist(tmp_path / "site", "quiet", "1.0")
    (tmp_path / "allow.toml").write_text(
        '[[package]]\nname = "quiet"\nversion = "1.0"\nlicence = "MIT"\n'
        'reason = "No licence metadata; the sdist LICENSE is the MIT text."\n'
    )

    code, out, err = run_check("quiet\n", "--markdown")
    assert code == 0, err
    assert "| quiet | MIT | runtime | reviewed by hand |" in out

    (tmp_path / "site" / "quiet-1.0.dist-info").rename(tmp_path / "site" / "quiet-1.1.dist-info")
    metadata = tmp_path / "site" / "quiet-1.1.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("Version: 1.0", "Version: 1.1"))
    code, out, err = run_check("quiet\n")
    assert code == 1
    assert "quiet 1.1 (runtime): reviewed for version 1.0, installed 1.1: review it again" in err


def test_an_allow_list_entry_without_a_reason_or_for_no_dependency_is_refused(tmp_path, run_check):
    fake_dist(tmp_path / "site", "quiet", "1.0", "License-Expression: MIT")
    (tmp_path / "allow.toml").write_text(
        '[[package]]\nname = "quiet"\nversion = "1.0"\nlicence = "MIT"\n'
    )
    code, out, err = run_check("quiet\n")
    assert code == 1 and "an entry lacks reason" in err

    (tmp_path / "allow.toml").write_text(
        '[[package]]\nname = "gone"\nversion = "1.0"\nlicence = "MIT"\nreason = "checked"\n'
    )
    code, out, err = run_check("quiet\n")
    assert code == 1 and "lists what is no longer a dependency: gone" in err


def test_a_requirement_that_is_not_installed_cannot_be_cleared(tmp_path, run_check):
    (tmp_path / "site").mkdir()

    code, out, err = run_check("# a comment\nghost==1.0  # pinned\n")

    assert code == 1
    assert "not installed, so their licences cannot be read: ghost==1.0" in err


def test_pyproject_declares_agpl_3_or_later_and_license_is_the_fsf_text():
    project = tomllib.loads((BASE_DIR / "pyproject.toml").read_text())["project"]
    licence = (BASE_DIR / "LICENSE").read_bytes()

    assert project["license"] == "AGPL-3.0-or-later"
    assert canonicalize_license_expression(project["license"]) == "AGPL-3.0-or-later"
    assert project["license-files"] == ["LICENSE"]
    assert hashlib.sha256(licence).hexdigest() == FSF_AGPL_SHA256
    assert len(licence) == 34_523


def test_make_lint_runs_the_licence_check():
    result = subprocess.run(
        ["make", "-n", "lint"], cwd=BASE_DIR, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert ".venv/bin/python scripts/check_licences.py" in result.stdout
