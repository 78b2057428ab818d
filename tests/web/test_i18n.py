"""Translations: the committed catalogue is complete and compiles the way GNU msgfmt would."""

import gettext
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

sys.path.insert(0, str(Path(settings.BASE_DIR) / "scripts"))
from compile_messages import parse_po, write_mo  # noqa: E402

CATALOGUE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_in_the_chinese_catalogue_is_translated():
    text = CATALOGUE.read_text(encoding="utf-8")
    entries = text.count('\nmsgid "') - 1  # minus the header
    translated = len(parse_po(text)) - 1
    assert "#, fuzzy" not in text
    assert translated == entries


def test_the_pure_python_compiler_matches_gnu_msgfmt(tmp_path):
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("GNU gettext's msgfmt is not installed")
    ours, theirs = tmp_path / "ours.mo", tmp_path / "theirs.mo"
    write_mo(parse_po(CATALOGUE.read_text(encoding="utf-8")), ours)
    subprocess.run([msgfmt, "-o", str(theirs), str(CATALOGUE)], check=True)
    ours_catalog = gettext.GNUTranslations(ours.open("rb"))._catalog
    theirs_catalog = gettext.GNUTranslations(theirs.open("rb"))._catalog
    # msgfmt drops POT-Creation-Date from the header; every message is identical.
    assert {k: v for k, v in ours_catalog.items() if k} == {
        k: v for k, v in theirs_catalog.items() if k
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name",
    ["web:dashboard", "web:contact-list", "web:company-list", "web:deal-list", "web:deal-board"],
)
def test_pages_in_chinese_show_no_english_navigation_or_headings(sales_client, name):
    body = sales_client.get(reverse(name), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for english in ("Dashboard<", "Contacts<", "Log out<", "Search<", "Pipeline<", ">Apply<"):
        assert english not in body
    assert "仪表盘" in body and "退出登录" in body
