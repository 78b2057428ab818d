"""Admin for export jobs: listed with a link to their download."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integrations import selectors
from integrations.models import ExportJob

_EXPORT_FIELDS = (
    "resource",
    "format",
    "filters",
    "include_pii",
    "status",
    "rows_written",
    "download",
    "error_message",
    "created_by",
    "created_at",
    "started_at",
    "finished_at",
)


@admin.register(ExportJob)
class ExportJobAdmin(admin.ModelAdmin):
    """Read-only: exports are started from the API, the UI or ``export_data``."""

    list_display = (
        "__str__",
        "status",
        "rows_written",
        "include_pii",
        "created_by",
        "created_at",
        "download",
    )
    list_filter = ("status", "resource", "format", "include_pii", "created_at")
    search_fields = ("created_by__username",)
    date_hierarchy = "created_at"
    fields = _EXPORT_FIELDS
    readonly_fields = _EXPORT_FIELDS

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.export_job_list(user=request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("file"))
    def download(self, obj: ExportJob) -> str:
        """Through the API, which checks who may read the file (it may hold PII): the media
        directory itself is never served."""
        if not obj.file:
            return "–"
        url = reverse("export-job-download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download"))
