"""Format, encoding and delimiter sniffing, and sources that cannot seek."""

import io

import pytest

from integrations.formats import FormatError, open_reader, open_writer
from integrations.formats.sniffing import detect_delimiter, detect_encoding, sniff_format


class Pipe(io.RawIOBase):
    """A source like a socket or an HTTP body: short reads, no seek, no tell."""

    def __init__(self, data: bytes, chunk: int = 1000) -> None:
        self._data = memoryview(data)
        self._chunk = chunk
        self.seeks = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, *args):
        self.seeks += 1
        raise io.UnsupportedOperation("seek")

    def tell(self):
        raise io.UnsupportedOperation("tell")

    def readinto(self, buffer) -> int:
        size = min(len(buffer), self._chunk, len(self._data))
        buffer[:size] = self._data[:size]
        self._data = self._data[size:]
        return size


def written(format: str, records, **options) -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, format, **options) as writer:
        for record in records:
            writer.write(record)
    return stream.getvalue()


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b'[{"a": 1}]', "json"),
        (b' \r\n\t{"results": []}', "json"),
        (b'\xef\xbb\xbf[{"a": 1}]', "json"),
        (b"<?xml version='1.0'?><root/>", "xml"),
        (b"\n  <contacts/>", "xml"),
        ("<root/>".encode("utf-16"), "xml"),
        (b"name,email\n", "csv"),
        ("名字,邮箱\n".encode("gb18030"), "csv"),
    ],
)
def test_format_is_sniffed_from_the_first_significant_character(data, expected):
    bom = "utf-16" if data.startswith(b"\xff\xfe") else None
    assert sniff_format(data, None, bom) == expected


def test_extension_decides_only_when_the_content_does_not():
    assert sniff_format(b"name\n", "people.json", None) == "json"
    assert sniff_format(b'[{"a": 1}]', "people.csv", None) == "json"
    assert sniff_format(b"id\n", "export.XML", None) == "xml"
    assert sniff_format(b"id\n", "export.tsv", None) == "csv"


def test_a_json_file_name_on_garbage_gives_a_json_error(tmp_path):
    path = tmp_path / "contacts.json"
    path.write_bytes(b"not json at all\n")
    with pytest.raises(FormatError, match="JSON file must hold an array"):
        open_reader(path)


def test_explicit_format_wins_over_sniffing():
    reader = open_reader(io.BytesIO(b'[{"a": 1}]\n'), format="csv")
    assert reader.format == "csv"
    assert reader.headers == ['[{"a": 1}]']


def test_unknown_format_is_a_programming_error():
    with pytest.raises(ValueError, match="Unknown format"):
        open_reader(io.BytesIO(b"a\n1\n"), format="xlsx")
    with pytest.raises(ValueError, match="Unknown format"):
        open_writer(io.BytesIO(), "yaml")


def test_text_streams_are_refused_with_a_hint():
    with pytest.raises(TypeError, match="binary mode"):
        open_reader(io.StringIO("a\n1\n"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"plain ascii", None),
        ("Zoë".encode(), "utf-8"),
        ("张伟,北京科技有限公司".encode("gb18030"), "gb18030"),
        ("Jürgen Müller, Hauptstraße".encode("latin-1"), "cp1252"),
        ("5 € “quoted”".encode("cp1252"), "cp1252"),
        (b"caf\xe9 \x81", "latin-1"),  # 0x81 is undefined in Windows-1252
    ],
)
def test_encoding_detection(data, expected):
    assert detect_encoding(data, final=True) == expected


def test_a_utf8_character_cut_by_the_sample_end_is_still_utf8():
    data = "Zoë 张伟".encode()[:-1]
    assert detect_encoding(data, final=False) == "utf-8"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a,b,c\n1,2,3\n4,5,6\n", ","),
        ("a;b;c\n1,5;2;3\n4;5,5;6\n", ";"),
        ("a\tb\n1,2\t3;4\n", "\t"),
        ("a|b\n1|2\n", "|"),
        ('name,notes\n"x","a;b;c;d"\n"y","e;f;g;h"\n', ","),
        ("email\na@x.org\n", ","),
    ],
)
def test_delimiter_detection(text, expected):
    assert detect_delimiter(text, final=True) == expected


@pytest.mark.parametrize("format", ["csv", "json", "xml"])
def test_non_seekable_sources_are_read_whole_with_only_the_sample_buffered(format):
    records = [{"id": str(n), "name": f"Name {n} 张伟"} for n in range(8000)]
    options = {"columns": ["id", "name"]} if format == "csv" else {}
    data = written(format, records, **options)
    assert len(data) > 128 * 1024  # more than the sample: the rest comes from the pipe
    pipe = Pipe(data)

    with open_reader(pipe) as reader:
        assert reader.format == format
        read_back = [record.values for record in reader]

    assert read_back == records
    assert pipe.seeks == 0


def test_file_object_is_read_from_its_current_position():
    stream = io.BytesIO(b"junk before\nid\n1\n")
    stream.seek(len(b"junk before\n"))
    with open_reader(stream) as reader:
        assert [record.values for record in reader] == [{"id": "1"}]


def test_whitespace_only_file_is_empty():
    with pytest.raises(FormatError, match="empty"):
        open_reader(io.BytesIO(b"\xef\xbb\xbf \r\n\t\n"))
