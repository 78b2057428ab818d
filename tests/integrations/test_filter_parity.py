"""Filter parity: the same filters give the same records through every door that lists
contacts (REST list, REST streaming export, an export job, SOAP SearchContacts, the web
list); a refused value is an error naming the parameter in each; the lookup by personal data
is refused at each to a caller who may not read it. One rule (``customers.filters``, applied
by ``selectors.contact_list``) makes this hold."""

import io
import json
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from lxml import etree
from rest_framework.test import APIClient

from customers import roles
from customers.models import Contact
from integrations.exports import services as exports
from integrations.scopes import ALL_SCOPES
from integrations.services.api_keys import api_key_create
from tests.factories import CompanyFactory, ContactFactory, SalesUserFactory, UserFactory
from tests.soap.support import envelope

pytestmark = pytest.mark.django_db

V1 = "/api/v1"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
EMAIL = "wei.zhang@example.cn"
WITHOUT_PII = [scope for scope in ALL_SCOPES if scope != "pii:read"]


class Doors:
    """One caller (a user and their key) at every door, each answering with record ids or
    the names of the parameters it refused."""

    def __init__(self, user, scopes) -> None:
        self.user = user
        _, raw_key = api_key_create(user=user, name="parity", scopes=list(scopes))
        self.rest = APIClient()
        self.rest.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        self.wsse = (
            f'<wsse:Security xmlns:wsse="{WSSE}"><wsse:UsernameToken>'
            f"<wsse:Username>{user.username}</wsse:Username>"
            f"<wsse:Password>{raw_key}</wsse:Password></wsse:UsernameToken></wsse:Security>"
        )
        self.web = Client()
        self.web.force_login(user)
        self.may_read_pii = "pii:read" in scopes

    def rest_list(self, params: dict) -> set[int] | set[str]:
        response = self.rest.get(f"{V1}/contacts/", {**params, "page_size": 1000})
        if response.status_code == 400:
            return set(response.json()["errors"])
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    def rest_export(self, params: dict) -> set[int] | set[str]:
        response = self.rest.get(f"{V1}/contacts/export/?{urlencode({**params, 'format': 'json'})}")
        if response.status_code == 400:
            return set(response.json()["errors"])
        assert response.status_code == 200
        return {row["id"] for row in json.loads(b"".join(response.streaming_content))}

    def export_job(self, params: dict) -> set[int] | set[str]:
        try:
            job = exports.export_create(
                user=self.user,
                resource="contacts",
                format="json",
                filters=params,
                include_pii=False,
                may_look_up_pii=self.may_read_pii,
                enqueue=False,
            )
        except ValidationError as error:
            return {name.removeprefix("filters.") for name in error.message_dict}
        stream = io.StringIO()
        exports.export_write(
            resource="contacts",
            format="json",
            filters=job.filters,
            include_pii=False,
            stream=stream,
        )
        return {row["id"] for row in json.loads(stream.getvalue())}

    def soap_search(self, params: dict) -> set[int] | set[str]:
        """SearchContacts: `query` is the search box, `email` the exact lookup."""
        elements = {"search": "query", "email": "email"}
        body = "".join(
            f"<crm:{elements[name]}>{value}</crm:{elements[name]}>"
            for name, value in params.items()
        )
        body += "<crm:limit>500</crm:limit>"
        response = self.web.post(
            "/soap/",
            envelope("SearchContacts", body, header=self.wsse),
            content_type="text/xml; charset=utf-8",
        )
        root = etree.fromstring(response.content)
        fault = root.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
        if fault is not None:
            assert fault.findtext("faultcode").endswith("Client.ValidationError")
            named = {item.get("field") for item in fault.iter("{*}error")}
            return {name for name, element in elements.items() if element in named}
        return {int(item.findtext("{*}id")) for item in root.iter("{*}items")}

    def web_list(self, params: dict) -> set[int] | set[str]:
        """The list's search box takes words and exact emails alike (`q`)."""
        response = self.web.get(reverse("web:contact-list"), {"q": next(iter(params.values()))})
        assert response.status_code == 200
        errors = response.context["form"].errors
        if errors:
            return {next(iter(params))} if "q" in errors else set(errors)
        return {row.pk for row in response.context["page"].rows}

    def every_door(self, params: dict) -> dict[str, set]:
        return {
            door: getattr(self, door)(params)
            for door in ("rest_list", "rest_export", "export_job", "soap_search", "web_list")
        }


@pytest.fixture
def people():
    acme = CompanyFactory(name="Acme Trading")
    return {
        "zhang": ContactFactory(first_name="伟", last_name="张", email=EMAIL, company=acme),
        "wang": ContactFactory(first_name="芳", last_name="王", company=acme),
        "ada": ContactFactory(first_name="Ada", last_name="Lovelace", title="Analyst"),
    }


@pytest.fixture
def reader():
    return Doors(SalesUserFactory(), ALL_SCOPES)


@pytest.fixture
def no_pii_reader():
    """A user without view_pii, through a key without pii:read."""
    user = UserFactory()
    codenames = [name for name in roles.ROLE_PERMISSIONS[roles.SALES] if name != "view_pii"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return Doors(user, WITHOUT_PII)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "张伟"}, {"zhang"}),
        ({"search": "acme"}, {"zhang", "wang"}),
        ({"search": "ada analyst"}, {"ada"}),
        ({"search": "nobody"}, set()),
        ({"email": EMAIL}, {"zhang"}),
    ],
)
def test_the_same_filters_give_the_same_records_through_every_door(
    reader, people, params, expected
):
    wanted = {people[name].pk for name in expected}

    answers = reader.every_door(params)

    assert answers == dict.fromkeys(answers, wanted)


def test_a_search_over_the_bound_is_refused_naming_it_at_every_door(reader, people):
    answers = reader.every_door({"search": "张" * 201})

    assert answers == dict.fromkeys(answers, {"search"})


def test_an_email_lookup_is_refused_at_every_door_to_a_caller_who_may_not_read_pii(
    no_pii_reader, people
):
    answers = no_pii_reader.every_door({"email": EMAIL})

    assert answers == dict.fromkeys(answers, {"email"})
    assert Contact.objects.count() == 3  # nothing else happened


def test_a_caller_without_pii_rights_still_searches_by_name_at_every_door(no_pii_reader, people):
    answers = no_pii_reader.every_door({"search": "张伟"})

    assert answers == dict.fromkeys(answers, {people["zhang"].pk})


def test_soap_names_the_element_the_caller_sent_when_a_deal_criterion_is_refused(reader):
    """The filter is `company`; the SearchDeals element is `company_id`."""
    body = "<crm:status>sold</crm:status><crm:company_id>999999</crm:company_id>"
    response = reader.web.post(
        "/soap/",
        envelope("SearchDeals", body, header=reader.wsse),
        content_type="text/xml; charset=utf-8",
    )

    fault = etree.fromstring(response.content).find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault.findtext("faultcode").endswith("Client.ValidationError")
    assert {item.get("field") for item in fault.iter("{*}error")} == {"status", "company_id"}
