"""The AGPL's "Appropriate Legal Notices": every page names the licence, links it and offers the
running code's source, to visitors signed in or not; the source download holds the project's
files and none of its local state or secrets."""

import html
import io
import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from crm_project import source_archive
from crm_project.source_archive import open_source_archive, source_files

LICENCE = (Path(settings.BASE_DIR) / "LICENSE").read_text(encoding="utf-8")


def footer_links(body: str) -> set[str]:
    footer = re.search(r'<p class="legal-notice[^"]*">(.*?)</p>', body, re.S)
    assert footer, "no legal notice on the page"
    return set(re.findall(r'href="([^"#]+)', footer.group(1)))


@pytest.fixture(autouse=True)
def fresh_walks():
    """Each test sees the tree as it leaves it: no walk remembered from another test."""
    source_archive._last_walk.clear()
    yield
    source_archive._last_walk.clear()


@pytest.mark.django_db
def test_the_login_page_names_the_licence_and_links_it_and_the_source(client):
    body = client.get(reverse("web:login")).content.decode()

    assert "free software under the GNU AGPL v3 or later" in body
    assert footer_links(body) == {reverse("web:legal-licence"), reverse("web:legal-source")}
    assert f'href="{reverse("web:legal-licence")}#no-warranty">no warranty' in body


def test_a_signed_in_page_carries_the_notice_too_in_chinese(sales_client):
    body = sales_client.get(reverse("web:dashboard"), HTTP_ACCEPT_LANGUAGE="zh-hans")

    text = body.content.decode()
    assert "自由软件，依 GNU AGPL 第 3 版或更高版本授权" in text
    assert ">源代码</a>" in text and ">许可证</a>" in text and ">无任何担保</a>" in text
    assert footer_links(text) == {reverse("web:legal-licence"), reverse("web:legal-source")}


@pytest.mark.django_db
def test_the_admin_pages_carry_the_notice(client, admin_user):
    login_page = client.get(reverse("admin:login")).content.decode()
    client.force_login(admin_user)
    index = client.get(reverse("admin:index")).content.decode()

    for body in (login_page, index):
        assert footer_links(body) == {reverse("web:legal-licence"), reverse("web:legal-source")}
    assert "Site administration" in index  # Django's own base_site still frames the page


@pytest.mark.django_db
def test_the_licence_page_shows_the_whole_licence_verbatim_to_anyone(client):
    response = client.get(reverse("web:legal-licence"))

    assert response.status_code == 200
    body = response.content.decode()
    shown = re.search(r'<pre class="licence-text" lang="en">(.*?)</pre>', body, re.S).group(1)
    assert html.unescape(shown) == LICENCE
    assert LICENCE.startswith("                    GNU AFFERO GENERAL PUBLIC LICENSE")
    assert 'id="no-warranty"' in body and "WITHOUT ANY WARRANTY" in body
    assert "either version 3 of the License, or (at your option) any later version" in body
    assert " style=" not in body  # the Content-Security-Policy allows no inline style


@pytest.mark.django_db
def test_the_source_download_is_the_running_code_without_local_state(client):
    response = client.get(reverse("web:legal-source"))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert 'attachment; filename="crm-source.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert {"crm/LICENSE", "crm/manage.py", "crm/requirements.txt", "crm/pyproject.toml"} <= names
    assert {"crm/customers/web/legal.py", "crm/templates/base.html"} <= names
    on_disk = (Path(settings.BASE_DIR) / "customers" / "web" / "legal.py").read_bytes()
    assert archive.read("crm/customers/web/legal.py") == on_disk
    assert not [
        name
        for name in names
        if name.startswith(("crm/var/", "crm/.venv/", "crm/.git/"))
        or name == "crm/.git"  # a worktree's pointer to its repository
        or name.endswith((".pyc", ".mo", "dev-secrets.json", ".sqlite3"))
    ]


@pytest.mark.django_db
def test_the_source_link_leads_to_source_url_when_the_operator_publishes_it(client, settings):
    settings.SOURCE_URL = "https://git.example.com/acme/crm"

    response = client.get(reverse("web:legal-source"))

    assert response.status_code == 302
    assert response["Location"] == "https://git.example.com/acme/crm"


def test_a_source_url_that_is_not_http_is_refused_at_start():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=settings.BASE_DIR,
        env={**os.environ, "SOURCE_URL": "javascript:alert(1)"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "SOURCE_URL must be an http(s) URL" in result.stderr


def make_project(root: Path, outside: Path) -> None:
    files = {
        ".gitignore": "var/\n*.pyc\n/build/\nlogs/*.log\n",
        "app.py": "",
        "sub/mod.py": "",
        "sub/.gitignore": "local_*.py\n!local_example.py\n",
        "sub/local_settings.py": "SECRET",
        "sub/local_example.py": "",
        "sub/build/keep.txt": "",  # /build/ is anchored to the root
        "build/out.txt": "",
        "logs/app.log": "",
        "logs/README": "",
        "__pycache__/app.cpython-311.pyc": "",
        "var/dev-secrets.json": "SECRET",
        "state/db.sqlite3": "SECRET",
        "state/media/upload.csv": "SECRET",
        ".env": "SECRET",
        ".env.production": "SECRET",
        "certs/server.pem": "SECRET",
        ".git/config": "",
        "env2/pyvenv.cfg": "",
        "env2/lib/site.py": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (outside / "secret.txt").write_text("SECRET")
    (root / "linked-folder").symlink_to(outside)
    (root / "linked-file.txt").symlink_to(outside / "secret.txt")


def test_without_a_gitignore_secrets_and_compiled_files_are_still_left_out(tmp_path):
    names = ["app.py", ".env", "certs/tls.key", "db.sqlite3", "__pycache__/app.cpython-311.pyc"]
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("SECRET")

    assert [path.name for path in source_files(tmp_path)] == ["app.py"]


def test_source_files_leave_out_ignored_files_state_secrets_virtualenvs_and_links(tmp_path):
    root, outside = tmp_path / "project", tmp_path / "elsewhere"
    root.mkdir()
    outside.mkdir()
    make_project(root, outside)

    found = source_files(root, left_out=[root / "state" / "media"])

    assert {path.relative_to(root).as_posix() for path in found} == {
        ".gitignore",
        "app.py",
        "logs/README",
        "sub/.gitignore",
        "sub/build/keep.txt",
        "sub/local_example.py",
        "sub/mod.py",
    }


def test_the_archive_is_built_once_per_state_of_the_files(tmp_path, monkeypatch):
    monkeypatch.setattr(source_archive, "REWALK_AFTER_SECONDS", 0)  # every call looks again
    root, cache = tmp_path / "project", tmp_path / "cache"
    root.mkdir()
    (root / "app.py").write_text("VERSION = 1\n")

    with open_source_archive(root, cache_dir=cache) as first:
        first_name = Path(first.name).name
    with open_source_archive(root, cache_dir=cache) as again:
        assert Path(again.name).name == first_name
    (root / "app.py").write_text("VERSION = 2  # changed\n")
    with open_source_archive(root, cache_dir=cache) as changed:
        assert zipfile.ZipFile(changed).read("crm/app.py") == b"VERSION = 2  # changed\n"

    assert [path.name for path in cache.iterdir()] == [Path(changed.name).name]
    assert Path(changed.name).name != first_name


def test_within_a_minute_of_a_walk_the_same_archive_is_served_without_walking_again(tmp_path):
    """The page is public: a flood of requests costs one walk of the tree a minute, not one
    each (a change is offered at the latest a minute later)."""
    root, cache = tmp_path / "project", tmp_path / "cache"
    root.mkdir()
    (root / "app.py").write_text("VERSION = 1\n")
    with open_source_archive(root, cache_dir=cache) as first:
        first_name = Path(first.name).name

    (root / "app.py").write_text("VERSION = 2  # changed\n")
    with open_source_archive(root, cache_dir=cache) as soon_after:
        assert Path(soon_after.name).name == first_name
        assert zipfile.ZipFile(soon_after).read("crm/app.py") == b"VERSION = 1\n"
