"""Custom fields over REST: definitions, values in JSON/XML/CSV both ways, filters, masking."""

import pytest

from customers.actors import SYSTEM
from customers.api.parsers import CSVParser, XMLParser
from customers.models import Contact, CustomField
from customers.services.custom_fields import custom_field_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

CONTACTS = "/api/v1/contacts/"
DEFINITIONS = "/api/v1/custom-fields/"

ALL_TYPES = {
    "tier": ("choice", {"choices": ["gold", "silver"]}, "gold"),
    "regions": ("multi_choice", {"choices": ["north", "south"]}, ["north", "south"]),
    "score": ("integer", {}, 42),
    "budget": ("decimal", {}, "1234.50"),
    "renewal": ("date", {}, "2027-01-31"),
    "last_seen": ("datetime", {}, "2026-11-25T08:30:00Z"),
    "active": ("boolean", {}, True),
    "nickname": ("text", {}, "小张 😀"),
    "bio": ("long_text", {}, "line 1\nline 2"),
    "billing_email": ("email", {}, "billing@example.cn"),
    "fax": ("phone", {}, "+86 10 6000 0000"),
    "homepage": ("url", {}, "https://example.cn/a"),
}


@pytest.fixture
def every_type(db):
    for name, (type_, extra, _) in ALL_TYPES.items():
        custom_field_create(
            actor=SYSTEM, entity="contact", name=name, label=name, type=type_, **extra
        )
    return {name: value for name, (_, _, value) in ALL_TYPES.items()}


def parse(response, parser):
    class View:
        action = "retrieve"
        csv_list_fields = {"tags"}

    return parser().parse(
        __import__("io").BytesIO(response.content), parser_context={"view": View()}
    )


def test_a_manager_defines_a_field_over_rest(make_api_client):
    from tests.factories import ManagerFactory

    client = make_api_client(ManagerFactory(), ["settings:read", "settings:write"])

    response = client.post(
        DEFINITIONS,
        {
            "entity": "contact",
            "name": "vip_level",
            "label": "VIP level",
            "label_zh": "贵宾等级",
            "type": "choice",
            "choices": ["gold", "silver"],
            "required": False,
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert CustomField.objects.get().label_zh == "贵宾等级"
    assert client.get(DEFINITIONS).json()[0]["name"] == "vip_level"


def test_a_bad_definition_gets_a_field_level_400(make_api_client):
    from tests.factories import ManagerFactory

    client = make_api_client(ManagerFactory(), ["settings:read", "settings:write"])

    response = client.post(
        DEFINITIONS,
        {"entity": "contact", "name": "email", "label": "E", "type": "text"},
        format="json",
    )

    assert response.status_code == 400 and "name" in response.json()["errors"]
    assert CustomField.objects.count() == 0


def test_sales_cannot_define_fields(api):
    response = api.post(
        DEFINITIONS, {"entity": "contact", "name": "x", "label": "X", "type": "text"}, format="json"
    )

    assert response.status_code == 403


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_every_type_round_trips_in_every_format(api, every_type, fmt):
    created = api.post(CONTACTS, {"first_name": "A", "custom_fields": every_type}, format="json")
    assert created.status_code == 201, created.json()
    url = f"{CONTACTS}{created.json()['id']}/"
    before = Contact.objects.get().custom_fields

    got = api.get(url, {"format": fmt})
    content_type = {"json": "application/json", "xml": "application/xml", "csv": "text/csv"}[fmt]
    put = api.put(url, got.content, content_type=content_type)

    assert put.status_code == 200, put.content
    assert Contact.objects.get().custom_fields == before
    assert api.get(url).json()["custom_fields"] == every_type


def test_csv_carries_custom_fields_as_columns_named_after_them(api, every_type):
    ContactFactory(custom_fields={"score": 7})

    text = api.get(CONTACTS, {"format": "csv"}).content.decode()

    header = text.splitlines()[0].split(",")
    assert header[-len(every_type) :] == list(every_type)
    assert "custom_fields.score" not in header


def test_xml_carries_custom_fields_as_nested_elements(api, every_type):
    contact = ContactFactory(custom_fields={"score": 7, "tier": "gold"})

    data = parse(api.get(f"{CONTACTS}{contact.pk}/", {"format": "xml"}), XMLParser)

    assert data["custom_fields"]["score"] == "7" and data["custom_fields"]["tier"] == "gold"
    assert data["custom_fields"]["renewal"] is None


@pytest.mark.parametrize("fmt", ["json", "xml", "csv"])
def test_an_invalid_value_is_a_field_level_400_in_every_format(api, every_type, fmt):
    contact = ContactFactory(first_name="Keep")
    url = f"{CONTACTS}{contact.pk}/"
    bodies = {
        "json": ('{"custom_fields": {"score": "many"}}', "application/json"),
        "xml": (
            "<root><custom_fields><score>many</score></custom_fields></root>",
            "application/xml",
        ),
        "csv": ("first_name,score\nKeep,many\n", "text/csv"),
    }
    body, content_type = bodies[fmt]

    response = api.patch(url, body, content_type=content_type)

    assert response.status_code == 400
    assert "custom_fields.score" in response.json()["errors"]
    assert Contact.objects.get().custom_fields == {}


def test_pii_custom_fields_are_masked_without_pii_read(api_without_pii):
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    contact = ContactFactory(custom_fields={"wechat": "wx_zhang"})
    url = f"{CONTACTS}{contact.pk}/"

    shown = api_without_pii.get(url).json()["custom_fields"]
    put_back = api_without_pii.put(url, {"custom_fields": shown}, format="json")

    assert shown == {"wechat": "***"}
    assert put_back.status_code == 200
    assert api_without_pii.get(url).json()["custom_fields"] == {"wechat": "***"}
    contact.refresh_from_db()
    assert "wx_zhang" not in str(contact.custom_fields)  # still ciphertext, still the same value
    from customers.custom_fields.values import definitions_for, plain_values

    assert plain_values(contact.custom_fields, definitions_for("contact"), can_view_pii=True) == {
        "wechat": "wx_zhang"
    }


def test_filters_by_custom_fields(api, every_type):
    low = ContactFactory(custom_fields={"score": 5, "budget": "10.50", "renewal": "2026-01-01"})
    high = ContactFactory(custom_fields={"score": 50, "budget": "9999", "renewal": "2027-06-01"})

    def ids(**params):
        return [row["id"] for row in api.get(CONTACTS, params).json()["results"]]

    assert ids(cf_score=5) == [low.pk]
    assert ids(cf_score__gte=10) == [high.pk]
    assert ids(cf_budget__lt="100") == [low.pk]
    assert ids(cf_renewal__gte="2027-01-01") == [high.pk]
    assert api.get(CONTACTS, {"cf_nope": 1}).status_code == 400
    assert api.get(CONTACTS, {"cf_score__gte": "lots"}).status_code == 400


def test_a_pii_custom_field_is_found_by_exact_match(api):
    custom_field_create(
        actor=SYSTEM, entity="contact", name="fax", label="Fax", type="phone", pii=True
    )
    contact = ContactFactory(custom_fields={"fax": "+86 10 6000 0001"})
    ContactFactory(custom_fields={"fax": "+86 10 6000 0002"})

    found = api.get(CONTACTS, {"cf_fax": "0086 10-6000-0001"}).json()["results"]

    assert [row["id"] for row in found] == [contact.pk]


def test_export_includes_custom_fields(api, every_type):
    ContactFactory(custom_fields={"score": 3})

    response = api.get(f"{CONTACTS}export/", {"format": "csv"})
    text = b"".join(response.streaming_content).decode()

    header, row = text.splitlines()[:2]
    assert header.split(",")[-len(every_type) :] == list(every_type)
    rows = CSVParser().parse(
        __import__("io").BytesIO(text.encode()),
        parser_context={"view": type("V", (), {"action": "batch", "csv_list_fields": {"tags"}})()},
    )
    assert rows[0]["score"] == "3"


def test_the_schema_lists_current_custom_fields(api, every_type):
    schema = api.get("/api/schema/", {"format": "json"}).json()

    properties = schema["components"]["schemas"]["ContactOutput"]["properties"]["custom_fields"]
    assert properties["properties"]["score"]["type"] == "integer"
    assert properties["properties"]["tier"]["enum"] == ["gold", "silver", None]


def test_checking_a_type_change_against_an_unknown_type_is_a_400(make_api_client):
    from tests.factories import ManagerFactory

    client = make_api_client(ManagerFactory(), ["settings:read", "settings:write"])
    field = custom_field_create(
        actor=SYSTEM, entity="contact", name="code", label="Code", type="text"
    )
    ContactFactory(custom_fields={"code": "A1"})

    bad = client.get(f"{DEFINITIONS}{field.pk}/incompatible/", {"type": "colour"})
    good = client.get(f"{DEFINITIONS}{field.pk}/incompatible/", {"type": "integer"})

    assert bad.status_code == 400 and "type" in bad.json()["errors"]
    assert good.json()["count"] == 1


def test_deleting_a_field_answers_as_documented(make_api_client, client, sales_user):
    from tests.factories import ManagerFactory

    manager = make_api_client(ManagerFactory(), ["settings:read", "settings:write"])
    field = custom_field_create(
        actor=SYSTEM, entity="contact", name="code", label="Code", type="text"
    )
    ContactFactory(owner=sales_user, custom_fields={"code": "A-1"})
    url = f"{DEFINITIONS}{field.pk}/"
    document = client.get("/api/schema/", {"format": "json"}).json()
    documented = document["paths"]["/api/v1/custom-fields/{id}/"]["delete"]["responses"]

    refused = manager.delete(url)
    deleted = manager.delete(f"{url}?purge=true")

    assert refused.status_code == 400 and "purge" in refused.json()["errors"]
    assert deleted.status_code == 200 and deleted.json() == {"purged_values": 1}
    assert set(documented) >= {"200", "400"} and "204" not in documented
    body = documented["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    assert set(document["components"]["schemas"][body]["properties"]) == set(deleted.json())
    assert not CustomField.objects.filter(pk=field.pk).exists()
