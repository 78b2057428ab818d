"""Malformed and hostile requests get a 4xx in the uniform error shape and write nothing."""

import time

import pytest

from customers.models import Activity, Company, Contact, Deal
from tests.api.support import V1, assert_uniform_error, non_raising, snapshot
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

XXE = (
    b'<?xml version="1.0"?>'
    b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
    b"<root><first_name>&e;</first_name></root>"
)
BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
    b'<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>'
    b"<root><first_name>&lol4;</first_name></root>"
)
BAD_BODIES = {
    "invalid json": (b'{"first_name": "A",', "application/json"),
    "json that is not utf-8": ('{"first_name": "café"}'.encode("latin-1"), "application/json"),
    "json NaN": (b'{"first_name": NaN}', "application/json"),
    "invalid xml": (b"<root><first_name>A</last_name></root>", "application/xml"),
    "xml external entity": (XXE, "application/xml"),
    "xml billion laughs": (BILLION_LAUGHS, "application/xml"),
    "xml external entity as text/xml": (XXE, "text/xml"),
    "xml with a repeated field": (
        b"<root><email>a@example.com</email><email>b@example.com</email></root>",
        "application/xml",
    ),
    "xml nested absurdly deep": (
        b"<root>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</root>",
        "application/xml",
    ),
    "binary garbage as csv": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\x00", "text/csv"),
    "csv with NUL bytes": (b"first_name\r\nA\x00B\r\n", "text/csv"),
    "csv cell over the field limit": (
        b"first_name,notes\r\nA," + b"x" * 200_000 + b"\r\n",
        "text/csv",
    ),
    "csv with a nameless column": (b"first_name,\r\nA,B\r\n", "text/csv"),
    "csv with more cells than columns": (b"first_name\r\nA,B\r\n", "text/csv"),
    "csv with an unterminated quote": (
        b'first_name,email\n"unterminated,a@b.co\nx,y,z,w\n',
        "text/csv",
    ),
    "csv with text after a closing quote": (b'first_name,email\n"A"B,a@b.co\n', "text/csv"),
    "csv with more columns than allowed": (
        ",".join(f"c{i}" for i in range(1001)).encode() + b"\nA\n",
        "text/csv",
    ),
    "csv with an absurdly long column name": (
        b"first_name," + b"x." * 200 + b"\nA,B\n",
        "text/csv",
    ),
    "json nested past the depth limit": (
        b'{"first_name": ' + b"[" * 40 + b"]" * 40 + b"}",
        "application/json",
    ),
    "json nested 15,000 levels in a field": (
        b'{"first_name": ' + b"[" * 15_000 + b"]" * 15_000 + b"}",
        "application/json",
    ),
}


@pytest.fixture
def client(api):
    return non_raising(api)


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_malformed_or_hostile_post_gets_400_and_writes_nothing(client, name):
    body, content_type = BAD_BODIES[name]

    response = client.post(f"{V1}/contacts/", body, content_type=content_type)

    assert_uniform_error(response, 400)
    assert not Contact.objects.exists()


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_a_malformed_or_hostile_put_gets_400_and_changes_nothing(client, name):
    contact = ContactFactory(first_name="Kept", notes="n")
    before = snapshot(contact)
    body, content_type = BAD_BODIES[name]

    response = client.put(f"{V1}/contacts/{contact.pk}/", body, content_type=content_type)

    assert_uniform_error(response, 400)
    assert snapshot(contact) == before


@pytest.mark.parametrize("name", ["invalid json", "xml external entity", "binary garbage as csv"])
def test_a_malformed_batch_gets_400_and_writes_nothing(client, name):
    body, content_type = BAD_BODIES[name]

    response = client.post(f"{V1}/contacts/batch/", body, content_type=content_type)

    assert_uniform_error(response, 400)
    assert not Contact.objects.exists()


def test_the_xxe_payload_never_reaches_a_record(client):
    response = client.post(f"{V1}/contacts/", XXE, content_type="application/xml")

    assert b"root:" not in response.content
    assert "DOCTYPE" in assert_uniform_error(response, 400)["message"]


def test_an_unterminated_quote_is_a_400_naming_the_missing_quote_and_writes_nothing(client):
    body = b'first_name,email\n"unterminated,a@b.co\nx,y,z,w\n'

    response = client.post(f"{V1}/contacts/", body, content_type="text/csv")

    assert "never closed" in assert_uniform_error(response, 400)["message"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize("columns", [6_000, 100_000])
def test_a_csv_header_of_many_columns_is_refused_quickly(client, columns):
    header = ",".join(f"c{i}" for i in range(columns)).encode()
    started = time.perf_counter()

    response = client.post(f"{V1}/contacts/", header + b"\n" + b"x\n", content_type="text/csv")

    assert time.perf_counter() - started < 2
    assert "at most 1000" in assert_uniform_error(response, 400)["message"]
    assert not Contact.objects.exists()


def test_a_header_at_the_column_limit_is_checked_in_linear_time():
    from customers.api.parsers import MAX_CSV_COLUMNS, _check_header

    header = [f"custom.field_{i}" for i in range(MAX_CSV_COLUMNS)]
    started = time.perf_counter()

    for _ in range(20):
        _check_header(header)

    assert time.perf_counter() - started < 0.5


def test_a_duplicate_or_clashing_column_is_still_named():
    from rest_framework.exceptions import ParseError

    from customers.api.parsers import _check_header

    with pytest.raises(ParseError, match="'email' appears more than once"):
        _check_header(["email", "first_name", "email"])
    with pytest.raises(ParseError, match="'company' clashes"):
        _check_header(["company.id", "first_name", "company"])


def test_a_csv_batch_over_the_line_limit_gets_400_and_writes_nothing(client):
    from customers.api.batch import MAX_BATCH_RECORDS
    from customers.api.parsers import MAX_CSV_ROWS

    body = b"first_name\n" + b"A\n" * (MAX_CSV_ROWS + 1)

    response = client.post(f"{V1}/contacts/batch/", body, content_type="text/csv")

    assert MAX_CSV_ROWS == MAX_BATCH_RECORDS
    errors = assert_uniform_error(response, 400)["errors"]
    assert f"At most {MAX_CSV_ROWS} records" in errors["records"][0]
    assert not Contact.objects.exists()


def test_a_csv_cell_over_the_limit_is_named_with_its_line(client):
    body = b"first_name,notes\r\nA," + b"x" * 200_000 + b"\r\n"

    response = client.post(f"{V1}/contacts/", body, content_type="text/csv")

    assert "line 2 has a cell longer than" in assert_uniform_error(response, 400)["message"]


@pytest.mark.parametrize("depth", [33, 900])
def test_json_nested_past_the_limit_gets_400_naming_the_limit(client, depth):
    body = b'{"first_name": "A", "notes": ' + b"[" * depth + b"]" * depth + b"}"

    response = client.post(f"{V1}/contacts/", body, content_type="application/json")

    assert "nested more than 32 levels" in assert_uniform_error(response, 400)["message"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "limit"),
    [
        (b"[" + b"{}," * 500_000 + b"{}]", "application/json", "500000 values"),
        (b"[" + b'"",' * 500_000 + b'""]', "application/json", "500000 values"),
        (
            b"<root>" + b"<a/>" * 250_001 + b"</root>",
            "application/xml",
            "250000 elements and attributes",
        ),
        (
            b"<root " + b" ".join(b'a%d="1"' % i for i in range(250_001)) + b"/>",
            "application/xml",
            "250000 elements and attributes",
        ),
    ],
    ids=["json dicts", "json strings", "xml elements", "xml attributes"],
)
def test_a_body_of_too_many_values_is_refused_before_it_is_decoded(
    client, body, content_type, limit
):
    response = client.post(f"{V1}/contacts/batch/", body, content_type=content_type)

    assert limit in assert_uniform_error(response, 400)["message"]
    assert not Contact.objects.exists()


def test_commas_and_brackets_inside_json_strings_are_not_values():
    from customers.api.parsers import _json_has_more_values

    body = b'{"notes": "' + b'a, [b], {c}, \\" ' * 200_000 + b'", "first_name": "A"}'

    assert not _json_has_more_values(body, 3)
    assert _json_has_more_values(body, 2)


def test_a_batch_at_ordinary_depth_is_parsed(client):
    body = b'{"records": [{"first_name": "A", "custom_fields": {}, "tags": ["x"]}]}'

    response = client.post(f"{V1}/contacts/batch/", body, content_type="application/json")

    assert response.status_code < 300, response.content[:300]
    assert Contact.objects.count() == 1


def test_absurdly_nested_json_gets_400_not_a_server_error(client):
    body = b"[" * 100_000 + b"]" * 100_000

    response = client.post(f"{V1}/contacts/", body, content_type="application/json")

    assert_uniform_error(response, 400)
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("resource", "body"),
    [("companies", {"domain": "x.example"}), ("deals", {"amount": "1"}), ("activities", {})],
)
@pytest.mark.parametrize("path", ["", "batch/"])
def test_a_record_missing_a_required_field_gets_400_naming_it(client, resource, body, path):
    model = {"companies": Company, "deals": Deal, "activities": Activity}[resource]
    sent = [body] if path else body

    response = client.post(f"{V1}/{resource}/{path}", sent, format="json")

    assert response.status_code < 500, response.content[:100]
    errors = response.json()["results"][0]["errors"] if path else assert_uniform_error(response)
    assert errors
    assert not model.objects.exists()


# Size limits -------------------------------------------------------------------------------


@pytest.fixture
def small_body_limit(settings):
    settings.API_MAX_REQUEST_BYTES = 1024
    return settings.API_MAX_REQUEST_BYTES


@pytest.mark.parametrize(
    ("method", "path"),
    [("post", ""), ("post", "batch/"), ("put", "{pk}/"), ("put", "by-external-id/big/")],
)
def test_a_body_over_the_limit_gets_413_and_writes_nothing(client, small_body_limit, method, path):
    contact = ContactFactory(first_name="Kept")
    before = snapshot(contact)
    body = b'{"first_name": "' + b"x" * (small_body_limit + 1) + b'"}'

    response = getattr(client, method)(
        f"{V1}/contacts/{path.format(pk=contact.pk)}", body, content_type="application/json"
    )

    assert assert_uniform_error(response, 413)["code"] == "request_too_large"
    assert snapshot(contact) == before
    assert Contact.objects.count() == 1


def test_a_body_at_the_limit_is_accepted(client, small_body_limit):
    prefix, suffix = b'{"first_name": "A", "notes": "', b'"}'
    body = prefix + b"x" * (small_body_limit - len(prefix) - len(suffix)) + suffix

    response = client.post(f"{V1}/contacts/", body, content_type="application/json")

    assert len(body) == small_body_limit
    assert response.status_code == 201


def test_a_body_under_the_api_limit_but_over_2_5_mib_is_accepted(client, settings):
    assert settings.API_MAX_REQUEST_BYTES > 3 * 1024 * 1024
    body = b'{"first_name": "A"' + b" " * (3 * 1024 * 1024) + b"}"

    response = client.post(f"{V1}/contacts/", body, content_type="application/json")

    assert response.status_code == 201, response.content[:200]


# Content negotiation -----------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["application/x-yaml", "text/plain", "application/pdf"])
def test_an_unsupported_content_type_gets_415_and_writes_nothing(client, content_type):
    response = client.post(f"{V1}/contacts/", b"first_name: A", content_type=content_type)

    assert assert_uniform_error(response, 415)["code"] == "unsupported_media_type"
    assert not Contact.objects.exists()


def test_an_unknown_format_suffix_gets_a_4xx_in_the_uniform_shape(client):
    response = client.get(f"{V1}/contacts/?format=pdf")

    assert_uniform_error(response)


def test_an_unsatisfiable_accept_header_gets_406(client):
    response = client.get(f"{V1}/contacts/", HTTP_ACCEPT="application/pdf")

    assert assert_uniform_error(response, 406)["code"] == "not_acceptable"


@pytest.mark.parametrize("path", ["/contacts/999999/", "/contacts/?format=pdf"])
def test_not_found_says_not_found(client, path):
    body = assert_uniform_error(client.get(f"{V1}{path}"), 404)

    assert body["code"] == "not_found"
    assert body["message"]


# Query parameters --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "query", "field"),
    [
        ("contacts", "owner=abc", "owner"),
        ("contacts", "owner=999999", "owner"),
        ("contacts", "company=abc", "company"),
        ("contacts", "lifecycle_stage=bogus", "lifecycle_stage"),
        ("contacts", "updated_since=yesterday", "updated_since"),
        ("deals", "amount_min=lots", "amount_min"),
        ("deals", "status=pending", "status"),
        ("deals", "close_after=2025-13-45", "close_after"),
        ("activities", "kind=telepathy", "kind"),
        ("activities", "due_after=soon", "due_after"),
    ],
)
def test_an_unusable_filter_value_gets_400_naming_the_filter(client, resource, query, field):
    response = client.get(f"{V1}/{resource}/?{query}")

    assert field in assert_uniform_error(response, 400)["errors"]


@pytest.mark.parametrize(
    ("resource", "param", "value"),
    [
        ("contacts", "updated_since", "9999-12-31T23:59:59-05:00"),
        ("contacts", "created_after", "0001-01-01T00:00:00+05:00"),
        ("companies", "updated_before", "0001-01-01T00:00:00+14:00"),
        ("deals", "created_before", "9999-12-31T23:00:00-23:59"),
        ("activities", "due_after", "0001-01-01T00:00:00+05:00"),
        ("activities", "due_before", "9999-12-31T23:59:59-05:00"),
    ],
)
def test_a_time_with_no_utc_equivalent_is_a_400_naming_the_parameter(
    client, resource, param, value
):
    response = client.get(f"{V1}/{resource}/", {param: value})

    errors = assert_uniform_error(response, 400)["errors"]
    assert errors == {param: ["The time is out of range."]}


@pytest.mark.parametrize(
    "query",
    ["updated_since=9999-12-31", "created_before=9999-12-31T23:59:59Z", "close_before=9999-12-31"],
)
def test_the_last_day_of_the_calendar_is_a_valid_filter(client, query):
    ContactFactory()

    response = client.get(f"{V1}/deals/?{query}")

    assert response.status_code == 200


@pytest.mark.parametrize("choices", ["gold", 5, {"gold": 1}, [["gold"]]], ids=repr)
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_custom_field_choices_that_are_not_a_list_of_texts_are_a_field_error(
    make_api_client, choices, fmt
):
    from customers.models import CustomField
    from tests.api.support import send
    from tests.factories import ManagerFactory

    client = non_raising(make_api_client(ManagerFactory(), ["settings:read", "settings:write"]))
    body = {"entity": "contact", "name": "tier", "label": "Tier", "type": "choice"}

    response = send(client, "post", f"{V1}/custom-fields/", fmt, {**body, "choices": choices})

    assert "choices" in assert_uniform_error(response, 400)["errors"]
    assert not CustomField.objects.exists()


def test_custom_field_choices_in_a_csv_cell_are_split_on_the_bar(make_api_client):
    from customers.models import CustomField
    from tests.factories import ManagerFactory

    client = make_api_client(ManagerFactory(), ["settings:read", "settings:write"])
    body = b"entity,name,label,type,choices\ncontact,tier,Tier,choice,gold|silver\n"

    response = client.post(f"{V1}/custom-fields/", body, content_type="text/csv")

    assert response.status_code == 201, response.content
    assert CustomField.objects.get().choices == ["gold", "silver"]


@pytest.mark.parametrize(
    "query", ["cursor=garbage", "page_size=-5", "page_size=99999999999999999999", "fields=__dict__"]
)
def test_odd_paging_and_field_parameters_never_cause_a_server_error(client, query):
    ContactFactory()

    response = client.get(f"{V1}/contacts/?{query}")

    assert response.status_code < 500
    if response.status_code >= 400:
        assert_uniform_error(response)


def test_an_out_of_range_id_is_a_404_not_a_server_error(client):
    response = client.get(f"{V1}/contacts/99999999999999999999999/")

    assert_uniform_error(response, 404)


def test_an_out_of_range_related_id_is_a_field_error(client):
    response = client.post(f"{V1}/contacts/", {"first_name": "A", "company": 10**30}, format="json")

    assert "company" in assert_uniform_error(response, 400)["errors"]
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("resource", "body", "fields"),
    [
        (
            "contacts",
            {"email": "x", "lifecycle_stage": "zombie", "owner": 999_999, "company": 999_999},
            {"email", "lifecycle_stage", "owner", "company"},
        ),
        (
            "deals",
            {"name": "Deal", "amount": "-1", "stage": 999_999, "company": 999_999},
            {"amount", "stage", "company"},
        ),
        ("activities", {"kind": "x", "deal": 999_999}, {"kind", "subject", "deal"}),
    ],
)
def test_one_answer_names_every_field_in_error_unknown_references_included(
    client, resource, body, fields
):
    response = client.post(f"{V1}/{resource}/", body, format="json")

    assert set(assert_uniform_error(response, 400)["errors"]) == fields
    assert not (Contact.objects.exists() or Deal.objects.exists() or Activity.objects.exists())


@pytest.mark.parametrize("fmt", ["xml", "csv"])
def test_errors_are_rendered_in_the_format_the_client_accepts(client, fmt):
    response = client.post(f"{V1}/contacts/?format={fmt}", {"email": "not-an-email"}, format="json")

    assert response.status_code == 400
    assert response["Content-Type"].startswith({"xml": "application/xml", "csv": "text/csv"}[fmt])
    assert b"invalid" in response.content and b"email" in response.content
    assert not Contact.objects.exists()


@pytest.mark.parametrize("resource", ["contacts", "companies", "deals", "activities"])
def test_a_search_over_the_limit_is_a_400_naming_search(client, resource):
    from customers.api.filters import SEARCH_MAX_CHARS

    words = " ".join(["ab"] * 1500)

    response = client.get(f"{V1}/{resource}/", {"search": words})

    assert (
        f"At most {SEARCH_MAX_CHARS}" in assert_uniform_error(response, 400)["errors"]["search"][0]
    )


def test_a_search_of_many_words_within_the_limit_is_searched(client):
    from customers.api.filters import SEARCH_MAX_CHARS

    response = client.get(
        f"{V1}/contacts/", {"search": ("ab " * SEARCH_MAX_CHARS)[:SEARCH_MAX_CHARS]}
    )

    assert response.status_code == 200


def test_a_form_body_of_too_many_fields_is_a_400_in_the_uniform_shape(client, settings):
    body = "&".join(f"f{index}=x" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))

    response = client.post(
        f"{V1}/contacts/", body, content_type="application/x-www-form-urlencoded"
    )

    message = assert_uniform_error(response, 400)["message"]
    assert f"at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS} fields" in message
    assert not Contact.objects.exists()


def test_a_multipart_body_of_too_many_fields_is_a_400_in_the_uniform_shape(client, settings):
    from django.test.client import BOUNDARY, encode_multipart

    fields = {f"f{index}": "x" for index in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}

    response = client.post(
        f"{V1}/imports/",
        encode_multipart(BOUNDARY, fields),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )

    assert "fields" in assert_uniform_error(response, 400)["message"]
