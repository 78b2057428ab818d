"""SOAP, the second service door, against the import and a sync: a representative subset (the
seed rows of issue #17 SOAP can send, and a missing required field), over a real server."""

import pytest
import zeep
import zeep.exceptions
from zeep.transports import Transport
from zeep.wsse.username import UsernameToken

from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.parity.cases import CASES, DIVERGENCES
from tests.soap.support import field_errors

pytestmark = pytest.mark.django_db(transaction=True)
SOAP_CASES = {
    "contacts-tag-70-characters",
    "contacts-no-name-email-or-phone",
    "contacts-owner-unknown",
    "companies-tag-70-characters",
    "companies-name-missing",
}
# The SOAP types name a reference by its id element, and a list by its item element.
ELEMENT = {"owner": "owner_id", "company": "company_id"}


def _params() -> list:
    params = []
    for case in (case for case in CASES if case.id in SOAP_CASES):
        for language in case.languages:
            divergence = DIVERGENCES.get(case.id)
            marks = []
            if divergence is not None and language in divergence.languages:
                marks.append(pytest.mark.xfail(strict=True, reason=divergence.reason))
            params.append(pytest.param(case, language, id=f"{case.id}-{language}", marks=marks))
    return params


def soap_record(record: dict) -> dict:
    values = {ELEMENT.get(key, key): value for key, value in record.items()}
    if "tags" in values:
        values["tags"] = {"string": values["tags"]}
    return values


@pytest.fixture
def soap_door(live_server, user, language):
    """CreateContact / CreateCompany as `user`, asking for answers in `language`."""
    _, raw_key = api_key_create(user=user, name="parity", scopes=list(ALL_SCOPES))
    client = zeep.Client(
        f"{live_server.url}/soap/?wsdl",
        wsse=UsernameToken(user.get_username(), raw_key),
        transport=Transport(timeout=30),
    )
    client.transport.session.headers["Accept-Language"] = language
    operation = {"contacts": "CreateContact", "companies": "CreateCompany"}

    def send(resource: str, record: dict):
        try:
            getattr(client.service, operation[resource])(soap_record(record))
        except zeep.exceptions.Fault as fault:
            errors = field_errors(fault)
            return False, {
                ("__all__" if key == "non_field_errors" else key): value
                for key, value in errors.items()
            }
        return True, {}

    yield send
    client.transport.session.close()


@pytest.mark.slow_server
@pytest.mark.parametrize(("case", "language"), _params())
def test_soap_gives_the_answer_the_import_and_a_sync_give(
    case, language, transactional_db, doors, soap_door
):
    record = case.record()
    seen = {"import": doors.file_import(case.resource, record)}
    seen["sync"] = doors.connector_sync(case.resource, record)

    service = soap_door(case.resource, record)  # last: it commits
    assert seen == {door: service for door in seen}
