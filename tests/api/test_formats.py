"""XML and CSV renderers/parsers: what a client GETs it can PUT back unchanged."""

import csv
import datetime
import io
from decimal import Decimal
from types import SimpleNamespace

import pytest
from rest_framework.exceptions import ParseError

from customers.api.parsers import ApplicationCSVParser, CSVParser, TextXMLParser, XMLParser
from customers.api.renderers import CSVRenderer, XMLRenderer
from integrations.formats.csv_cells import csv_header_line, csv_row_line

CONTACT_COLUMNS = ["id", "external_id", "first_name", "company.id", "company.name", "tags", "notes"]


def contact(**overrides):
    """A contact as the API hands it out, with every leaf already text (as parsers return it)."""
    data = {
        "id": "42",
        "external_id": "00123",
        "first_name": "Zhang Wei 张伟",
        "company": {"id": "3", "name": 'Acme, Inc. "Ltd"'},
        "tags": ["vip", "北京"],
        "notes": "first line\r\nsecond line, with a comma",
    }
    return {**data, **overrides}


def fake_view(action="update", **attributes):
    return SimpleNamespace(action=action, **attributes)


def xml_round_trip(data, parser=None):
    rendered = XMLRenderer().render(data)
    return (parser or XMLParser()).parse(io.BytesIO(rendered.encode("utf-8")))


def parse_xml(text: str, parser=None):
    return (parser or XMLParser()).parse(io.BytesIO(text.encode("utf-8")))


def render_csv(data, view=None, response=None) -> str:
    return CSVRenderer().render(data, renderer_context={"view": view, "response": response})


def parse_csv(payload, view=None, parser=None):
    raw = payload.encode("utf-8") if isinstance(payload, str) else payload
    return (parser or CSVParser()).parse(io.BytesIO(raw), parser_context={"view": view})


def csv_round_trip(data, view):
    return parse_csv(render_csv(data, view=view), view=view)


# XML -----------------------------------------------------------------------------------------


def test_xml_root_declares_xsi_namespace_and_keeps_root_tag():
    rendered = XMLRenderer().render({"id": "1"})

    assert '<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">' in rendered


def test_xml_renders_none_as_nil_and_empty_string_as_empty_element():
    rendered = XMLRenderer().render({"email": None, "title": ""})

    assert '<email xsi:nil="true"/>' in rendered
    assert "<title/>" in rendered


def test_xml_nil_and_empty_string_stay_distinct_on_the_way_back():
    assert xml_round_trip({"email": None, "title": ""}) == {"email": None, "title": ""}


def test_xml_parses_nil_and_empty_elements_written_by_a_client():
    body = (
        '<root xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<email xsi:nil="true"/><title></title><source/></root>'
    )

    assert parse_xml(body) == {"email": None, "title": "", "source": ""}


def test_xml_unicode_round_trips():
    data = {"first_name": "张伟", "notes": "Grüße — naïve café ✓ 🙂"}

    assert xml_round_trip(data) == data


def test_xml_keeps_every_leaf_a_string():
    body = "<root><external_id>00123</external_id><n>42</n><d>2024-01-02 03:04:05</d></root>"

    assert parse_xml(body) == {"external_id": "00123", "n": "42", "d": "2024-01-02 03:04:05"}


def test_xml_lists_and_nested_objects_round_trip():
    data = {
        "company": {"id": "3", "name": "Acme"},
        "tags": ["vip", "partner"],
        "one_tag": ["solo"],
        "no_tags": [],
        "people": [{"id": "1", "tags": []}, {"id": "2", "tags": ["x"]}],
    }

    assert xml_round_trip(data) == data


def test_xml_empty_list_is_marked_so_it_does_not_come_back_as_empty_string():
    assert '<tags type="list"/>' in XMLRenderer().render({"tags": []})
    assert parse_xml('<root><tags type="list"/></root>') == {"tags": []}


def test_xml_renders_python_values_the_way_drf_json_does():
    rendered = XMLRenderer().render(
        {
            "consent": True,
            "opted_out": False,
            "amount": Decimal("1200.50"),
            "due": datetime.date(2024, 5, 6),
            "at": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.UTC),
        }
    )

    assert "<consent>true</consent><opted_out>false</opted_out>" in rendered
    assert "<amount>1200.50</amount>" in rendered
    assert "<due>2024-05-06</due><at>2024-05-06T07:08:09Z</at>" in rendered


def test_xml_escapes_markup_and_keeps_carriage_returns():
    data = {"notes": "a < b & c > d\r\nline two\ttabbed"}

    assert xml_round_trip(data) == data


def test_xml_replaces_characters_xml_cannot_carry():
    rendered = XMLRenderer().render({"notes": "bell\x07 nul\x00 vt\x0b end"})

    assert parse_xml(rendered) == {"notes": "bell\ufffd nul\ufffd vt\ufffd end"}


def test_xml_paginated_list_renders_as_nested_elements():
    page = {"count": 2, "next": "http://x/?page=2", "previous": None, "results": [{"id": 1}]}

    rendered = XMLRenderer().render(page)

    assert (
        '<count>2</count><next>http://x/?page=2</next><previous xsi:nil="true"/>'
        "<results><list-item><id>1</id></list-item></results>"
    ) in rendered
    assert parse_xml(rendered)["results"] == [{"id": "1"}]


def test_xml_error_keys_that_are_not_element_names_stay_well_formed():
    errors = {"tags": {0: ["Ensure this field has no more than 64 characters."]}}

    assert xml_round_trip(errors) == {
        "tags": {"0": ["Ensure this field has no more than 64 characters."]}
    }


def test_xml_text_xml_parser_accepts_the_same_documents():
    assert TextXMLParser.media_type == "text/xml"
    assert parse_xml("<root><a>1</a></root>", parser=TextXMLParser()) == {"a": "1"}


def test_xml_external_entity_is_refused():
    body = (
        '<?xml version="1.0"?>'
        '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        "<root><first_name>&e;</first_name></root>"
    )

    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_xml(body)


def test_xml_billion_laughs_is_refused():
    body = (
        '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
        "<root><a>&lol3;</a></root>"
    )

    with pytest.raises(ParseError, match="entity"):
        parse_xml(body)


def test_xml_any_doctype_is_refused_even_without_entities():
    with pytest.raises(ParseError, match="DOCTYPE"):
        parse_xml('<?xml version="1.0"?><!DOCTYPE root SYSTEM "http://x/r.dtd"><root/>')


@pytest.mark.parametrize(
    "body",
    ["<root><a>1</b></root>", "<root>", "not xml at all", "<root><a>x</a>"],
)
def test_xml_malformed_body_is_a_parse_error_with_the_parser_message(body):
    with pytest.raises(ParseError, match="XML parse error - .*line 1"):
        parse_xml(body)


def test_xml_repeated_field_is_refused_rather_than_silently_dropped():
    with pytest.raises(ParseError, match="repeated"):
        parse_xml("<root><email>a@x.com</email><email>b@x.com</email></root>")


def test_xml_absurd_nesting_is_a_parse_error_not_a_crash():
    body = "<root>" + "<a>" * 2000 + "x" + "</a>" * 2000 + "</root>"

    with pytest.raises(ParseError, match="nested"):
        parse_xml(body)


def test_xml_realistic_contact_round_trips():
    data = contact(title="", email=None, company=None, consent_email="true")

    assert xml_round_trip(data) == data


# CSV -----------------------------------------------------------------------------------------


def test_csv_columns_follow_the_view_order_with_dotted_headers():
    view = fake_view(csv_columns=lambda: CONTACT_COLUMNS)

    header = render_csv(contact(), view=view).splitlines()[0]

    assert header == "id,external_id,first_name,company.id,company.name,tags,notes"


def test_csv_columns_without_view_keep_data_order_not_alphabetical():
    rows = [{"zeta": "1", "alpha": {"b": "2", "a": "3"}}, {"zeta": "4", "middle": "5"}]

    header = render_csv(rows).splitlines()[0]

    assert header == "zeta,alpha.b,alpha.a,middle"


def test_csv_discovers_nested_columns_even_when_the_first_row_has_none():
    rows = [{"id": "1", "company": None}, {"id": "2", "company": {"id": "3", "name": "Acme"}}]

    assert render_csv(rows).splitlines() == ["id,company.id,company.name", "1,,", "2,3,Acme"]


def test_csv_renders_none_as_empty_and_bools_as_words():
    rendered = render_csv({"a": None, "b": True, "c": False, "d": "x"})

    assert rendered == "a,b,c,d\r\n,true,false,x\r\n"


def test_csv_empty_list_renders_the_header_or_nothing():
    assert render_csv([], view=fake_view(csv_columns=lambda: ["id", "tags"])) == "id,tags\r\n"
    assert render_csv([]) == ""


def test_csv_paginated_response_renders_only_results():
    page = {"count": 2, "next": None, "previous": None, "results": [{"id": "1"}, {"id": "2"}]}

    assert render_csv(page) == "id\r\n1\r\n2\r\n"


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+86 138", "'+86 138"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("'quoted", "''quoted"),
        ("plain", "plain"),
        ("a=b", "a=b"),
    ],
)
def test_csv_formula_cells_are_neutralised_and_restored(value, cell):
    view = fake_view(csv_columns=lambda: ["notes"])

    rendered = render_csv({"notes": value}, view=view)

    assert list(csv.reader(io.StringIO(rendered, newline=""))) == [["notes"], [cell]]
    assert parse_csv(rendered, view=view) == {"notes": value}


def test_csv_apostrophe_typed_by_a_person_before_ordinary_text_is_kept():
    assert parse_csv("notes\r\n'hello\r\n") == {"notes": "'hello"}


def test_csv_tags_round_trip_as_a_list():
    view = fake_view(csv_columns=lambda: ["tags"])

    for tags in (["vip", "北京", "=cmd"], ["with|pipe", "back\\slash"], ["solo"], []):
        assert csv_round_trip({"tags": tags}, view) == {"tags": tags}


def test_csv_list_fields_come_from_the_view():
    body = "tags,labels\r\na|b,c|d\r\n"

    assert parse_csv(body, view=fake_view(csv_list_fields={"labels"})) == {
        "tags": "a|b",
        "labels": ["c", "d"],
    }


def test_csv_dotted_headers_unflatten_and_values_stay_strings():
    body = "id,external_id,company.id,company.name\r\n7,00123,3,Acme\r\n"

    assert parse_csv(body) == {
        "id": "7",
        "external_id": "00123",
        "company": {"id": "3", "name": "Acme"},
    }


def test_csv_byte_order_mark_is_ignored():
    body = "\ufeffid,first_name\r\n1,张伟\r\n".encode()

    assert parse_csv(body) == {"id": "1", "first_name": "张伟"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "UTF-8"),
        (b"id\r\n1\x00\r\n", "NUL"),
        ("id,name\r\n1,caf\xe9\r\n".encode("latin-1"), "UTF-8"),
    ],
)
def test_csv_binary_or_undecodable_body_is_a_parse_error(raw, message):
    with pytest.raises(ParseError, match=message):
        parse_csv(raw)


def test_csv_single_record_action_takes_exactly_one_row():
    view = fake_view(action="update")

    assert parse_csv("id\r\n1\r\n", view=view) == {"id": "1"}
    with pytest.raises(ParseError, match="Send exactly one row, or use the batch endpoint"):
        parse_csv("id\r\n1\r\n2\r\n", view=view)
    with pytest.raises(ParseError, match="got 0"):
        parse_csv("id\r\n", view=view)


def test_csv_batch_action_returns_a_list_of_rows():
    assert parse_csv("id\r\n1\r\n2\r\n", view=fake_view(action="batch")) == [
        {"id": "1"},
        {"id": "2"},
    ]
    assert parse_csv("id\r\n", view=fake_view(action="batch")) == []


def test_csv_many_actions_come_from_the_view():
    view = fake_view(action="import_rows", csv_many_actions=("import_rows",))

    assert parse_csv("id\r\n1\r\n", view=view) == [{"id": "1"}]


def test_csv_row_with_too_many_cells_names_the_line():
    with pytest.raises(ParseError, match="line 3 has 3 cells but the header has 2 columns"):
        parse_csv("id,name\r\n1,a\r\n2,b,extra\r\n", view=fake_view(action="batch"))


def test_csv_missing_header_names_the_column():
    with pytest.raises(ParseError, match="line 1: column 2 has no header"):
        parse_csv("id,,name\r\n1,2,3\r\n")


def test_csv_empty_body_needs_a_header():
    with pytest.raises(ParseError, match="header row"):
        parse_csv("")


def test_csv_application_csv_is_accepted_too():
    assert ApplicationCSVParser.media_type == "application/csv"
    assert parse_csv("id\r\n1\r\n", parser=ApplicationCSVParser()) == {"id": "1"}


def test_csv_error_response_renders_field_and_message_rows():
    view = fake_view(csv_columns=lambda: CONTACT_COLUMNS)
    errors = {"email": ["Enter a valid email address."], "tags": {0: ["Too long."]}}

    rendered = render_csv(errors, view=view, response=SimpleNamespace(status_code=400))

    assert rendered.splitlines() == [
        "field,message",
        "email,Enter a valid email address.",
        "tags.0,Too long.",
    ]


def test_csv_detail_error_without_response_still_renders():
    assert render_csv({"detail": "Not found."}).splitlines() == [
        "field,message",
        "detail,Not found.",
    ]


def test_csv_streaming_helpers_match_the_renderer():
    view = fake_view(csv_columns=lambda: CONTACT_COLUMNS)
    rows = [contact(), contact(id="43", first_name="=HYPERLINK()", company=None, tags=[])]

    streamed = csv_header_line(CONTACT_COLUMNS) + "".join(
        csv_row_line(row, CONTACT_COLUMNS) for row in rows
    )

    assert streamed == render_csv(rows, view=view)
    assert "'=HYPERLINK()" in streamed


def test_csv_realistic_contact_round_trips():
    view = fake_view(csv_columns=lambda: [*CONTACT_COLUMNS, "email"])
    data = contact(email=None, first_name="+44 7700 900123")

    assert csv_round_trip(data, view) == data


def test_csv_contact_without_company_comes_back_with_company_none():
    view = fake_view(csv_columns=lambda: CONTACT_COLUMNS)
    data = contact(company=None)

    assert csv_round_trip(data, view) == data


def test_csv_cannot_tell_empty_string_from_none():
    """Documented limitation: the input serializers accept null for blank text fields."""
    view = fake_view(csv_columns=lambda: ["title"])

    assert csv_round_trip({"title": ""}, view) == {"title": None}


def test_csv_batch_round_trip_of_several_contacts():
    view = fake_view(action="batch", csv_columns=lambda: CONTACT_COLUMNS)
    rows = [contact(), contact(id="43", tags=[], notes="=2*3")]

    assert csv_round_trip(rows, view) == rows
