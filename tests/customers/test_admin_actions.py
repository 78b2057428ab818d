"""Every admin action declares the permission it needs, so the action list a user sees (and
what a hand-made POST can run) follows their rights: a salesperson who may only view custom
fields can neither archive nor restore them."""

import pytest
from django.contrib import admin
from django.urls import reverse

from customers.actors import SYSTEM
from customers.models import CustomField
from customers.services.custom_fields import custom_field_archive, custom_field_create
from tests.factories import ManagerFactory, SalesUserFactory

pytestmark = pytest.mark.django_db

DEFINITIONS = reverse("admin:customers_customfield_changelist")


def registered_actions():
    for model, model_admin in admin.site._registry.items():
        for action in model_admin.actions or ():
            function = action if callable(action) else getattr(model_admin, action)
            yield f"{model._meta.label}.{function.__name__}", model_admin, function


@pytest.mark.parametrize(
    "model_admin, action",
    [(model_admin, function) for _name, model_admin, function in registered_actions()],
    ids=[name for name, _model_admin, _function in registered_actions()],
)
def test_every_admin_action_declares_a_permission_its_admin_checks(model_admin, action):
    permissions = getattr(action, "allowed_permissions", ())

    assert permissions, "declare @admin.action(permissions=[...])"
    for permission in permissions:
        assert callable(getattr(model_admin, f"has_{permission}_permission", None))


@pytest.fixture
def tier():
    return custom_field_create(
        actor=SYSTEM, entity="contact", name="tier", label="Tier", type="text"
    )


def test_a_salesperson_who_may_only_view_custom_fields_cannot_archive_them(client, tier):
    client.force_login(SalesUserFactory())

    page = client.get(DEFINITIONS)
    client.post(DEFINITIONS, {"action": "archive", "_selected_action": [tier.pk]})

    assert page.status_code == 200
    assert 'value="archive"' not in page.content.decode()
    tier.refresh_from_db()
    assert not tier.is_archived


def test_a_salesperson_who_may_only_view_custom_fields_cannot_restore_them(client, tier):
    custom_field_archive(actor=SYSTEM, field=tier)
    client.force_login(SalesUserFactory())

    client.post(DEFINITIONS, {"action": "restore", "_selected_action": [tier.pk]})

    tier.refresh_from_db()
    assert tier.is_archived


def test_a_manager_archives_and_restores_custom_fields(client, tier):
    client.force_login(ManagerFactory())

    client.post(DEFINITIONS, {"action": "archive", "_selected_action": [tier.pk]})
    assert CustomField.objects.get(pk=tier.pk).is_archived
    client.post(DEFINITIONS, {"action": "restore", "_selected_action": [tier.pk]})
    assert not CustomField.objects.get(pk=tier.pk).is_archived
