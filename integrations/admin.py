"""Admin for integration records.

API keys: see and revoke them. Keys are created by ``create_api_token`` (or the UI), which shows
the raw key once; the stored hash is never shown.

Bulk jobs: an import is started from the add form (through ``imports.import_create``) and then
only watched, cancelled or deleted; exports are listed with a link to their download. Users see
their own jobs unless they may change any (managers), as in the REST API.

Connections are written through ``services.sync`` (secrets never shown), their runs read-only;
webhook subscriptions paused and resumed, deliveries replayed, through the webhooks services.
Schedules themselves are django-celery-beat's periodic tasks, in its own admin, whose actions
are given the permission they need here.
"""

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
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from customers.admin.base import with_permission
from customers.pii import can_view_pii
from integrations import selectors
from integrations.connectors import available_connectors
from integrations.imports import services as imports
from integrations.models import (
    FINISHED_STATUSES,
    ApiKey,
    Connection,
    ExportJob,
    FileFormat,
    ImportJob,
    ImportRowError,
    Resource,
    SyncRun,
)
from integrations.services import api_keys, sync
from integrations.webhooks import services as webhook_services
from integrations.webhooks import triggers as webhook_triggers
from integrations.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookSubscription

_FIELDS = (
    "name",
    "user",
    "prefix",
    "scope_list",
    "created_at",
    "expires_at",
    "revoked_at",
    "last_used_at",
)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = _FIELDS
    list_filter = ("revoked_at", "expires_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("name", "=prefix", "user__username")
    fields = _FIELDS
    readonly_fields = _FIELDS  # key_hash is in neither list: it never reaches a page
    actions = ["revoke_selected"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Allowed on the list (for the revoke action), read-only on a key's own page.
        return obj is None and super().has_change_permission(request, obj)

    @admin.action(description=_("Revoke selected keys"), permissions=["change"])
    def revoke_selected(self, request, queryset) -> None:
        """Only the keys this user may revoke (their own; any, for a superuser); the others
        are counted back, not revoked."""
        revoked = refused = 0
        for api_key in queryset.filter(revoked_at__isnull=True):
            if not api_keys.api_key_may_revoke(api_key=api_key, user=request.user):
                refused += 1
                continue
            api_keys.api_key_revoke(api_key=api_key, revoked_by=request.user)
            revoked += 1
        self.message_user(
            request,
            ngettext("Revoked %(count)d key.", "Revoked %(count)d keys.", revoked)
            % {"count": revoked},
        )
        if refused:
            self.message_user(
                request,
                ngettext(
                    "%(count)d key was not revoked: a key is revoked by its owner or a superuser.",
                    "%(count)d keys were not revoked: a key is revoked by its owner or a "
                    "superuser.",
                    refused,
                )
                % {"count": refused},
                messages.ERROR,
            )


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


# Connections and their runs


class ConnectionAdminForm(forms.ModelForm):
    """The connection's options handed to ``integrations.services.sync`` (which validates the
    configuration per connector and keeps secrets encrypted). The configuration is shown as
    the service shows it: secret keys as ``********``, which keep the stored value when sent
    back. The service writes in ``clean`` (inside the admin's transaction); ``save`` returns
    the connection."""

    connector = forms.ChoiceField(label=_("connector"))
    config = forms.JSONField(
        label=_("configuration"),
        required=False,
        help_text=_("The connector's keys as JSON; secrets show as ******** and are kept so."),
    )
    mapping = forms.JSONField(label=_("field mapping"), required=False)
    resource = forms.ChoiceField(label=_("resource"), choices=Resource.choices)
    mode = forms.ChoiceField(label=_("mode"), choices=ImportJob.Mode.choices)
    match_key = forms.ChoiceField(label=_("match key"), choices=ImportJob.MatchKey.choices)
    every_seconds = forms.IntegerField(
        label=_("every (seconds)"),
        required=False,
        help_text=_("Run every this many seconds; or give a crontab line; or neither."),
    )
    crontab = forms.CharField(
        label=_("crontab (UTC)"), required=False, help_text=_("e.g. */15 * * * *")
    )

    class Meta:
        model = Connection
        fields = ["name", "connector", "resource", "mode", "match_key", "mapping", "enabled"]

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.connection: Connection | None = None
        self.fields["connector"].choices = [(name, name) for name in available_connectors()]
        existing = self.instance.pk is not None
        if existing:
            self.fields["connector"].disabled = True
            self.initial["config"] = sync.public_config(self.instance)
            every_seconds, crontab = sync.schedule_parts(self.instance)
            self.initial.update(every_seconds=every_seconds, crontab=crontab)

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        options = {
            "name": data["name"],
            "config": data.get("config") or {},
            "mapping": data.get("mapping") or {},
            "resource": data["resource"],
            "mode": data["mode"],
            "match_key": data["match_key"],
            "enabled": data["enabled"],
        }
        try:
            schedule = None
            if data.get("every_seconds") is not None or data.get("crontab"):
                schedule = sync.Schedule(
                    every_seconds=data.get("every_seconds"), crontab=data.get("crontab") or None
                )
            if self.instance.pk is None:
                self.connection = sync.connection_create(
                    **options, connector=data["connector"], schedule=schedule, user=self.user
                )
            else:
                self.connection = sync.connection_update(
                    connection=self.instance, data={**options, "schedule": schedule}
                )
        except ValidationError as error:
            for name, field_errors in error.message_dict.items():
                if name.startswith("config."):
                    key = name.removeprefix("config.")
                    self.add_error("config", [f"{key}: {text}" for text in field_errors])
                elif name == "schedule":
                    self.add_error(None, field_errors)
                else:
                    self.add_error(name if name in self.fields else None, field_errors)
        return data

    def _post_clean(self) -> None:
        """The service validated and wrote the connection; the model's checks would repeat it."""

    def save(self, commit: bool = True) -> Connection:
        if self.connection is None:
            raise ValueError("The form did not validate, so it cannot be saved.")
        return self.connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    """Secrets never reach a page: ``secrets`` is in no field list, and the configuration is
    the service's public view of it."""

    form = ConnectionAdminForm
    list_display = ("name", "connector", "resource", "mode", "schedule", "enabled", "runs_link")
    list_filter = ("connector", "resource", "enabled")
    list_select_related = ("schedule__interval", "schedule__crontab")
    search_fields = ("name",)
    readonly_fields = ("cursor", "created_by", "created_at", "runs_link")
    fieldsets = (
        (None, {"fields": ("name", "connector", "config", "resource", "mode", "match_key")}),
        (_("Mapping"), {"fields": ("mapping",)}),
        (_("Schedule"), {"fields": ("every_seconds", "crontab", "enabled")}),
        (_("State"), {"fields": ("cursor", "created_by", "created_at", "runs_link")}),
    )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)

        class BoundForm(form_class):  # the service records who created the connection
            def __init__(self, *args, **form_kwargs) -> None:
                super().__init__(*args, user=request.user, **form_kwargs)

        return BoundForm

    def save_model(self, request, obj, form, change) -> None:
        """The service stored the connection in the form's ``clean``."""

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related is edited here (the schedule is the service's to write)."""

    def delete_model(self, request, obj: Connection) -> None:
        sync.connection_delete(connection=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for connection in queryset.select_related("schedule"):
            sync.connection_delete(connection=connection)

    @admin.display(description=_("runs"))
    def runs_link(self, obj: Connection) -> str:
        if obj.pk is None:
            return "–"
        url = reverse("admin:integrations_syncrun_changelist") + f"?connection__id__exact={obj.pk}"
        return format_html('<a href="{}">{}</a>', url, _("Runs"))


_RUN_FIELDS = (
    "connection",
    "status",
    "import_job_link",
    "cursor_before",
    "cursor_after",
    "fetched",
    "created",
    "updated",
    "unchanged",
    "skipped",
    "failed",
    "source_errors",
    "error_message",
    "started_at",
    "fetched_at",
    "finished_at",
)


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    """Read-only: runs are written by the sync service."""

    list_display = (
        "__str__",
        "status",
        "fetched",
        "created",
        "updated",
        "unchanged",
        "skipped",
        "failed",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "connection", "started_at")
    list_select_related = ("connection",)
    date_hierarchy = "started_at"
    fields = _RUN_FIELDS
    readonly_fields = _RUN_FIELDS

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("import job"))
    def import_job_link(self, obj: SyncRun) -> str:
        if not obj.import_job_id:
            return "–"
        url = reverse("admin:integrations_importjob_change", args=[obj.import_job_id])
        return format_html('<a href="{}">#{}</a>', url, obj.import_job_id)


# Webhooks

_SUBSCRIPTION_FIELDS = (
    "url",
    "events",
    "description",
    "owner",
    "api_key",
    "is_active",
    "disabled_at",
    "disabled_reason",
    "created_at",
)


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    """Watched, paused, resumed and deleted here; created through the API or the UI, which show
    the signing secret once. The secret is in no field list, so it never reaches a page."""

    list_display = ("url", "owner", "is_active", "disabled_at", "disabled_reason", "created_at")
    list_filter = ("is_active", "disabled_at", "created_at")
    list_select_related = ("owner",)
    search_fields = ("url", "description", "owner__username")
    fields = _SUBSCRIPTION_FIELDS
    readonly_fields = _SUBSCRIPTION_FIELDS
    actions = ["pause_selected", "resume_selected"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Allowed on the list (for the actions), read-only on a subscription's own page.
        return obj is None and super().has_change_permission(request, obj)

    def delete_model(self, request, obj: WebhookSubscription) -> None:
        webhook_services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_services.subscription_delete(subscription=subscription)

    @admin.action(description=_("Pause selected subscriptions"), permissions=["change"])
    def pause_selected(self, request, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_services.subscription_pause(subscription=subscription)
        self.message_user(
            request,
            ngettext(
                "Paused %(count)d subscription.", "Paused %(count)d subscriptions.", len(queryset)
            )
            % {"count": len(queryset)},
        )

    @admin.action(
        description=_("Resume selected subscriptions (clears the failure flag)"),
        permissions=["change"],
    )
    def resume_selected(self, request, queryset: QuerySet) -> None:
        for subscription in queryset:
            webhook_services.subscription_resume(subscription=subscription)
        webhook_triggers.deliver_soon()
        self.message_user(
            request,
            ngettext(
                "Resumed %(count)d subscription.", "Resumed %(count)d subscriptions.", len(queryset)
            )
            % {"count": len(queryset)},
        )


class WebhookAttemptInline(admin.TabularInline):
    model = WebhookAttempt
    fields = ("attempted_at", "status_code", "latency_ms", "error")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        """A delivery's attempts are part of it: whoever sees the delivery sees them."""
        return request.user.has_perm(_VIEW_SUBSCRIPTIONS)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


_VIEW_SUBSCRIPTIONS = "integrations.view_webhooksubscription"
_CHANGE_SUBSCRIPTIONS = "integrations.change_webhooksubscription"
_DELIVERY_FIELDS = (
    "subscription",
    "event_type",
    "status",
    "attempts",
    "last_status_code",
    "last_error",
    "next_attempt_at",
    "delivered_at",
    "created_at",
)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """Read-only, with every attempt; deliveries are read and replayed through their
    subscription's permissions (as the roles grant them)."""

    list_display = (
        "id",
        "subscription",
        "event_type",
        "status",
        "attempts",
        "last_status_code",
        "created_at",
    )
    list_filter = ("status", "created_at")
    list_select_related = ("subscription", "event")
    search_fields = ("subscription__url", "=event__type")
    fields = _DELIVERY_FIELDS
    readonly_fields = _DELIVERY_FIELDS
    inlines = [WebhookAttemptInline]
    actions = ["replay_selected"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(_VIEW_SUBSCRIPTIONS)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.has_perm(_VIEW_SUBSCRIPTIONS)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def has_replay_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(_CHANGE_SUBSCRIPTIONS)

    @admin.display(description=_("event"))
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.action(description=_("Replay selected deliveries"), permissions=["replay"])
    def replay_selected(self, request, queryset: QuerySet) -> None:
        replayed = 0
        for delivery in queryset:
            webhook_services.replay(delivery=delivery)
            replayed += 1
        webhook_triggers.deliver_soon()
        self.message_user(
            request,
            ngettext("Replaying %(count)d delivery.", "Replaying %(count)d deliveries.", replayed)
            % {"count": replayed},
        )


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    """django-celery-beat's admin, whose actions declare no permission: anyone who may view the
    schedules could enable, disable or run them. Each now needs the change permission."""

    enable_tasks = with_permission("change", BeatPeriodicTaskAdmin.enable_tasks)
    disable_tasks = with_permission("change", BeatPeriodicTaskAdmin.disable_tasks)
    toggle_tasks = with_permission("change", BeatPeriodicTaskAdmin.toggle_tasks)
    run_tasks = with_permission("change", BeatPeriodicTaskAdmin.run_tasks)
