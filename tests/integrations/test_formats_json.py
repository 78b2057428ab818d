"""JSON reading and writing: exact round trips, wrappers, per-record problems, error positions."""

import collections
import io
import json
import tracemalloc
from decimal import Decimal

import pytest

from integrations.formats import FormatError, open_reader, open_writer

RECORDS = [
    {
        "id": 1,
        "name": "张伟 Zoë 😀",
        "missing": None,
        "empty": "",
        "amount": Decimal("12.50"),
        "tiny": Decimal("0.000001"),
        "big": 12345678901234567890,
        "active": True,
        "tags": ["vip", "a|b", ""],
        "company": {"id": 7, "name": "ACME", "address": {"city": "北京", "zip": None}},
        "contacts": [{"email": "a@x.org"}, {"email": None}],
        "nothing": [],
        "blank": {},
    },
    {"id": 2, "name": 'line\nbreak "quoted" \\ tab\t', "amount": Decimal("-1E+3")},
]


def write_json(records, stream=None) -> bytes:
    stream = stream or io.BytesIO()
    with open_writer(stream, "json") as writer:
        for record in records:
            writer.write(record)
    return stream.getvalue()


def read(data: bytes, **options):
    with open_reader(io.BytesIO(data), **options) as reader:
        return reader, list(reader)


def test_round_trip_is_exact():
    reader, records = read(write_json(RECORDS))

    assert reader.format == "json"
    assert [record.values for record in records] == RECORDS
    assert [record.number for record in records] == [1, 2]
    assert records[0].values["amount"].as_tuple() == Decimal("12.50").as_tuple()  # 2 places kept
    assert reader.headers == list(RECORDS[0])


def test_writer_output_is_plain_json_with_decimals_as_numbers():
    data = write_json([{"amount": Decimal("12.50"), "name": "Zoë"}])
    assert data == '[\n{"amount": 12.50, "name": "Zoë"}\n]\n'.encode()
    assert json.loads(data) == [{"amount": 12.5, "name": "Zoë"}]


def test_a_string_that_looks_like_the_decimal_marker_stays_a_string():
    record = {"text": "\x00deadbeefdeadbeef:12", "amount": Decimal("1.5")}
    _, records = read(write_json([record]))
    assert records[0].values == record


def test_non_json_values_are_written_as_the_api_renders_them():
    import datetime
    import uuid

    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    key = uuid.UUID("12345678-1234-5678-1234-567812345678")
    _, records = read(write_json([{"at": when, "key": key, "day": when.date()}]))
    assert records[0].values == {
        "at": "2026-01-02T03:04:05Z",
        "key": "12345678-1234-5678-1234-567812345678",
        "day": "2026-01-02",
    }


def test_nan_is_refused():
    with pytest.raises(ValueError):
        write_json([{"amount": Decimal("NaN")}])
    with pytest.raises(ValueError):
        write_json([{"ratio": float("inf")}])


def test_numbers_from_other_systems_never_become_floats():
    _, records = read(b'[{"a": 0.1, "b": 1e5, "c": 10, "d": -0.0}]')
    assert records[0].values == {
        "a": Decimal("0.1"),
        "b": Decimal("1E+5"),
        "c": 10,
        "d": Decimal("-0.0"),
    }
    assert type(records[0].values["c"]) is int


def test_empty_array_and_empty_writer():
    reader, records = read(write_json([]))
    assert records == []
    assert reader.headers == []


def test_writer_writes_text_streams_too():
    stream = io.StringIO()
    with open_writer(stream, "json") as writer:
        writer.write({"name": "张伟"})
    assert json.loads(stream.getvalue()) == [{"name": "张伟"}]


def test_failed_write_leaves_the_array_open_so_the_file_cannot_pass_for_complete():
    stream = io.BytesIO()
    with pytest.raises(RuntimeError), open_writer(stream, "json") as writer:
        writer.write({"id": 1})
        raise RuntimeError("database went away")
    assert stream.getvalue() == b'[\n{"id": 1}'
    with pytest.raises(FormatError, match="premature EOF"):
        read(stream.getvalue())


def test_writer_refuses_non_records_and_writes_after_close():
    writer = open_writer(io.BytesIO(), "json")
    with pytest.raises(TypeError):
        writer.write(["not", "a", "record"])
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.write({"id": 1})


@pytest.mark.parametrize("key", ["results", "records"])
def test_wrapper_objects_are_unwrapped(key):
    data = json.dumps(
        {"next": "https://crm.example/api?cursor=x", "previous": None, key: [{"id": 1}, {"id": 2}]}
    ).encode()

    _, records = read(data)

    assert [record.values for record in records] == [{"id": 1}, {"id": 2}]


def test_wrapper_key_beyond_the_sample_is_still_found():
    data = json.dumps({"meta": {"note": "x" * 100_000}, "results": [{"id": 1}], "n": 1}).encode()
    _, records = read(data)
    assert [record.values for record in records] == [{"id": 1}]


def test_object_without_records_is_a_format_error():
    with pytest.raises(FormatError, match='"records" or "results"'):
        read(b'{"id": 1, "name": "Ana"}')


def test_wrapper_that_is_not_an_array_is_a_format_error():
    with pytest.raises(FormatError, match='"results" must be an array'):
        read(b'{"results": {"id": 1}}')


def test_items_that_are_not_objects_are_reported_per_record():
    _, records = read(b'[{"id": 1}, 2, "three", null, [4], true, {"id": 7}]')

    assert [(record.number, record.error) for record in records] == [
        (1, None),
        (2, "Record 2 is a number, not an object."),
        (3, "Record 3 is a string, not an object."),
        (4, "Record 4 is null, not an object."),
        (5, "Record 5 is a list, not an object."),
        (6, "Record 6 is true or false, not an object."),
        (7, None),
    ]
    assert records[6].values == {"id": 7}


def test_malformed_first_record_is_raised_by_open_reader_with_its_position():
    with pytest.raises(FormatError, match=r"line 3, column 11 \(byte 23\): lexical error"):
        open_reader(io.BytesIO(b'[\n {"id": 1,\n  "name": x}]'))


def test_malformed_json_is_raised_when_reached_with_its_position():
    reader = open_reader(io.BytesIO(b'[{"id": 1},\n {"id": 2,}]'))
    assert next(reader).values == {"id": 1}
    with pytest.raises(FormatError, match=r"line 2, column 11 \(byte 22\): parse error"):
        next(reader)


def test_malformed_json_far_into_the_file_gives_line_and_column():
    good = ",\n".join(json.dumps({"id": n, "name": "x" * 50}) for n in range(3000))
    data = f'[\n{good},\n{{"id": 3000,, }}\n]'.encode()
    assert len(data) > 150_000
    reader = open_reader(io.BytesIO(data))
    records = []
    with pytest.raises(FormatError) as raised:
        for record in reader:
            records.append(record)

    assert len(records) == 3000
    assert "line 3002, column 13" in str(raised.value)


def test_truncated_file_is_a_format_error_after_the_complete_records():
    reader = open_reader(io.BytesIO(b'[{"id": 1}, {"id": 2}, {"id"'))
    assert next(reader).values == {"id": 1}
    assert next(reader).values == {"id": 2}
    with pytest.raises(FormatError, match="end of the file"):
        next(reader)


def test_bom_and_utf16_files_are_read():
    text = json.dumps([{"name": "张伟"}], ensure_ascii=False)
    for data in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        _, records = read(data)
        assert records[0].values == {"name": "张伟"}


def test_records_are_streamed_in_flat_memory():
    data = write_json({"id": n, "name": f"Name {n}", "tags": ["a", "b"]} for n in range(30_000))
    assert len(data) > 1_500_000

    tracemalloc.start()
    try:
        baseline = tracemalloc.get_traced_memory()[0]
        with open_reader(io.BytesIO(data)) as reader:
            last = collections.deque(reader, maxlen=1)
        peak = tracemalloc.get_traced_memory()[1] - baseline
    finally:
        tracemalloc.stop()

    assert last[0].number == 30_000
    assert peak < 2_500_000, f"peak {peak:,} bytes above baseline"


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def test_a_record_nested_deeper_than_the_limit_is_its_error_and_the_next_record_is_read():
    data = f'[{{"first_name": {nested(15_000)}}}, {{"first_name": "Ana"}}]'.encode()

    with open_reader(io.BytesIO(data)) as reader:
        records = list(reader)

    assert [(r.number, r.values, r.error) for r in records] == [
        (1, {}, "Record 1 is nested more than 32 levels deep."),
        (2, {"first_name": "Ana"}, None),
    ]


def test_a_record_at_the_depth_limit_is_read_whole():
    data = f'{{"records": [{{"a": {nested(31)}}}]}}'.encode()  # the record is level 1

    with open_reader(io.BytesIO(data)) as reader:
        (record,) = list(reader)

    assert record.error is None
    assert json.dumps(record.values) == f'{{"a": {nested(31)}}}'


@pytest.mark.parametrize(
    "record",
    [
        "{" + ", ".join(f'"k{i}": {i}' for i in range(20_000)) + "}",  # too many values
        '{"notes": [' + ", ".join(['"' + "x" * 1000 + '"'] * 1500) + "]}",  # 1.5 MB of text
    ],
    ids=["values", "bytes"],
)
def test_a_record_larger_than_the_limit_is_its_error_and_the_next_record_is_read(record):
    data = f'{{"results": [{record}, {{"first_name": "Ana"}}], "count": 2}}'.encode()

    with open_reader(io.BytesIO(data)) as reader:
        records = list(reader)

    assert [(r.values, r.error) for r in records] == [
        ({}, "Record 1 is larger than 1,024 KB or holds more than 10,000 values."),
        ({"first_name": "Ana"}, None),
    ]


def test_nesting_around_the_records_beyond_the_limit_makes_the_file_unreadable():
    data = f'{{"meta": {nested(1000)}, "records": [{{"a": 1}}]}}'.encode()

    with pytest.raises(FormatError, match="around the records is nested more than 32"):
        open_reader(io.BytesIO(data))


@pytest.mark.parametrize("before", [0, 65_536 - 2_000], ids=["in-a-chunk", "across-chunks"])
def test_a_number_too_long_to_convert_is_a_format_error_not_a_crash(before):
    # ijson's C backend took the process down (a segmentation fault) on such a number
    data = b'[{"pad": "' + b"x" * before + b'", "id": ' + b"9" * 5000 + b"}]"
    with pytest.raises(FormatError, match="number of 4,300 digits or more"):
        open_reader(io.BytesIO(data))


def test_one_value_longer_than_twice_the_record_limit_makes_the_file_unreadable():
    # yajl holds a string whole before handing it over: past 2 MB the file stops there
    data = b'[{"first_name": "Ana"}, {"notes": "' + b"x" * 3_000_000 + b'"}, {"a": 1}]'

    with open_reader(io.BytesIO(data)) as reader:
        first = next(reader)
        with pytest.raises(FormatError, match="is longer than 2 MB: the file cannot be read"):
            next(reader)

    assert first.values == {"first_name": "Ana"}
