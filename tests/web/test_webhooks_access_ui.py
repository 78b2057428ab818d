"""The webhook screen subscribes through the same rule as the API: a user who may manage
integrations but not read an entity's records cannot subscribe to its events."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from integrations.webhooks.models import WebhookSubscription
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("allow_loopback")]


@pytest.fixture
def integrations_only_client(client):
    """Manages integrations (imports of everyone, webhooks) but reads only deals."""
    user = UserFactory()
    codenames = ["change_importjob", "add_webhooksubscription", "view_webhooksubscription"]
    user.user_permissions.add(*Permission.objects.filter(codename__in=[*codenames, "view_deal"]))
    client.force_login(user)
    return client


def test_subscribing_to_all_events_without_reading_contacts_is_a_field_error(
    integrations_only_client,
):
    response = integrations_only_client.post(
        reverse("web:webhook-create"), {"url": "http://127.0.0.1:9/hooks", "events": ["*"]}
    )

    assert response.status_code == 422
    errors = " ".join(response.context["form"].errors["events"])
    assert "contacts:read" in errors and "deals:read" not in errors
    assert WebhookSubscription.objects.count() == 0


def test_subscribing_to_what_the_user_reads_is_accepted(integrations_only_client):
    response = integrations_only_client.post(
        reverse("web:webhook-create"),
        {"url": "http://127.0.0.1:9/hooks", "events": ["deal.stage_changed"]},
    )

    assert response.status_code == 201
    assert WebhookSubscription.objects.get().events == ["deal.stage_changed"]
