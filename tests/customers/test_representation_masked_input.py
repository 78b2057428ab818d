"""A caller without the right to read personal data may send back what it read: a masked
value means "unchanged", a new value is written, and nothing is dropped on create."""

import pytest

from customers.actors import SYSTEM
from customers.representation import entity_spec
from customers.representation.masked_input import drop_unchanged_masked
from customers.services.custom_fields import custom_field_create
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def wechat():
    return custom_field_create(
        actor=SYSTEM, entity="contact", name="wechat", label="WeChat", type="text", pii=True
    )


def test_masked_values_sent_back_are_dropped_and_new_ones_kept(wechat):
    contact = ContactFactory(
        email="zhang.wei@example.cn", phone="+86 138 0013 1234", custom_fields={"wechat": "wx"}
    )
    sent = {
        "email": "z***@example.cn",
        "phone": "+86 139 0000 0000",
        "first_name": "伟",
        "custom_fields": {"wechat": "***"},
    }

    kept = drop_unchanged_masked(
        entity_spec("contact"), sent, instance=contact, definitions=[wechat]
    )

    assert kept == {"phone": "+86 139 0000 0000", "first_name": "伟", "custom_fields": {}}


def test_nothing_is_dropped_on_create(wechat):
    sent = {"email": "z***@example.cn", "custom_fields": {"wechat": "***"}}

    assert drop_unchanged_masked(entity_spec("contact"), sent, instance=None) == sent
