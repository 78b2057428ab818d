"""The UI's data exchange and settings screens: imports, exports, integrations, custom fields."""

from django.urls import path

from customers.web import custom_fields, imports, integrations, list_export

urlpatterns = [
    path("imports/new/", imports.import_new, name="import-new"),
    path("imports/new/<str:token>/", imports.import_map, name="import-map"),
    path("imports/<int:pk>/", imports.import_detail, name="import-detail"),
    path("imports/<int:pk>/cancel/", imports.import_cancel, name="import-cancel"),
    path("imports/<int:pk>/run/", imports.import_run, name="import-run"),
    path("imports/<int:pk>/errors.csv", imports.import_errors, name="import-errors"),
    path("exports/<str:resource>/", list_export.export_list, name="export"),
    path("integrations/", integrations.integration_list, name="integration-list"),
    path("integrations/api-keys/", integrations.api_key_create, name="api-key-create"),
    path(
        "integrations/api-keys/<int:pk>/revoke/",
        integrations.api_key_revoke,
        name="api-key-revoke",
    ),
    path("settings/custom-fields/", custom_fields.custom_field_list, name="custom-field-list"),
    path("settings/custom-fields/new/", custom_fields.custom_field_new, name="custom-field-new"),
    path(
        "settings/custom-fields/<int:pk>/",
        custom_fields.custom_field_edit,
        name="custom-field-edit",
    ),
    path(
        "settings/custom-fields/<int:pk>/archive/",
        custom_fields.custom_field_archive,
        name="custom-field-archive",
    ),
    path(
        "settings/custom-fields/<int:pk>/restore/",
        custom_fields.custom_field_restore,
        name="custom-field-restore",
    ),
    path(
        "settings/custom-fields/<int:pk>/delete/",
        custom_fields.custom_field_delete,
        name="custom-field-delete",
    ),
]
