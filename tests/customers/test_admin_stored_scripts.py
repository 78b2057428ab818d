"""Stored scripts in the admin: text that users define (custom field labels, help texts and
choices, tag, stage and company names) reaches the admin's pages as text, never as markup.
The browser-level proof (the script does not run, the CSP header stops it) is in
tests/web/test_stored_scripts_browser.py."""

import pytest

from customers.actors import SYSTEM
from customers.models import Company, Contact, Deal
from customers.services import pipelines
from customers.services.custom_fields import custom_field_create
from tests.customers.test_admin import add_url, change_url
from tests.factories import CompanyFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>window.__xss=1</script>"
IMAGE = "<img src=x onerror=window.__xss=2>"
ESCAPED_SCRIPT = "&lt;script&gt;window.__xss=1&lt;/script&gt;"
ESCAPED_IMAGE = "&lt;img src=x onerror=window.__xss=2&gt;"


def hostile_custom_fields(entity: str) -> None:
    custom_field_create(
        actor=SYSTEM, entity=entity, name="hostile_note", label=SCRIPT, help_text=IMAGE, type="text"
    )
    custom_field_create(
        actor=SYSTEM,
        entity=entity,
        name="hostile_choice",
        label=IMAGE,
        help_text=SCRIPT,
        type="choice",
        choices=[SCRIPT, IMAGE],
    )


def assert_shown_as_text(html: str) -> None:
    assert SCRIPT not in html
    assert IMAGE not in html
    assert ESCAPED_SCRIPT in html
    assert ESCAPED_IMAGE in html


@pytest.fixture
def hostile_records():
    for entity in ("contact", "company", "deal"):
        hostile_custom_fields(entity)
    company = CompanyFactory(name=SCRIPT, tags=[SCRIPT, IMAGE])
    contact = ContactFactory(company=company, first_name=IMAGE, tags=[SCRIPT, IMAGE])
    pipeline = pipelines.pipeline_create(
        actor=SYSTEM,
        name=IMAGE,
        stages=[{"name": SCRIPT, "win_probability": 10}, {"name": IMAGE}],
        is_default=True,
    )
    deal = DealFactory(
        company=company, name=SCRIPT, stage=pipeline.stages.first(), tags=[SCRIPT, IMAGE]
    )
    return {Contact: contact, Company: company, Deal: deal}


@pytest.mark.parametrize("model", [Contact, Company, Deal], ids=lambda model: model.__name__)
def test_custom_field_help_texts_labels_and_choices_reach_the_admin_change_form_as_text(
    admin_client, hostile_records, model
):
    response = admin_client.get(change_url(hostile_records[model]))

    assert response.status_code == 200
    assert_shown_as_text(response.content.decode())


@pytest.mark.parametrize("model", [Contact, Company, Deal], ids=lambda model: model.__name__)
def test_custom_field_help_texts_reach_the_admin_add_form_as_text(admin_client, model):
    for entity in ("contact", "company", "deal"):
        hostile_custom_fields(entity)

    response = admin_client.get(add_url(model))

    assert response.status_code == 200
    assert_shown_as_text(response.content.decode())
