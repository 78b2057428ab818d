"""A connection matched by email runs its imports as its creator, so only a creator who may
read personal data may set one up (an import's counts would otherwise say who exists)."""

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import ValidationError

from integrations.models import Connection
from integrations.services import sync
from tests.factories import ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db

OPTIONS = {
    "name": "Legacy ERP",
    "connector": "rest_json",
    "config": {"url": "https://erp.example.com/api/people"},
    "resource": "contacts",
    "mode": "upsert",
}


def test_a_creator_without_view_pii_cannot_match_a_connection_by_email():
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename="add_connection"))

    with pytest.raises(ValidationError) as refused:
        sync.connection_create(**OPTIONS, match_key="email", user=user)

    assert list(refused.value.message_dict) == ["match_key"]
    assert Connection.objects.count() == 0


def test_a_manager_may_match_a_connection_by_email():
    connection = sync.connection_create(**OPTIONS, match_key="email", user=ManagerFactory())

    assert connection.match_key == "email"
