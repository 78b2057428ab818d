"""Malformed, mistyped and hostile envelopes get Client faults; nothing is half-written."""

import pytest

from customers.models import Contact
from tests.factories import ContactFactory
from tests.soap.support import envelope, post_envelope, raises_fault, raw_fault, wsse_header

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""
XXE = """<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
"""


def _hostile(prolog: str, entity: str) -> str:
    return prolog + envelope(
        "CreateContact", f"<crm:contact><t:first_name>{entity}</t:first_name></crm:contact>"
    )


@pytest.mark.parametrize(
    "payload",
    [_hostile(BILLION_LAUGHS, "&lol9;"), _hostile(XXE, "&xxe;")],
    ids=["billion-laughs", "xxe"],
)
def test_dtds_and_entities_are_refused_before_anything_runs(soap_url, sales_user, payload):
    before = Contact.objects.count()
    response = post_envelope(soap_url, payload)
    code, message = raw_fault(response)
    assert code == "Client.SecurityError", message
    assert b"root:" not in response.content and b"lollol" not in response.content
    assert Contact.objects.count() == before


@pytest.mark.parametrize(
    "body",
    [b"this is not xml", b"<unclosed>", b"", "<a>caf\u00e9</a>".encode("latin-1")],
    ids=["text", "unclosed", "empty", "bad-encoding"],
)
def test_malformed_xml_is_a_client_fault(soap_url, body):
    code, _ = raw_fault(post_envelope(soap_url, body))
    assert code.startswith("Client."), code


def test_xml_that_is_not_a_soap_envelope_is_a_client_fault(soap_url):
    code, message = raw_fault(post_envelope(soap_url, "<hello>world</hello>"))
    assert code.startswith("Client."), (code, message)


def test_an_unknown_operation_is_a_client_fault(soap_url):
    code, _ = raw_fault(post_envelope(soap_url, envelope("DropAllTables")))
    assert code.startswith("Client."), code


def test_a_wrongly_typed_value_is_a_client_fault(soap_url, sales_user):
    contact = ContactFactory()
    code, message = raw_fault(
        post_envelope(soap_url, envelope("GetContact", f"<crm:id>{contact.pk}abc</crm:id>"))
    )
    assert code == "Client.SchemaValidationError", message


def test_a_wrongly_typed_field_in_a_record_is_refused_and_writes_nothing(soap_url):
    before = Contact.objects.count()
    body = envelope(
        "CreateContact",
        "<crm:contact><t:first_name>A</t:first_name>"
        "<t:consent_email>perhaps</t:consent_email></crm:contact>",
    )
    code, message = raw_fault(post_envelope(soap_url, body))
    assert code == "Client.SchemaValidationError" and "consent_email" in message
    assert Contact.objects.count() == before


def test_a_validation_fault_lists_each_field_in_its_detail(soap):
    from tests.soap.support import field_errors

    with raises_fault("Client.ValidationError") as fault:
        soap.service.CreateContact({"first_name": "A", "email": "bad", "lifecycle_stage": "x"})
    errors = field_errors(fault.value)
    assert set(errors) == {"email", "lifecycle_stage"}


def test_a_constraint_violation_is_a_validation_fault_not_a_server_error(soap):
    ContactFactory(email="taken@example.com")
    with raises_fault("Client.ValidationError") as fault:
        soap.service.CreateContact({"first_name": "B", "email": "TAKEN@example.com"})
    assert "email" in fault.value.message


def test_get_is_the_wsdl_and_other_verbs_are_not_allowed(soap_url):
    import requests

    assert b"definitions" in requests.get(f"{soap_url}?wsdl", timeout=30).content
    assert requests.put(soap_url, data=b"<x/>", timeout=30).status_code == 405


def test_an_oversized_request_is_a_client_fault(soap_url, settings):
    limit = settings.API_MAX_REQUEST_BYTES
    body = envelope("CreateContact", f"<crm:contact><t:notes>{'x' * limit}</t:notes></crm:contact>")
    code, message = raw_fault(post_envelope(soap_url, body))
    assert code == "Client.RequestTooLarge" and str(limit) in message


@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("GetContact", "<crm:id>100000000000000000000</crm:id>"),
        ("SearchContacts", "<crm:offset>100000000000000000000</crm:offset>"),
        (
            "CreateContact",
            "<crm:contact><t:first_name>A</t:first_name>"
            "<t:company_id>100000000000000000000</t:company_id></crm:contact>",
        ),
    ],
    ids=["id", "offset", "company_id"],
)
def test_a_number_beyond_64_bits_is_a_client_fault_not_a_server_error(
    soap_url, sales_user, operation, body
):
    payload = envelope(operation, body, header=wsse_header(sales_user))
    code, message = raw_fault(post_envelope(soap_url, payload))
    assert code == "Client.SchemaValidationError", (code, message)


def test_a_time_out_of_range_in_utc_is_a_validation_fault(soap):
    with raises_fault("Client.ValidationError") as fault:
        soap.service.SearchContacts(updated_since="0001-01-01T00:00:00+05:00")
    assert "updated_since" in fault.value.message


@pytest.mark.parametrize(
    ("operation", "criterion"),
    [
        ("SearchContacts", "query"),
        ("SearchContacts", "email"),
        ("SearchCompanies", "query"),
        ("SearchCompanies", "phone"),
        ("SearchDeals", "query"),
    ],
)
def test_a_search_criterion_over_the_limit_is_a_validation_fault_naming_it(
    soap, operation, criterion
):
    from integrations.soap.app import SEARCH_TEXT_MAX_CHARS
    from tests.soap.support import field_errors

    with raises_fault("Client.ValidationError") as fault:
        getattr(soap.service, operation)(**{criterion: "x" * (SEARCH_TEXT_MAX_CHARS + 1)})

    assert list(field_errors(fault.value)) == [criterion]


def test_a_search_criterion_at_the_limit_is_searched(soap):
    from integrations.soap.app import SEARCH_TEXT_MAX_CHARS

    page = soap.service.SearchContacts(query="x" * SEARCH_TEXT_MAX_CHARS)

    assert page.total == 0


def test_a_9_mb_search_query_is_a_client_fault_in_bounded_time(soap_url, sales_user):
    import time

    query = "ab " * 3_000_000
    payload = envelope("SearchContacts", f"<crm:query>{query}</crm:query>", wsse_header(sales_user))
    started = time.perf_counter()

    code, message = raw_fault(post_envelope(soap_url, payload))

    assert code == "Client.ValidationError" and "query" in message
    assert time.perf_counter() - started < 10


def test_xml_nested_deeper_than_the_parser_allows_is_a_client_fault(soap_url, sales_user):
    deep = "<crm:x>" * 5000 + "</crm:x>" * 5000
    payload = envelope("SearchContacts", f"<crm:query>{deep}</crm:query>", wsse_header(sales_user))

    code, _ = raw_fault(post_envelope(soap_url, payload))

    assert code.startswith("Client."), code


def test_a_time_after_year_9999_in_utc_is_a_validation_fault(soap):
    with raises_fault("Client.ValidationError") as fault:
        soap.service.SearchContacts(updated_since="9999-12-31T23:59:59-05:00")
    assert "updated_since" in fault.value.message


@pytest.mark.parametrize(
    "contact",
    [
        "<crm:contact>" + "<t:x/>" * 100_001 + "</crm:contact>",
        "<crm:contact " + " ".join(f'a{index}="1"' for index in range(100_001)) + "/>",
    ],
    ids=["elements", "attributes"],
)
def test_an_envelope_of_too_many_nodes_is_refused_before_it_is_parsed(soap_url, contact):
    from integrations.soap.views import MAX_XML_NODES

    before = Contact.objects.count()

    code, message = raw_fault(post_envelope(soap_url, envelope("CreateContact", contact)))

    assert code == "Client.RequestTooLarge" and str(MAX_XML_NODES) in message
    assert Contact.objects.count() == before
