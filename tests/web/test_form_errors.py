"""Every UI form names every mistake at once, as REST and SOAP do: what the form itself
refuses (a malformed email, a negative amount, a missing label) and what only the service knows
(a taken unique value, a tag too long, an unknown country code) come back together, next to
their fields, and nothing is written."""

import pytest
from django.urls import reverse
from django.utils.html import escape

from customers.actors import SYSTEM
from customers.models import Company, Contact, CustomField, Deal, Tag
from customers.services import custom_fields
from integrations.webhooks.models import WebhookSubscription
from tests.factories import CompanyFactory, ContactFactory, DealFactory, ManagerFactory

pytestmark = pytest.mark.django_db

LONG_TAG = "t" * 70  # the service allows 64 characters; the form does not know


def _errors_shown(response, *fields: str) -> dict[str, list[str]]:
    """The errors of `fields` as the page shows them, each next to its input."""
    body = response.content.decode()
    form = response.context["form"]
    shown = {}
    for name in fields:
        assert form.errors.get(name), f"no error for {name}: {form.errors.as_data()}"
        assert f'id="id_{name}_error"' in body
        for message in form.errors[name]:
            assert escape(message) in body
        shown[name] = list(form.errors[name])
    return shown


def test_contact_create_with_a_bad_email_and_a_tag_too_long_shows_both(sales_client):
    before = (Contact.objects.count(), Tag.objects.count())
    response = sales_client.post(
        reverse("web:contact-create"),
        {"first_name": "Ada", "email": "not-an-email", "lifecycle_stage": "lead", "tags": LONG_TAG},
    )
    assert response.status_code == 422
    shown = _errors_shown(response, "email", "tags")
    assert "Enter a valid email address." in shown["email"]
    assert "longer than 64 characters" in shown["tags"][0]
    assert (Contact.objects.count(), Tag.objects.count()) == before


def test_contact_create_with_a_bad_custom_value_and_a_taken_unique_value_shows_both(
    sales_client,
):
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="birthday", label="Birthday", type="date"
    )
    custom_fields.custom_field_create(
        actor=SYSTEM,
        entity="contact",
        name="member_no",
        label="Member no",
        type="text",
        unique=True,
    )
    ContactFactory(first_name="Bo", custom_fields={"member_no": "M-1"})
    before = Contact.objects.count()
    response = sales_client.post(
        reverse("web:contact-create"),
        {
            "first_name": "Ada",
            "lifecycle_stage": "lead",
            "cf_birthday": "1990-02-30",
            "cf_member_no": "M-1",
        },
    )
    assert response.status_code == 422
    _errors_shown(response, "cf_birthday", "cf_member_no")
    assert Contact.objects.count() == before


def test_contact_edit_with_a_bad_email_and_a_tag_too_long_shows_both_and_changes_nothing(
    sales_client,
):
    contact = ContactFactory(first_name="Ada", email="ada@example.com")
    response = sales_client.post(
        reverse("web:contact-edit", args=[contact.pk]),
        {"first_name": "Adele", "email": "ada@", "lifecycle_stage": "lead", "tags": LONG_TAG},
    )
    assert response.status_code == 422
    _errors_shown(response, "email", "tags")
    contact.refresh_from_db()
    assert (contact.first_name, contact.email) == ("Ada", "ada@example.com")
    assert not contact.tags.exists()


def test_company_with_no_name_and_an_unknown_country_code_shows_both(sales_client):
    response = sales_client.post(reverse("web:company-create"), {"name": "", "country": "c1"})
    assert response.status_code == 422
    shown = _errors_shown(response, "name", "country")
    assert "two-letter ISO 3166" in shown["country"][0]
    assert Company.objects.count() == 0


def test_company_edit_with_no_name_and_a_tag_too_long_changes_nothing(sales_client):
    company = CompanyFactory(name="Acme")
    response = sales_client.post(
        reverse("web:company-edit", args=[company.pk]), {"name": "", "tags": LONG_TAG}
    )
    assert response.status_code == 422
    _errors_shown(response, "name", "tags")
    company.refresh_from_db()
    assert company.name == "Acme"


def test_deal_with_a_negative_amount_and_a_bad_currency_shows_both(sales_client):
    deal = DealFactory(name="Big one")
    before = Deal.objects.count()
    data = {"name": "Small one", "amount": "-5", "currency": "US1", "stage": deal.stage_id}
    response = sales_client.post(reverse("web:deal-create"), data)
    assert response.status_code == 422
    shown = _errors_shown(response, "amount", "currency")
    assert "ISO 4217" in shown["currency"][0]
    assert Deal.objects.count() == before


def test_deal_edit_with_a_negative_amount_and_a_bad_currency_changes_nothing(sales_client):
    deal = DealFactory(name="Big one", amount=100)
    data = {"name": "Renamed", "amount": "-5", "currency": "US1", "stage": deal.stage_id}
    response = sales_client.post(reverse("web:deal-edit", args=[deal.pk]), data)
    assert response.status_code == 422
    _errors_shown(response, "amount", "currency")
    deal.refresh_from_db()
    assert (deal.name, deal.amount) == ("Big one", 100)


def test_custom_field_with_no_label_and_a_bad_name_shows_both(client):
    client.force_login(ManagerFactory())
    data = {"entity": "contact", "name": "first_name", "label": "", "type": "text"}
    response = client.post(reverse("web:custom-field-new"), data)
    assert response.status_code == 422
    shown = _errors_shown(response, "label", "name")
    assert "built-in field" in shown["name"][0]
    assert CustomField.objects.count() == 0


def test_custom_field_edit_with_no_label_and_choices_on_a_text_field_shows_both(client):
    client.force_login(ManagerFactory())
    field = custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text"
    )
    data = {"label": "", "type": "text", "choices": "gold\nsilver"}
    response = client.post(reverse("web:custom-field-edit", args=[field.pk]), data)
    assert response.status_code == 422
    _errors_shown(response, "label", "choices")
    field.refresh_from_db()
    assert (field.label, field.choices) == ("Tier", [])


def test_webhook_with_no_events_and_a_private_url_shows_both(client):
    client.force_login(ManagerFactory())
    response = client.post(reverse("web:webhook-create"), {"url": "http://127.0.0.1:9/hook"})
    assert response.status_code == 422
    _errors_shown(response, "events", "url")
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        (
            "web:contact-create",
            {
                "email": "x@",
                "company": "999999",
                "owner": "999999",
                "lifecycle_stage": "nope",
                "tags": LONG_TAG,
            },
        ),
        (
            "web:company-create",
            {"name": "", "country": "zz9", "size_band": "huge", "owner": "999999"},
        ),
        (
            "web:deal-create",
            {
                "name": "",
                "amount": "abc",
                "currency": "",
                "stage": "999999",
                "company": "999999",
                "primary_contact": "999999",
                "expected_close_date": "31/31/2031",
                "owner": "999999",
                "tags": LONG_TAG,
            },
        ),
    ],
)
def test_a_form_with_everything_wrong_answers_422_with_errors_and_writes_nothing(
    sales_client, url_name, data
):
    before = (Contact.objects.count(), Company.objects.count(), Deal.objects.count())
    response = sales_client.post(reverse(url_name), data)
    assert response.status_code == 422
    assert len(response.context["form"].errors) >= 3
    assert (Contact.objects.count(), Company.objects.count(), Deal.objects.count()) == before
