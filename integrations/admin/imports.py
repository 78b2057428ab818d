"""Admin for import jobs: started from the add form, then watched, cancelled, deleted."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from crm_project.storage_errors import StorageUnavailable
from customers.pii import can_view_pii
from integrations import selectors
from integrations.imports import services as imports
from integrations.models import FINISHED_STATUSES, FileFormat, ImportJob, ImportRowError


class ImportJobAddForm(forms.ModelForm):
    """The file and the options, handed to ``imports.import_create`` as the REST API does.

    The service is the validator: it checks the file, the format and the mapping, and stores
    the job only if they hold, so ``clean`` calls it and keeps the job (the admin's transaction
    around the request still rolls the row back should anything after fail, and the job is
    queued only on commit). ``save`` then returns that job.
    """

    file = forms.FileField(label=_("file"), help_text=_("CSV, JSON or XML."))
    format = forms.ChoiceField(
        label=_("format"),
        choices=[("", _("Detect")), *FileFormat.choices],
        required=False,
    )
    mapping = forms.JSONField(
        label=_("column mapping"),
        required=False,
        help_text=_('Optional: {"File column": "field name", "Unwanted column": null}.'),
    )

    class Meta:
        model = ImportJob
        fields = ["file", "resource", "format", "mode", "match_key", "mapping", "dry_run"]
        fields += ["all_or_nothing"]

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.job: ImportJob | None = None

    def clean_mapping(self) -> dict:
        mapping = self.cleaned_data.get("mapping") or {}
        if not isinstance(mapping, dict):
            raise ValidationError(_("Expected an object of column name to field name."))
        return mapping

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        upload = data["file"]
        try:
            self.job = imports.import_create(
                user=self.user,
                file=upload,
                filename=upload.name or "",
                resource=data["resource"],
                format=data.get("format") or "",
                mode=data["mode"],
                match_key=data["match_key"],
                mapping=data["mapping"],
                dry_run=data["dry_run"],
                all_or_nothing=data["all_or_nothing"],
            )
        except StorageUnavailable as error:
            self.add_error(None, error.user_message())
        except ValidationError as error:
            for name, field_errors in error.message_dict.items():
                self.add_error(name if name in self.fields else None, field_errors)
        return data

    def _post_clean(self) -> None:
        """The service validated the options; the model's own checks would only repeat it."""

    def save(self, commit: bool = True) -> ImportJob:
        if self.job is None:
            raise ValueError("The form did not validate, so it cannot be saved.")
        return self.job


class RowErrorInline(admin.TabularInline):
    """The first row errors; the full report is the CSV download linked on the job."""

    model = ImportRowError
    fields = ("row_number", "field", "message", "row_values")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_shown = 200
    verbose_name_plural = _("row errors (the first 200; download the report for all)")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        job_id = request.resolver_match.kwargs.get("object_id") if request.resolver_match else None
        first = ImportRowError.objects.filter(job_id=job_id).order_by("row_number", "id")
        return queryset.filter(pk__in=list(first.values_list("pk", flat=True)[: self.max_shown]))

    def get_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        """The row's values (PII among them) only for staff who may read PII."""
        return self.fields if can_view_pii(request.user) else self.fields[:-1]

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> tuple[str, ...]:
        return self.get_fields(request, obj)

    @admin.display(description=_("values"))
    def row_values(self, row_error: ImportRowError) -> str:
        return json.dumps(row_error.values, ensure_ascii=False)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """A job's row errors are part of the job: whoever sees the job sees them."""
        return request.user.has_perm("integrations.view_importjob")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


_JOB_FIELDS = (
    "resource",
    "original_filename",
    "format",
    "encoding",
    "delimiter",
    "mode",
    "match_key",
    "mapping",
    "dry_run",
    "all_or_nothing",
    "status",
    "progress",
    "rows_total",
    "rows_processed",
    "rows_created",
    "rows_updated",
    "rows_unchanged",
    "rows_skipped",
    "rows_failed",
    "error_message",
    "cancel_requested",
    "created_by",
    "created_at",
    "started_at",
    "finished_at",
    "error_report",
)


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "original_filename",
        "status",
        "progress",
        "rows_created",
        "rows_updated",
        "rows_unchanged",
        "rows_skipped",
        "rows_failed",
        "created_by",
        "created_at",
    )
    list_filter = ("status", "resource", "format", "mode", "dry_run", "created_at")
    search_fields = ("original_filename", "created_by__username")
    date_hierarchy = "created_at"
    inlines = [RowErrorInline]
    actions = ["cancel_selected"]
    add_fieldsets = (
        (None, {"fields": ("file", "resource", "format")}),
        (_("Options"), {"fields": ("mode", "match_key", "mapping", "dry_run", "all_or_nothing")}),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return selectors.import_job_list(user=request.user)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = ImportJobAddForm
            form_class = super().get_form(request, obj, change, **kwargs)

            class AddForm(form_class):  # the service stores the job as this user's
                def __init__(self, *args, **form_kwargs) -> None:
                    super().__init__(*args, user=request.user, **form_kwargs)

            return AddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        return self.add_fieldsets if obj is None else [(None, {"fields": _JOB_FIELDS})]

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else _JOB_FIELDS

    def get_inlines(self, request, obj=None):
        return self.inlines if obj is not None else []

    def save_model(self, request, obj, form, change) -> None:
        """The job was stored by the service in the form's ``clean``."""

    def save_related(self, request, form, formsets, change) -> None:
        """Row errors are written by the import, never here."""

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Allowed on the list (for the cancel action), read-only on a job's own page.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # A job a worker is running keeps writing to its row: cancel it first.
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.is_finished)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        unfinished = queryset.exclude(status__in=FINISHED_STATUSES).count()
        queryset.filter(status__in=FINISHED_STATUSES).delete()
        if unfinished:
            self.message_user(
                request,
                ngettext(
                    "%(count)d job is still queued or running and was kept: cancel it first.",
                    "%(count)d jobs are still queued or running and were kept: cancel them first.",
                    unfinished,
                )
                % {"count": unfinished},
                messages.WARNING,
            )

    def has_cancel_permission(self, request: HttpRequest) -> bool:
        """Anyone who may start imports may cancel the jobs they see (their own, or everyone's
        for managers), as in the REST API."""
        return request.user.has_perm("integrations.add_importjob")

    @admin.action(description=_("Cancel selected imports"), permissions=["cancel"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet) -> None:
        cancelled = 0
        for job in queryset:
            if not job.is_finished:
                imports.import_cancel(job=job)
                cancelled += 1
        self.message_user(
            request,
            ngettext(
                "Cancelled %(count)d import (a running one stops after its current chunk).",
                "Cancelled %(count)d imports (running ones stop after their current chunk).",
                cancelled,
            )
            % {"count": cancelled},
            messages.SUCCESS if cancelled else messages.WARNING,
        )

    @admin.display(description=_("progress"))
    def progress(self, obj: ImportJob) -> str:
        percent = obj.percent_done
        return "–" if percent is None else f"{percent:.1f}%"

    @admin.display(description=_("error report"))
    def error_report(self, obj: ImportJob) -> str:
        if not obj.rows_failed and not obj.rows_skipped:
            return "–"
        url = reverse("import-job-errors", args=[obj.pk])
        return format_html('<a href="{}?format=csv">{}</a>', url, _("Download (CSV)"))
