"""A contact in a list page reads exactly as the contact itself does (same keys, same order,
same values), whatever the caller may see: the list has its own fast read path, the record
keeps the serializer, and nothing may tell them apart."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.actors import SYSTEM
from customers.models import CustomField
from customers.services import custom_fields
from customers.services.custom_fields import custom_field_create
from tests.api.support import V1
from tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def assorted(sales_user):
    """Contacts with and without company, owner, tags, PII and custom values, Latin and CJK."""
    custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )
    custom_field_create(
        actor=SYSTEM, entity="contact", name="fax", label="Fax", type="phone", pii=True
    )
    custom_field_create(actor=SYSTEM, entity="contact", name="seats", label="Seats", type="integer")
    custom_field_create(
        actor=SYSTEM, entity="contact", name="renewal", label="Renewal", type="date"
    )
    custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="plan",
        label="Plan",
        type="multi_choice",
        choices=["a", "b"],
    )
    company = CompanyFactory(name="Acme 上海", owner=sales_user)
    return [
        ContactFactory(
            first_name="伟",
            last_name="张",
            company=company,
            owner=sales_user,
            tags=["vip", "Beta", "alpha"],
            notes="=1+1",
            consent_email=True,
            custom_fields={
                "wechat": "zhangwei88",
                "fax": "+86 10 6000 0000",
                "seats": 12,
                "renewal": "2027-01-31",
                "plan": ["b", "a"],
            },
        ),
        ContactFactory(first_name="Ada", last_name="Lovelace", phone=None, address=None),
        ContactFactory(
            first_name="",
            last_name="",
            email="only.email@example.com",
            phone=None,
            address=None,
            custom_fields={"seats": 0},
        ),
    ]


def listed_and_fetched(client, query: str = "") -> list[tuple[dict, dict]]:
    listed = client.get(f"{V1}/contacts/{query}")
    assert listed.status_code == 200, listed.content
    pairs = []
    for item in listed.json()["results"]:
        separator = "&" if query else "?"
        fetched = client.get(f"{V1}/contacts/{item['id']}/{query}{separator}format=json")
        assert fetched.status_code == 200, fetched.content
        pairs.append((item, fetched.json()))
    return pairs


@pytest.mark.parametrize("caller", ["api", "api_without_pii"])
def test_a_listed_contact_reads_exactly_as_the_contact_itself(request, assorted, caller):
    pairs = listed_and_fetched(request.getfixturevalue(caller))

    assert len(pairs) == len(assorted)
    for listed, fetched in pairs:
        assert list(listed.items()) == list(fetched.items())


def test_the_list_masks_what_the_record_masks(api_without_pii, assorted):
    listed, fetched = next(
        pair for pair in listed_and_fetched(api_without_pii) if pair[0]["id"] == assorted[0].pk
    )

    assert "***" in listed["email"] and listed["custom_fields"]["wechat"] != "zhangwei88"
    assert listed == fetched


def test_sparse_fields_keep_the_same_keys_in_the_same_order(api, assorted):
    query = "?fields=tags,email,id,company,custom_fields,unknown"

    for listed, fetched in listed_and_fetched(api, query):
        assert list(listed) == ["id", "company", "email", "tags", "custom_fields"]
        assert list(listed.items()) == list(fetched.items())


def test_times_read_the_same_in_another_time_zone(api, assorted, settings):
    settings.TIME_ZONE = "Asia/Shanghai"

    for listed, fetched in listed_and_fetched(api):
        assert listed["created_at"].endswith("+08:00")
        assert listed == fetched


def custom_keys(client) -> list[str]:
    response = client.get(f"{V1}/contacts/")
    assert response.status_code == 200, response.content
    return list(response.json()["results"][0]["custom_fields"])


def test_every_definition_change_shows_in_the_next_list(api, sales_user):
    ContactFactory(owner=sales_user)
    assert custom_keys(api) == []  # read once: the definitions are now kept between requests

    seats = custom_field_create(
        actor=SYSTEM, entity="contact", name="seats", label="Seats", type="integer"
    )
    plan = custom_field_create(
        actor=SYSTEM, entity="contact", name="plan", label="Plan", type="text"
    )
    assert custom_keys(api) == ["seats", "plan"]

    custom_fields.custom_field_update(actor=SYSTEM, field=seats, data={"position": 5})
    assert custom_keys(api) == ["plan", "seats"]

    custom_fields.custom_field_archive(actor=SYSTEM, field=seats)
    assert custom_keys(api) == ["plan"]

    custom_fields.custom_field_delete(actor=SYSTEM, field=plan)
    assert custom_keys(api) == []


def test_a_definition_changed_by_another_process_shows_in_the_next_list(api, sales_user):
    ContactFactory(owner=sales_user)
    seats = custom_field_create(
        actor=SYSTEM, entity="contact", name="seats", label="Seats", type="integer"
    )
    assert custom_keys(api) == ["seats"]

    # What another process's archive writes, without this process's code seeing it happen.
    CustomField.objects.filter(pk=seats.pk).update(
        archived_at=timezone.now(), updated_at=timezone.now()
    )

    assert custom_keys(api) == []


@pytest.mark.parametrize(
    "fields",
    ["id,tags", "id,custom_fields", "id,email,phone,address", "id,company,owner,created_at"],
)
@pytest.mark.parametrize("caller", ["api", "api_without_pii"])
def test_a_sparse_list_skips_what_it_leaves_out_and_reads_the_same(
    request, assorted, caller, fields
):
    """The list does not decrypt PII or read tags a sparse fieldset leaves out; what it keeps
    still reads exactly as the record does."""
    pairs = listed_and_fetched(request.getfixturevalue(caller), f"?fields={fields}")

    assert len(pairs) == len(assorted)
    for listed, fetched in pairs:
        assert list(listed) == [key for key in fetched if key in fields.split(",")]
        assert list(listed.items()) == list(fetched.items())


def test_a_stored_value_of_an_archived_field_stays_out_of_the_list(api, assorted):
    seats = CustomField.objects.get(name="seats")
    custom_fields.custom_field_archive(actor=SYSTEM, field=seats)

    for listed, fetched in listed_and_fetched(api):
        assert "seats" not in listed["custom_fields"]
        assert list(listed["custom_fields"].items()) == list(fetched["custom_fields"].items())


def test_list_values_have_the_types_the_record_has(api, assorted):
    """Booleans, times and custom values come through the list's own column converters."""
    listed = {item["id"]: item for item in api.get(f"{V1}/contacts/").json()["results"]}
    first = listed[assorted[0].pk]

    assert first["consent_email"] is True and first["consent_phone"] is False
    assert first["created_at"].endswith("Z") and "T" in first["created_at"]
    assert first["custom_fields"]["seats"] == 12
    assert first["custom_fields"]["plan"] == ["b", "a"]
    assert listed[assorted[2].pk]["custom_fields"]["seats"] == 0


def listed_ids(client, query: str) -> list[int]:
    response = client.get(f"{V1}/contacts/{query}")
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def test_filters_search_and_orderings_after_plain_pages_still_apply(api, sales_user):
    """Plain pages (ordered by id, maybe after a cursor) reuse their compiled statement;
    nothing else may be served from it."""
    ada = ContactFactory(first_name="Ada", tags=["vip"])
    bob = ContactFactory(first_name="Bob")
    cy = ContactFactory(first_name="Cy")
    assert listed_ids(api, "") == [ada.pk, bob.pk, cy.pk]  # compiled, then kept
    assert listed_ids(api, "") == [ada.pk, bob.pk, cy.pk]  # from the kept statement

    assert listed_ids(api, "?tag=vip") == [ada.pk]
    assert listed_ids(api, "?search=Bob") == [bob.pk]
    assert listed_ids(api, "?ordering=-first_name") == [cy.pk, bob.pk, ada.pk]
    assert listed_ids(api, "?ordering=-id") == [cy.pk, bob.pk, ada.pk]
    assert listed_ids(api, "?page_size=1") == [ada.pk]


def test_paging_both_ways_reads_the_same_pages_every_time(api, sales_user):
    contacts = [ContactFactory() for _ in range(5)]

    def pages() -> list[list[int]]:
        forward, url = [], f"{V1}/contacts/?page_size=2"
        while url:
            body = api.get(url).json()
            forward.append([item["id"] for item in body["results"]])
            last, url = body, body["next"]
        backward, url = [], last["previous"]
        while url:
            body = api.get(url).json()
            backward.append([item["id"] for item in body["results"]])
            url = body["previous"]
        return [*forward, *backward]

    first = pages()
    ids = [contact.pk for contact in contacts]
    assert first == [ids[0:2], ids[2:4], ids[4:5], ids[2:4], ids[0:2]]
    assert pages() == first


def test_a_list_page_reads_the_definitions_without_a_query_of_its_own(api, assorted):
    url = f"{V1}/contacts/"
    api.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url)

    assert list(response.json()["results"][0]["custom_fields"]) == [
        "wechat",
        "fax",
        "seats",
        "renewal",
        "plan",
    ]
    definitions = [q["sql"] for q in queries if f'FROM "{CustomField._meta.db_table}"' in q["sql"]]
    assert len(definitions) == 1 and '"customers_contact"."id" AS "id"' in definitions[0]


def test_an_empty_page_still_knows_the_custom_fields(api, sales_user):
    custom_field_create(actor=SYSTEM, entity="contact", name="seats", label="Seats", type="integer")

    response = api.get(f"{V1}/contacts/", {"format": "csv"})

    assert response.status_code == 200, response.content
    assert response.content.decode().splitlines()[0].split(",")[-1] == "seats"
