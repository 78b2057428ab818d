"""CSV reading and writing: encodings, dialects, row numbers, per-row problems, flat memory."""

import collections
import io
import os
import tracemalloc
from decimal import Decimal

import pytest

from integrations.formats import FormatError, open_reader, open_writer
from integrations.formats.csv_cells import split_list

COLUMNS = ["id", "name", "notes", "empty", "tags", "company.id", "company.name", "amount"]


def read(data: bytes, **options):
    with open_reader(io.BytesIO(data), **options) as reader:
        return reader, list(reader)


def write_csv(records, columns, **options) -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, "csv", columns=columns, **options) as writer:
        for record in records:
            writer.write(record)
    return stream.getvalue()


def test_round_trip_gives_back_every_cell_as_text():
    records = [
        {
            "id": 1,
            "name": "张伟 Zoë 😀",
            "notes": 'line one\nline two, with "quotes"\r\nand a CRLF',
            "empty": "",
            "tags": ["vip", "a|b"],
            "company": {"id": 7, "name": "ACME; Ltd"},
            "amount": Decimal("12.50"),
        },
        {"id": 2, "name": None, "notes": None, "empty": None, "tags": [], "company": None},
    ]

    reader, read_back = read(write_csv(records, COLUMNS))

    assert reader.headers == COLUMNS
    assert [record.values for record in read_back] == [
        {
            "id": "1",
            "name": "张伟 Zoë 😀",
            "notes": 'line one\nline two, with "quotes"\r\nand a CRLF',
            "empty": "",
            "tags": "vip|a\\|b",
            "company.id": "7",
            "company.name": "ACME; Ltd",
            "amount": "12.50",
        },
        {
            "id": "2",
            "name": "",
            "notes": "",
            "empty": "",
            "tags": "",
            "company.id": "",
            "company.name": "",
            "amount": "",
        },
    ]
    assert split_list(read_back[0].values["tags"]) == ["vip", "a|b"]
    assert all(record.error is None for record in read_back)


@pytest.mark.parametrize("text", ["=SUM(A1:A3)", "+1", "-5", "@cmd", "'quoted", "\tx", "'=1"])
def test_formula_neutralising_quote_is_removed_on_read(text):
    data = write_csv([{"cell": text}], ["cell"])
    assert data.splitlines()[1].lstrip(b'"').startswith(b"'")  # the export did neutralise it

    _, records = read(data)

    assert records[0].values == {"cell": text}


def test_a_quote_typed_before_a_letter_is_kept():
    _, records = read(b"name\n'Brien\nO'Brien\n")
    assert [record.values["name"] for record in records] == ["'Brien", "O'Brien"]


def test_path_and_header_pairs_name_the_columns():
    data = write_csv(
        [{"id": 1, "custom_fields": {"tier": "gold"}}], ["id", ("custom_fields.tier", "tier")]
    )
    reader, records = read(data)
    assert reader.headers == ["id", "tier"]
    assert records[0].values == {"id": "1", "tier": "gold"}


def test_bom_flag_writes_a_utf8_bom_that_the_reader_detects_and_drops():
    data = write_csv([{"name": "张伟"}], ["name"], bom=True)
    assert data.startswith(b"\xef\xbb\xbfname")

    reader, records = read(data)

    assert reader.encoding == "utf-8-sig"
    assert reader.headers == ["name"]
    assert records[0].values == {"name": "张伟"}


def test_writer_writes_text_streams_too():
    stream = io.StringIO()
    with open_writer(stream, "csv", columns=["a"]) as writer:
        writer.write({"a": "é"})
    assert stream.getvalue() == "a\r\né\r\n"


def test_csv_writer_needs_columns():
    with pytest.raises(ValueError, match="columns"):
        open_writer(io.BytesIO(), "csv")


def test_utf8_without_bom_is_detected():
    reader, records = read("name,city\nZoë,Zürich\n".encode())
    assert reader.encoding == "utf-8"
    assert records[0].values == {"name": "Zoë", "city": "Zürich"}


def test_gb18030_file_from_chinese_excel_is_detected():
    text = (
        "姓名,公司,城市\n张伟,北京科技有限公司,北京\n李娜,上海贸易公司,上海\n王芳,深圳电子,深圳\n"
    )

    reader, records = read(text.encode("gb18030"))

    assert reader.encoding == "gb18030"
    assert reader.headers == ["姓名", "公司", "城市"]
    assert records[0].values == {"姓名": "张伟", "公司": "北京科技有限公司", "城市": "北京"}


def test_latin1_file_is_detected_even_though_it_decodes_as_gb18030():
    # Every accented letter here is followed by a letter, which GB18030 accepts as a pair.
    data = "name;street\nJürgen Müller;Hauptstraße 5\n".encode("latin-1")
    assert data.decode("gb18030")  # the trap: it does decode

    reader, records = read(data)

    assert reader.encoding == "cp1252"
    assert reader.delimiter == ";"
    assert records[0].values == {"name": "Jürgen Müller", "street": "Hauptstraße 5"}


def test_windows_1252_file_is_detected():
    data = "name,price,note\nJosé,5 €,“smart” quotes\n".encode("cp1252")
    reader, records = read(data)
    assert reader.encoding == "cp1252"
    assert records[0].values == {"name": "José", "price": "5 €", "note": "“smart” quotes"}


@pytest.mark.parametrize(
    ("encoding", "name"),
    [("cp1252", "José Müller"), ("gb18030", "张伟 北京科技有限公司"), ("utf-8", "Zoë 张伟 😀")],
)
def test_encoding_is_decided_by_the_first_non_ascii_row_even_far_beyond_the_sample(encoding, name):
    rows = "".join(f"{n},plain ascii row\n" for n in range(10_000))  # ~200 KiB of ASCII
    data = ("id,name\n" + rows + f"10000,{name}\n").encode(encoding)

    reader, records = read(data)

    assert records[-1].values == {"id": "10000", "name": name}
    assert reader.encoding == encoding


def test_utf16_unicode_text_from_excel_is_read():
    data = "姓名\t城市\n张伟\t北京\n".encode("utf-16")  # Excel's "Unicode Text": BOM, tabs
    reader, records = read(data)
    assert (reader.encoding, reader.delimiter) == ("utf-16", "\t")
    assert records[0].values == {"姓名": "张伟", "城市": "北京"}


def test_plain_ascii_file_has_no_encoding_to_report():
    reader, records = read(b"id,name\n1,Ana\n")
    assert reader.encoding is None
    assert records[0].values == {"id": "1", "name": "Ana"}


def test_explicit_encoding_wins():
    data = "name\nÀ la carte\n".encode("latin-1")
    reader, records = read(data, encoding="latin-1")
    assert reader.encoding == "iso8859-1"
    assert records[0].values == {"name": "À la carte"}


def test_mostly_utf8_file_with_a_stray_byte_is_refused_rather_than_garbled():
    data = "name\nZoë\nJosé\nRené\nAndré\n".encode() + b"caf\xe9\n"
    with pytest.raises(FormatError, match="mostly UTF-8.*byte 32 "):
        read(data)


@pytest.mark.parametrize(
    ("delimiter", "line"),
    [
        (",", 'Ana,"1,5",x;y\n'),
        (";", "Ana;1,5;x|y\n"),
        ("\t", "Ana\t1,5\tx;y\n"),
        ("|", "Ana|1,5|x;y\n"),
    ],
)
def test_dialect_is_detected(delimiter, line):
    header = delimiter.join(["name", "amount", "note"]) + "\n"
    data = (header + line * 3).encode()

    reader, records = read(data)

    assert reader.delimiter == delimiter
    assert records[0].values["amount"] == "1,5"
    assert len(records) == 3


def test_single_column_file_falls_back_to_comma():
    reader, records = read(b"email\na@example.com\nb@example.com\n")
    assert reader.delimiter == ","
    assert [record.values for record in records] == [
        {"email": "a@example.com"},
        {"email": "b@example.com"},
    ]


def test_explicit_delimiter_wins():
    reader, records = read(b"a;b\n1;2\n", delimiter=",")
    assert reader.headers == ["a;b"]
    assert records[0].values == {"a;b": "1;2"}


def test_records_are_numbered_as_spreadsheet_rows_with_their_first_line():
    data = b'name,notes\nAna,"two\nlines"\nBen,one\n\nCy,"three\r\nmore\r\nlines"\nDee,x\n'

    _, records = read(data)

    assert [(r.values["name"], r.number, r.line) for r in records] == [
        ("Ana", 2, 2),
        ("Ben", 3, 4),
        ("Cy", 5, 6),  # row 4 is the blank line, skipped but counted
        ("Dee", 6, 9),
    ]
    assert records[2].values["notes"] == "three\r\nmore\r\nlines"


def test_row_with_too_many_cells_is_reported_on_that_record_only():
    data = b"a,b\n1,2\n3,4,5\n6,7\n"

    _, records = read(data)

    assert [record.error for record in records] == [
        None,
        "Row 3 has 3 cells, the header has 2.",
        None,
    ]
    assert records[1].values == {"a": "3", "b": "4"}
    assert records[2].values == {"a": "6", "b": "7"}


def test_short_rows_are_padded_and_trailing_empty_cells_ignored():
    data = b"a,b,c,,\n1\n2,3,4,,\n"
    reader, records = read(data)
    assert reader.headers == ["a", "b", "c"]
    assert [(record.values, record.error) for record in records] == [
        ({"a": "1", "b": "", "c": ""}, None),
        ({"a": "2", "b": "3", "c": "4"}, None),
    ]


def test_rows_without_any_text_are_skipped():
    _, records = read(b"a,b\n,\n1,2\n,,\n")
    assert [(record.number, record.values) for record in records] == [(3, {"a": "1", "b": "2"})]


def test_unclosed_quote_makes_the_file_unreadable_rather_than_one_merged_row():
    with pytest.raises(FormatError, match=r"row 2 \(line 2\) is not closed before the end"):
        read(b'a,b\n1,"open\n2,3\n4,5\n')


def test_bad_quoting_spoils_one_row_and_reading_goes_on():
    _, records = read(b'a,b\n1,"x"y\n2,3\n')
    assert "closing quote" in records[0].error
    assert (records[1].number, records[1].values) == (3, {"a": "2", "b": "3"})


def test_duplicate_header_is_a_format_error():
    with pytest.raises(FormatError, match=r"'email' appears more than once.*columns 1 and 3"):
        read(b"email,name,email\na@x.org,Ana,b@x.org\n")


def test_empty_header_name_is_a_format_error():
    with pytest.raises(FormatError, match="Column 2 of the header"):
        read(b"email,,name\na@x.org,1,Ana\n")


def test_blank_first_row_is_a_format_error():
    with pytest.raises(FormatError, match="Row 1 must be the header"):
        read(b"\nemail\na@x.org\n")


def test_nul_bytes_are_a_format_error():
    with pytest.raises(FormatError, match="NUL bytes"):
        read(b"name,email\nAna,a\x00@x.org\n", format="csv")


def test_binary_garbage_without_nul_is_a_format_error():
    garbage = bytes(range(1, 256)) * 50
    with pytest.raises(FormatError, match="not text"):
        read(garbage, format="csv")


def test_excel_workbook_is_named_in_the_error():
    with pytest.raises(FormatError, match="xlsx"):
        read(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100, format="csv")


def test_empty_file_is_a_format_error():
    with pytest.raises(FormatError, match="empty"):
        read(b"")


def test_reader_closes_the_file_it_opened_but_not_one_handed_in(tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(b"a\n1\n")
    with open_reader(path) as reader:
        assert [record.values for record in reader] == [{"a": "1"}]
        handle = reader._source._file
    assert handle.closed

    stream = io.BytesIO(b"a\n1\n")
    with open_reader(stream) as reader:
        list(reader)
    assert not stream.closed


def test_200k_rows_are_read_in_flat_memory(tmp_path):
    path = tmp_path / "big.csv"
    with open(path, "w", encoding="utf-8", newline="") as handle:
        handle.write("id,name,email\n")
        line = "{0},Name {0},user{0}@example.com\n"
        for start in range(0, 200_000, 10_000):
            handle.write("".join(line.format(n) for n in range(start, start + 10_000)))
    assert os.path.getsize(path) > 6_000_000

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with open_reader(path) as reader:
            last = collections.deque(reader, maxlen=1)[0]
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert last.number == 200_001  # the header is row 1
    assert last.values == {
        "id": "199999",
        "name": "Name 199999",
        "email": "user199999@example.com",
    }
    assert peak < 3_000_000, f"peak {peak:,} bytes above baseline"


def test_a_row_wider_than_the_column_limit_is_its_error_and_the_next_row_is_read():
    data = b"name,email\n" + b"x," * 100_000 + b"x\nAna,a@x.org\n"

    _, records = read(data)

    assert [(r.number, r.values, r.error) for r in records] == [
        (2, {}, "Row 2 has 100,001 cells; at most 1,000 can be imported."),
        (3, {"name": "Ana", "email": "a@x.org"}, None),
    ]


@pytest.mark.parametrize(
    "row",
    [
        b"," * 5_000_000,  # one endless line: read 1 MB at a time, never whole
        b'x,"' + b"y" * 200_000 + b'"',  # one cell past the csv module's limit
        b'x,"' + b"y\n" * 400_000 + b'"',  # a quoted value spanning 400,000 lines
        b"x," + b"y" * 200_000,  # an unquoted cell past the cell limit
    ],
    ids=["line", "quoted-cell", "quoted-lines", "cell"],
)
def test_a_row_larger_than_the_limit_is_its_error_and_the_next_row_is_read(row):
    data = b"name,notes\n" + row + b"\nAna,fine\n"

    _, records = read(data)

    assert [(r.number, r.values, r.error) for r in records] == [
        (
            2,
            {},
            "Row 2 is longer than 1,048,576 characters, or one of its cells longer than 131,072.",
        ),
        (3, {"name": "Ana", "notes": "fine"}, None),
    ]


def test_a_header_wider_than_the_column_limit_makes_the_file_unreadable():
    header = ",".join(f"c{i}" for i in range(100_000)).encode()
    with pytest.raises(FormatError, match="header\\) has 100,000 columns; at most 1,000"):
        read(header + b"\n" + b"x\n")


def test_a_quote_inside_an_unquoted_value_is_text():
    _, records = read(b'name,height\nAna,5\'10"\nBen,"6\'1"""\n')
    assert [r.values["height"] for r in records] == ["5'10\"", "6'1\""]
