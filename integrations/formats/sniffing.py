"""Guesses made from a file's first bytes: its format, its text encoding, its CSV delimiter.

Each guess is a short rule that can be explained to the person whose file it is, and each can
be overridden by the caller (`format=`, `encoding=`, `delimiter=`).
"""

import codecs
import contextlib
import csv
import io
import os
import re

from integrations.formats.base import FormatError

EXTENSIONS = {".csv": "csv", ".tsv": "csv", ".txt": "csv", ".json": "json", ".xml": "xml"}
DELIMITERS = (",", ";", "\t", "|")  # in order of preference when several fit
_DELIMITER_SAMPLE = 16 * 1024
_MAGIC = (
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook?)"),
    (b"\xd0\xcf\x11\xe0", "an Excel .xls workbook"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
)
# Control characters that have no business in a text file (tab, LF and CR are fine).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_MAX_CONTROL_SHARE = 0.01
_ASCII_RUNS = re.compile("[\x00-\x7f]+")
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTES = re.compile(rb"[\x80-\xff]+")
_COMMON_CHINESE_SHARE = 0.8


def sniff_format(sample: bytes, name: str | None, bom_encoding: str | None) -> str:
    """`[` or `{` first is JSON, `<` is XML; otherwise the file name's extension, else CSV.

    The content wins when it is conclusive; a ".json" or ".xml" name on content that is neither
    still goes to that codec, whose error then says what is wrong with the file.
    """
    if bom_encoding and bom_encoding != "utf-8-sig":
        text = sample.decode(bom_encoding, errors="ignore")
    else:
        text = sample.removeprefix(codecs.BOM_UTF8).decode("latin-1")
    first = text.lstrip(" \t\r\n")[:1]
    if first in ("[", "{"):
        return "json"
    if first == "<":
        return "xml"
    hinted = EXTENSIONS.get(os.path.splitext(name or "")[1].lower())
    return hinted or "csv"


def check_not_binary(sample: bytes, encoding: str | None) -> None:
    for magic, what in _MAGIC:
        if sample.startswith(magic):
            raise FormatError(f"This is {what}, not a CSV, JSON or XML file.")
    wide = (encoding or "").startswith(("utf-16", "utf-32"))  # NUL in every ASCII character
    if b"\x00" in sample and not wide:
        raise FormatError(
            "The file contains NUL bytes: it is binary, not text (or UTF-16 text without a "
            "byte-order mark; save it as UTF-8)."
        )


def check_text(text: str) -> None:
    """Refuse decoded text with many control characters: binary data, whatever it decoded as."""
    if text and len(_CONTROL.findall(text)) > _MAX_CONTROL_SHARE * len(text):
        raise FormatError("The file is not text: it is full of control characters (binary data?).")


def detect_encoding(data: bytes, *, final: bool) -> str | None:
    """The encoding `data` is in, or None while it is plain ASCII (which fits them all).

    UTF-8 if it decodes as UTF-8 (mostly-UTF-8 with a stray byte is refused: guessing another
    encoding would garble every accented letter); GB18030 (Chinese Excel) if it decodes as that
    and at least 80% of the non-ASCII characters are common Chinese ones (GB2312) - Latin-1
    text read as GB18030 gives rare ideographs, if it decodes at all; else Windows-1252 (what
    Excel writes in the West), and Latin-1 for bytes Windows-1252 leaves undefined. `final`
    says whether `data` runs to the end of the file (else a character may be cut at its end).
    """
    if data.isascii():
        return None
    if _decodes(data, "utf-8", final) is not None:
        return "utf-8"
    text = _decodes(data, "gb18030", final)
    if text is not None and _mostly_common_chinese(text):
        return "gb18030"
    _refuse_broken_utf8(data)
    return "cp1252" if _decodes(data, "cp1252", final) is not None else "latin-1"


def decode_sample(data: bytes, encoding: str, *, final: bool) -> str:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final)
    except UnicodeDecodeError as exc:
        raise FormatError(
            f"The file is not valid {encoding}: byte {exc.start} (0x{data[exc.start]:02x}) "
            "cannot be decoded. Give the right encoding, or save the file as UTF-8."
        ) from exc


def _decodes(data: bytes, encoding: str, final: bool) -> str | None:
    try:
        return codecs.getincrementaldecoder(encoding)().decode(data, final)
    except UnicodeDecodeError:
        return None


def _mostly_common_chinese(text: str) -> bool:
    non_ascii = _ASCII_RUNS.sub("", text)
    common = len(non_ascii.encode("gb2312", errors="ignore")) // 2  # two bytes each
    return bool(non_ascii) and common >= _COMMON_CHINESE_SHARE * len(non_ascii)


def _refuse_broken_utf8(data: bytes) -> None:
    high = sum(len(run) for run in _HIGH_BYTES.findall(data))
    utf8 = sum(len(sequence) for sequence in _UTF8_SEQUENCE.findall(data))
    if utf8 * 2 >= high:
        try:
            codecs.getincrementaldecoder("utf-8")().decode(data, False)
            return  # not reached: the caller found data is not UTF-8
        except UnicodeDecodeError as exc:
            offset = exc.start
        raise FormatError(
            f"The file is mostly UTF-8, but byte {offset} (0x{data[offset]:02x}) is not valid "
            "UTF-8: it mixes encodings. Save it again as UTF-8, or give the encoding."
        )


def detect_delimiter(text: str, *, final: bool) -> str:
    """The delimiter csv.Sniffer picks, if it splits the sample into rows of one width.

    Otherwise the first of comma, semicolon, tab and pipe that does; else a comma (a one-column
    file). Only the delimiter is taken from the sniffer: its guesses of quote character and
    spacing misread cells such as "'=1+2" that our own exports write.
    """
    sample = text[:_DELIMITER_SAMPLE]
    complete = final and len(text) <= _DELIMITER_SAMPLE
    if not complete and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]
    candidates = []
    with contextlib.suppress(csv.Error):  # "Could not determine delimiter"
        candidates.append(csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter)
    candidates += [delimiter for delimiter in DELIMITERS if delimiter not in candidates]
    for delimiter in candidates:
        if _splits_evenly(sample, delimiter, complete=complete):
            return delimiter
    return ","


def _splits_evenly(sample: str, delimiter: str, *, complete: bool) -> bool:
    try:
        rows = [row for row in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)]
    except csv.Error:
        return False
    if not complete:
        rows = rows[:-1]  # may end inside a quoted value cut by the sample
    rows = [row for row in rows if row]
    if not rows or len(rows[0]) < 2:
        return False
    width = len(rows[0])
    fitting = sum(1 for row in rows[1:] if len(row) == width)
    return fitting >= 0.9 * (len(rows) - 1)
