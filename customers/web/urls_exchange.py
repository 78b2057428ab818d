"""The UI's list exports and settings screens: exports, custom fields."""

from django.urls import path

from customers.web import custom_fields, list_export

urlpatterns = [
    path("exports/<str:resource>/", list_export.export_list, name="export"),
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
