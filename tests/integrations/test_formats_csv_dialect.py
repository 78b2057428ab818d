"""The CSV writer writes another delimiter when asked (an error report in the uploaded file's
own dialect), with the same cell rules as the comma path, and reads back with our reader."""

import io

import pytest

from integrations.formats import open_reader, open_writer

ROWS = [
    {"name": "张伟", "note": "a; b\tc", "tags": ["vip", "北京"], "score": -3, "company": {"id": 7}},
    {"name": "=SUM(A1)", "note": None, "tags": [], "score": 0, "company": None},
]
COLUMNS = ["name", "note", "tags", "score", "company.id"]


def write(delimiter: str, *, bom: bool = False) -> bytes:
    stream = io.BytesIO()
    with open_writer(stream, "csv", columns=COLUMNS, bom=bom, delimiter=delimiter) as writer:
        for row in ROWS:
            writer.write(row)
    return stream.getvalue()


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_another_delimiter_writes_the_same_cells_as_commas(delimiter):
    with_commas = list(open_reader(io.BytesIO(write(","))))
    with_delimiter = list(open_reader(io.BytesIO(write(delimiter)), delimiter=delimiter))

    assert write(delimiter).decode().splitlines()[0] == delimiter.join(COLUMNS)
    assert [r.values for r in with_delimiter] == [r.values for r in with_commas]
    assert with_delimiter[0].values["note"] == "a; b\tc"
    assert with_delimiter[1].values["name"] == "=SUM(A1)"  # neutralised out, restored in


def test_the_bom_comes_once_before_the_header_in_any_dialect():
    data = write(";", bom=True)

    assert data.startswith(b"\xef\xbb\xbfname;note;") and data.count(b"\xef\xbb\xbf") == 1
    assert list(open_reader(io.BytesIO(data)))[0].values["name"] == "张伟"


@pytest.mark.parametrize("delimiter", ['"', "\n", ";;", ""])
def test_a_delimiter_that_cannot_separate_cells_is_refused(delimiter):
    with pytest.raises(ValueError, match="delimiter"):
        open_writer(io.BytesIO(), "csv", columns=["a"], delimiter=delimiter)


def test_json_and_xml_take_no_delimiter():
    with pytest.raises(ValueError, match="CSV only"):
        open_writer(io.BytesIO(), "json", delimiter=";")
