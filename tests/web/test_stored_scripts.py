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


def directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    parts = [part.split() for part in policy.split(";") if part.strip()]
    return {name: values for name, *values in parts}


@pytest.mark.parametrize(
    "url",
    [
        reverse("web:login"),
        reverse("web:dashboard"),
        reverse("admin:index"),
        reverse("admin:login"),
        reverse("api-docs"),
        "/api/v1/contacts/?format=json",
        "/no-such-page/",
    ],
)
def test_every_page_sends_a_policy_without_inline_script(admin_client, url):
    policy = directives(admin_client.get(url))

    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"] == ["'self'"]
    assert "style-src-attr" not in policy


def test_only_the_redoc_page_may_inject_styles_and_its_scripts_stay_our_own(client):
    policy = directives(client.get(reverse("api-redoc")))

    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]


def test_the_browsable_api_may_use_style_attributes_but_no_style_or_script_elements(admin_client):
    policy = directives(admin_client.get("/api/v1/contacts/", HTTP_ACCEPT="text/html"))

    assert policy["style-src-attr"] == ["'unsafe-inline'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
