"""Stored scripts on the sales UI: user-defined text (custom field labels, help texts and
choices, tag, stage, pipeline and company names) is shown as text on every page that carries
it, in lists, filters, forms, details, the board and the dashboard's charts."""

import pytest
from django.urls import reverse

from tests.customers.test_admin_stored_scripts import (  # noqa: F401
    assert_shown_as_text,
    hostile_records,
)
from tests.factories import ManagerFactory

pytestmark = pytest.mark.django_db

PAGES = [
    ("web:dashboard", None),
    ("web:contact-list", None),
    ("web:contact-create", None),
    ("web:contact-detail", "contact"),
    ("web:contact-edit", "contact"),
    ("web:company-list", None),
    ("web:company-create", None),
    ("web:company-detail", "company"),
    ("web:company-edit", "company"),
    ("web:deal-list", None),
    ("web:deal-board", None),
    ("web:deal-create", None),
    ("web:deal-detail", "deal"),
    ("web:deal-edit", "deal"),
    ("web:custom-field-list", None),
]


@pytest.fixture
def manager_client(client):
    client.force_login(ManagerFactory(username="boss"))
    return client


@pytest.mark.parametrize("name, record", PAGES, ids=[name for name, _record in PAGES])
def test_user_defined_text_reaches_the_page_as_text(
    manager_client,
    hostile_records,  # noqa: F811
    name,
    record,
):
    by_name = {model.__name__.lower(): obj for model, obj in hostile_records.items()}
    args = [by_name[record].pk] if record else []

    response = manager_client.get(reverse(name, args=args))

    assert response.status_code == 200
    assert_shown_as_text(response.content.decode())
