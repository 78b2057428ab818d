"""The integrations area's connections and webhook subscriptions (under ``/integrations/``)."""

from django.urls import path

from customers.web import connections, webhooks

urlpatterns = [
    path("integrations/connections/", connections.connection_list, name="connection-list"),
    path("integrations/connections/new/", connections.connection_new, name="connection-new"),
    path(
        "integrations/connections/<int:pk>/",
        connections.connection_detail,
        name="connection-detail",
    ),
    path(
        "integrations/connections/<int:pk>/edit/",
        connections.connection_edit,
        name="connection-edit",
    ),
    path(
        "integrations/connections/<int:pk>/delete/",
        connections.connection_delete,
        name="connection-delete",
    ),
    path(
        "integrations/connections/<int:pk>/run/",
        connections.connection_run,
        name="connection-run",
    ),
    path(
        "integrations/connections/<int:pk>/test/",
        connections.connection_test,
        name="connection-test",
    ),
    path("integrations/webhooks/", webhooks.webhook_list, name="webhook-list"),
    path("integrations/webhooks/new/", webhooks.webhook_create, name="webhook-create"),
    path("integrations/webhooks/<int:pk>/pause/", webhooks.webhook_pause, name="webhook-pause"),
    path("integrations/webhooks/<int:pk>/resume/", webhooks.webhook_resume, name="webhook-resume"),
    path("integrations/webhooks/<int:pk>/delete/", webhooks.webhook_delete, name="webhook-delete"),
    path(
        "integrations/webhooks/<int:pk>/deliveries/",
        webhooks.webhook_deliveries,
        name="webhook-deliveries",
    ),
    path(
        "integrations/webhooks/<int:pk>/deliveries/<int:delivery_id>/replay/",
        webhooks.webhook_replay,
        name="webhook-replay",
    ),
]
