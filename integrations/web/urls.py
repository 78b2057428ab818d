"""The integrations area's routes: the import wizard, the integrations page (partner API
keys), connections and webhook subscriptions."""

from django.urls import path

from integrations.web import api_keys, connections, imports, webhooks

urlpatterns = [
    path("imports/new/", imports.import_new, name="import-new"),
    path("imports/new/<str:token>/", imports.import_map, name="import-map"),
    path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="import-cancel"),
    path("imports/<int:pk>/run/", imports.import_run, name="import-run"),
    path("imports/<int:pk>/errors.csv", imports.import_errors, name="import-errors"),
    path("integrations/", api_keys.integration_list, name="integration-list"),
    path("integrations/api-keys/", api_keys.api_key_create, name="api-key-create"),
    path(
        "integrations/api-keys/<int:pk>/revoke/",
        api_keys.api_key_revoke,
        name="api-key-revoke",
    ),
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
