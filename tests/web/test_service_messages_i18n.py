"""Messages the services raise reach a user in the user's language, next to the field they name."""

import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from customers.actors import SYSTEM
from customers.models import Contact, UserPreference
from customers.services import custom_fields
from tests.factories import ContactFactory

LONG_TAG = "x" * 65


@pytest.fixture
def chinese_client(client, sales_user):
    """A salesperson whose stored language is Simplified Chinese (it beats the browser's)."""
    UserPreference.objects.create(user=sales_user, language="zh-hans")
    client.force_login(sales_user)
    return client


def field_errors(body: str, field: str) -> list[str]:
    """The messages the page shows under one input, as rendered HTML."""
    match = re.search(
        rf'<ul class="errors" id="id_{field}_error" role="alert">(.*?)</ul>', body, re.S
    )
    assert match, f"no error list under {field}"
    return re.findall(r"<li>(.*?)</li>", match.group(1), re.S)


def post_contact(client, data: dict, **headers):
    return client.post(
        reverse("web:contact-create"), {"lifecycle_stage": "lead", **data}, **headers
    )


def test_a_chinese_user_sees_the_tag_length_message_in_chinese_next_to_tags(chinese_client):
    response = post_contact(
        chinese_client, {"first_name": "伟", "tags": LONG_TAG}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    errors = field_errors(response.content.decode(), "tags")
    assert errors == [escape(f"标签 {LONG_TAG[:20]!r}… 超过 64 个字符。")]
    assert Contact.objects.count() == 0


def test_an_english_request_sees_todays_english_tag_length_message(sales_client):
    response = post_contact(
        sales_client, {"first_name": "Wei", "tags": LONG_TAG}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 422
    errors = field_errors(response.content.decode(), "tags")
    assert errors == [escape(f"Tag {LONG_TAG[:20]!r}… is longer than 64 characters.")]


def test_the_browser_language_alone_also_translates_service_messages(sales_client):
    response = post_contact(
        sales_client, {"first_name": "Wei", "tags": LONG_TAG}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert field_errors(response.content.decode(), "tags") == [
        escape(f"标签 {LONG_TAG[:20]!r}… 超过 64 个字符。")
    ]


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "已有其他联系人使用此值。"), ("en", "Another contact already has this value.")],
)
def test_a_taken_unique_custom_value_is_refused_in_the_request_language(
    sales_client, language, expected
):
    custom_fields.custom_field_create(
        actor=SYSTEM, entity="contact", name="badge", label="Badge", type="text", unique=True
    )
    ContactFactory(custom_fields={"badge": "B-7"})
    response = post_contact(
        sales_client, {"first_name": "Wei", "cf_badge": "B-7"}, HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 422
    assert field_errors(response.content.decode(), "cf_badge") == [expected]
    assert Contact.objects.count() == 1
