"""Admin for connections (written through the sync service) and their runs."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from integrations.connectors import available_connectors
from integrations.models import Connection, ImportJob, Resource, SyncRun
from integrations.services import sync

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
