"""Compile every ``locale/*/LC_MESSAGES/*.po`` into its ``.mo``, in pure Python (a msgfmt
equivalent: GNU gettext may be absent on a fresh machine). ``.mo`` files are generated, never
committed. Skips a catalogue whose ``.mo`` is newer than its ``.po``.

Usage: python scripts/compile_messages.py [--force] [LOCALE_DIR ...]
"""

import ast
import struct
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def parse_po(text: str) -> dict[bytes, bytes]:
    """Message id -> translation, as msgfmt stores them (context joined by \\x04, plural forms
    by \\x00). Fuzzy and untranslated entries are left out, as msgfmt does by default."""
    catalog: dict[bytes, bytes] = {}
    entry: dict[str, list[str]] = {}
    section = ""
    fuzzy = next_fuzzy = False

    def finish() -> None:
        nonlocal entry, fuzzy
        if "msgid" in entry and not fuzzy:
            _add(catalog, entry)
        entry, fuzzy = {}, False

    for raw_line in text.splitlines():
        line = raw_line.strip()
        if line.startswith("#,"):
            next_fuzzy = next_fuzzy or "fuzzy" in line
            continue
        if not line or line.startswith("#"):
            continue
        if line.startswith('"'):
            entry[section].append(ast.literal_eval(line))
            continue
        keyword, _, rest = line.partition(" ")
        has_translation = any(name.startswith("msgstr") for name in entry)
        starts_entry = keyword == "msgctxt" or (keyword == "msgid" and has_translation)
        if starts_entry and entry:
            finish()
        if starts_entry:
            fuzzy, next_fuzzy = next_fuzzy, False
        section = keyword
        entry[section] = [ast.literal_eval(rest.strip())]
    finish()
    return catalog


def _add(catalog: dict[bytes, bytes], entry: dict[str, list[str]]) -> None:
    msgid = "".join(entry["msgid"])
    if "msgid_plural" in entry:
        forms = [
            "".join(entry[key])
            for key in sorted(
                (k for k in entry if k.startswith("msgstr[")), key=lambda k: int(k[7:-1])
            )
        ]
        if not any(forms):
            return
        key = msgid + "\0" + "".join(entry["msgid_plural"])
        value = "\0".join(forms)
    else:
        value = "".join(entry.get("msgstr", []))
        key = msgid
        if not value:
            return
    if "msgctxt" in entry:
        key = "".join(entry["msgctxt"]) + "\x04" + key
    catalog[key.encode()] = value.encode()


def write_mo(catalog: dict[bytes, bytes], path: Path) -> None:
    """The GNU .mo layout: header, sorted original and translation tables, then the strings."""
    keys = sorted(catalog)
    offsets: list[tuple[int, int, int, int]] = []
    ids = strs = b""
    for key in keys:
        offsets.append((len(ids), len(key), len(strs), len(catalog[key])))
        ids += key + b"\0"
        strs += catalog[key] + b"\0"
    count = len(keys)
    key_start = 7 * 4 + 16 * count
    value_start = key_start + len(ids)
    key_table: list[int] = []
    value_table: list[int] = []
    for id_offset, id_length, str_offset, str_length in offsets:
        key_table += [id_length, id_offset + key_start]
        value_table += [str_length, str_offset + value_start]
    header = struct.pack("Iiiiiii", 0x950412DE, 0, count, 7 * 4, 7 * 4 + count * 8, 0, 0)
    body = struct.pack(f"{len(key_table)}i", *key_table)
    body += struct.pack(f"{len(value_table)}i", *value_table)
    path.write_bytes(header + body + ids + strs)


def compile_all(locale_dirs: list[Path], *, force: bool = False) -> list[Path]:
    written = []
    for locale_dir in locale_dirs:
        for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
            mo_path = po_path.with_suffix(".mo")
            fresh = mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime
            if fresh and not force:
                continue
            write_mo(parse_po(po_path.read_text(encoding="utf-8")), mo_path)
            written.append(mo_path)
    return written


def main(argv: list[str]) -> int:
    force = "--force" in argv
    dirs = [Path(arg) for arg in argv if arg != "--force"] or [BASE_DIR / "locale"]
    for path in compile_all(dirs, force=force):
        print(f"compiled {path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
