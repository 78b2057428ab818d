"""A database that cannot be reached is answered 503 (retry shortly) in every door's own shape,
never a 500 page: the web UI and the admin (a plain page), REST (its JSON error, whether DRF or
a middleware met the failure) and SOAP (a ``Server.Unavailable`` fault)."""

import pytest
from django.test import Client

from crm_project import server_errors
from tests.factories import SalesUserFactory
from tests.project.database_outage import database_unreachable
from tests.soap.support import envelope, raw_fault, wsse_header

# Not inside a test transaction: the connection must be closed and opened again for real.
pytestmark = pytest.mark.django_db(transaction=True)

MESSAGE = "The database is unavailable; try again shortly."


@pytest.fixture
def signed_in():
    client = Client(raise_request_exception=False)
    client.force_login(SalesUserFactory())
    return client


@pytest.mark.parametrize("path", ["/", "/contacts/", "/admin/"])
def test_pages_answer_503_with_a_retry_after_and_a_plain_message(signed_in, path):
    with database_unreachable():
        response = signed_in.get(path)

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert MESSAGE in response.content.decode()


def test_the_page_speaks_the_visitor_s_language(signed_in):
    with database_unreachable():
        response = signed_in.get("/contacts/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert response.status_code == 503
    assert "数据库" in response.content.decode()


def test_rest_answers_its_own_error_shape_wherever_the_failure_is_met(signed_in):
    with database_unreachable():
        response = signed_in.get("/api/v1/contacts/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"code": "database_unavailable", "message": MESSAGE, "errors": {}}


def test_soap_answers_a_server_unavailable_fault():
    header = wsse_header(SalesUserFactory())
    body = envelope("SearchContacts", header=header)

    with database_unreachable():
        response = Client(raise_request_exception=False).post(
            "/soap/", body, content_type="text/xml; charset=utf-8"
        )

    assert raw_fault(response) == ("Server.Unavailable", MESSAGE)


def test_any_other_failure_is_still_django_s_500(rf):
    request = rf.get("/contacts/")
    try:
        raise RuntimeError("a bug")
    except RuntimeError:
        response = server_errors.server_error(request)

    assert response.status_code == 500
    assert not response.has_header("Retry-After")
