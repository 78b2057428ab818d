"""REST representations of bulk jobs. Input serializers only type-check the options; the
services (``imports``, ``exports``) check the file, the mapping and the filters."""

import json
from types import SimpleNamespace
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.fields import RelatedRefField
from integrations.models import (
    Connection,
    ExportJob,
    FileFormat,
    ImportJob,
    JobStatus,
    Resource,
    SyncRun,
)
from integrations.services import connections as connection_services

MAX_PREVIEW_ROWS = 100


class JSONObjectField(serializers.Field):
    """An object, sent as itself (JSON, XML) or as JSON text (a multipart or form field)."""

    default_error_messages = {
        "invalid": "Expected an object (or its JSON text).",
        "invalid_json": "Not valid JSON: {error}.",
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, str):
            if not data.strip():
                return {}
            try:
                data = json.loads(data)
            except ValueError as error:
                self.fail("invalid_json", error=error)
        if data in ("", None):
            return {}
        if not isinstance(data, dict):
            self.fail("invalid")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "string", "nullable": True},
        "description": "File column → field name (`first_name`, `company.external_id`, a custom "
        "field's name…); null skips the column. Columns left out are matched by their header. "
        "In a multipart request: the object as JSON text.",
    }
)
class MappingField(JSONObjectField):
    default_error_messages = {
        **JSONObjectField.default_error_messages,
        "not_text": "Column {column!r}: expected a field name or null.",
    }

    def to_internal_value(self, data: Any) -> dict[str, str | None]:
        mapping = super().to_internal_value(data)
        for column, target in mapping.items():
            if target is not None and not isinstance(target, str):
                self.fail("not_text", column=column)
        return mapping


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {
            "oneOf": [
                {"type": "string"},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "array", "items": {"type": "string"}},
            ]
        },
        "description": "The query parameters of the resource's list endpoint (e.g. "
        "`lifecycle_stage`, `owner`, `tag`, `updated_since`, `email`, `cf_<name>`, `search`), "
        "a list for a repeated parameter. An unknown name is a 400.",
    }
)
class FiltersField(JSONObjectField):
    pass


class ImportCreateInputSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV, JSON or XML; at most `IMPORT_MAX_BYTES`.")
    resource = serializers.ChoiceField(choices=Resource.choices)
    format = serializers.ChoiceField(
        choices=FileFormat.choices,
        required=False,
        allow_blank=True,
        help_text="Detected from the content when left out.",
    )
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.UPSERT)
    match_key = serializers.ChoiceField(
        choices=ImportJob.MatchKey.choices,
        default=ImportJob.MatchKey.EXTERNAL_ID,
        help_text="What finds an existing record: `external_id`, or `email` (contacts only). "
        "A row with an `id` column (our own export) is matched by that id first.",
    )
    mapping = MappingField(required=False)
    dry_run = serializers.BooleanField(
        default=False, help_text="Validate and count, write nothing."
    )
    all_or_nothing = serializers.BooleanField(
        default=False, help_text="Import nothing if any row is invalid."
    )
    create_related = serializers.BooleanField(
        default=False,
        help_text="Create the company a row names (by `company_name`, `company_domain` or "
        "`company_external_id`) when no company matches (name compared case-insensitively), "
        "and for deals the contact named by `primary_contact_email`. Off unless asked: a "
        "machine says what it wants. The job counts them (`companies_created`, "
        "`contacts_created`) and lists them (`links.related`); a re-run creates none.",
    )


class ImportPreviewInputSerializer(serializers.Serializer):
    file = serializers.FileField()
    resource = serializers.ChoiceField(choices=Resource.choices)
    format = serializers.ChoiceField(choices=FileFormat.choices, required=False, allow_blank=True)
    mapping = MappingField(required=False)
    rows = serializers.IntegerField(
        min_value=1, max_value=MAX_PREVIEW_ROWS, default=10, help_text="How many rows to show."
    )


class ImportPreviewOutputSerializer(serializers.Serializer):
    format = serializers.ChoiceField(choices=FileFormat.choices)
    encoding = serializers.CharField(help_text="CSV: the detected text encoding.")
    delimiter = serializers.CharField(help_text="CSV: the detected delimiter.")
    headers = serializers.ListField(child=serializers.CharField())
    mapping = serializers.DictField(
        child=serializers.CharField(), help_text="File column → the field it would fill."
    )
    ignored = serializers.ListField(
        child=serializers.CharField(), help_text="Columns no field takes."
    )
    rows = serializers.ListField(
        child=serializers.DictField(child=serializers.JSONField(allow_null=True)),
        help_text="The first records as read, keyed by column.",
    )


class _JobLinks:
    """Absolute links when a request is at hand (the API), else paths."""

    def _link(self, name: str, job: Any, query: str = "") -> str:
        path = reverse(name, args=[job.pk]) + query
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportJobOutputSerializer(_JobLinks, serializers.ModelSerializer):
    created_by = RelatedRefField(label_attr="username", read_only=True)
    filename = serializers.CharField(source="original_filename", read_only=True)
    percent = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "resource",
            "filename",
            "format",
            "encoding",
            "delimiter",
            "mode",
            "match_key",
            "mapping",
            "dry_run",
            "all_or_nothing",
            "create_related",
            "status",
            "rows_total",
            "rows_processed",
            "rows_created",
            "rows_updated",
            "rows_unchanged",
            "rows_skipped",
            "rows_failed",
            "companies_created",
            "contacts_created",
            "percent",
            "error_message",
            "cancel_requested",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "file_deleted_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "number",
            "nullable": True,
            "description": "Records processed out of `rows_total` (null until counted).",
        }
    )
    def get_percent(self, job: ImportJob) -> float | None:
        return job.percent_done

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "self": {"type": "string", "format": "uri"},
                "errors": {"type": "string", "format": "uri"},
                "errors_csv": {"type": "string", "format": "uri"},
                "cancel": {"type": "string", "format": "uri"},
                "related": {"type": "string", "format": "uri"},
            },
            "required": ["self", "errors", "errors_csv", "cancel", "related"],
        }
    )
    def get_links(self, job: ImportJob) -> dict[str, str]:
        return {
            "self": self._link("import-job-detail", job),
            "errors": self._link("import-job-errors", job),
            "errors_csv": self._link("import-job-errors", job, "?format=csv"),
            "cancel": self._link("import-job-cancel", job),
            "related": self._link("import-job-related", job),
        }


class ImportCreatedRecordOutputSerializer(serializers.Serializer):
    entity = serializers.ChoiceField(choices=["company", "contact"])
    id = serializers.IntegerField(help_text="The record created.")
    row = serializers.IntegerField(help_text="The first row of the file that named it.")
    name = serializers.CharField(
        help_text="A company's name as it is now; empty for a contact (created from an email, "
        "which this list does not repeat)."
    )


class ImportRowErrorOutputSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        source="row_number",
        help_text="The record's number in the file: the spreadsheet row for CSV (the header "
        "is row 1), the position in the list for JSON and XML.",
    )
    field = serializers.CharField(help_text="The field at fault; empty for the whole row.")
    message = serializers.CharField(
        help_text="What is wrong. A message about a PII field shows the value it quotes as `***`."
    )
    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="The row's values as read, by the file's own column names. Without `pii:read` "
        "(or the user's right to read PII) columns that feed email, phone, address or a PII "
        "custom field are masked like the records, and columns no field takes read `***`.",
    )


class ExportCreateInputSerializer(serializers.Serializer):
    resource = serializers.ChoiceField(choices=Resource.choices)
    format = serializers.ChoiceField(choices=FileFormat.choices)
    filters = FiltersField(required=False)
    include_pii = serializers.BooleanField(
        default=True,
        help_text="Email, phone, address (and PII custom fields) decrypted. Without `pii:read` "
        "(or the user's right to read PII) they are masked whatever this says.",
    )


class ExportJobOutputSerializer(_JobLinks, serializers.ModelSerializer):
    created_by = RelatedRefField(label_attr="username", read_only=True)
    download = serializers.SerializerMethodField()
    links = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "resource",
            "format",
            "filters",
            "include_pii",
            "status",
            "rows_written",
            "error_message",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "download",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "format": "uri",
            "nullable": True,
            "description": "Where to fetch the file once the job has succeeded; null before.",
        }
    )
    def get_download(self, job: ExportJob) -> str | None:
        if job.status != JobStatus.SUCCEEDED or not job.file:
            return None
        return self._link("export-job-download", job)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {"self": {"type": "string", "format": "uri"}},
            "required": ["self"],
        }
    )
    def get_links(self, job: ExportJob) -> dict[str, str]:
        return {"self": self._link("export-job-detail", job)}


# Connections and their sync runs (``integrations.api.connections``). The serializers only
# type-check; ``integrations.services.connections`` checks the configuration and the schedule.


@extend_schema_field(
    {
        "oneOf": [
            {
                "type": "object",
                "properties": {"every_minutes": {"type": "integer", "minimum": 1}},
                "required": ["every_minutes"],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": {
                    "crontab": {
                        "type": "string",
                        "description": "`minute hour day-of-month month day-of-week`, in UTC.",
                    }
                },
                "required": ["crontab"],
                "additionalProperties": False,
            },
        ],
        "nullable": True,
        "description": 'When beat runs the connection: `{"every_minutes": 15}`, '
        '`{"crontab": "*/15 2 * * 1-5"}` (UTC), or null for only when run by hand.',
    }
)
class ScheduleField(serializers.Field):
    """Passed on as given: the service checks its shape, so each door reports it alike."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return data

    def to_representation(self, value: Any) -> Any:
        return value


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": True,
        "description": "The connector's configuration keys (see the README's connector table). "
        "Secret keys (`headers` of `rest_json`, `password` of `soap`…) are write-only: never "
        "returned (`secret_keys` names those stored). In a PATCH a secret key left out keeps its "
        "stored value and one sent as null is removed; the other keys are replaced as a whole. "
        "A bad key is a 400 naming `config.<key>`.",
    }
)
class ConfigField(JSONObjectField):
    pass


class ConnectionInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    connector = serializers.CharField(
        max_length=50, help_text="`rest_json`, `soap`, `file`, `crm` or a plug-in's name."
    )
    resource = serializers.ChoiceField(choices=Resource.choices)
    mode = serializers.ChoiceField(choices=ImportJob.Mode.choices, default=ImportJob.Mode.UPSERT)
    match = serializers.ChoiceField(
        choices=ImportJob.MatchKey.choices,
        default=ImportJob.MatchKey.EXTERNAL_ID,
        source="match_key",
        help_text="What finds an existing record: `external_id`, or `email` (contacts only; "
        "needs `pii:read` and the user's right to read personal data).",
    )
    config = ConfigField(required=False)
    mapping = MappingField(required=False)
    create_related = serializers.BooleanField(
        default=False,
        help_text="Runs create the company a record names when none matches (and, for deals, "
        "the contact by email), as an import with `create_related` does.",
    )
    schedule = ScheduleField(required=False, default=None)
    enabled = serializers.BooleanField(default=True)


class ConnectionOutputSerializer(_JobLinks, serializers.ModelSerializer):
    match = serializers.CharField(source="match_key", read_only=True)
    config = serializers.SerializerMethodField()
    secret_keys = serializers.SerializerMethodField()
    schedule = serializers.SerializerMethodField()
    created_by = RelatedRefField(label_attr="username", read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = Connection
        fields = [
            "id",
            "name",
            "connector",
            "resource",
            "mode",
            "match",
            "config",
            "secret_keys",
            "mapping",
            "create_related",
            "schedule",
            "enabled",
            "cursor",
            "created_by",
            "created_at",
            "links",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "additionalProperties": True,
            "description": "The configuration without its secret keys.",
        }
    )
    def get_config(self, connection: Connection) -> dict[str, Any]:
        return dict(connection.config)

    @extend_schema_field(
        {
            "type": "array",
            "items": {"type": "string"},
            "description": "The secret configuration keys stored (their values are never shown).",
        }
    )
    def get_secret_keys(self, connection: Connection) -> list[str]:
        return connection_services.secret_keys(connection)

    @extend_schema_field(ScheduleField)
    def get_schedule(self, connection: Connection) -> dict[str, Any] | None:
        return connection_services.schedule_data(connection)

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                name: {"type": "string", "format": "uri"}
                for name in ("self", "run", "test", "runs")
            },
            "required": ["self", "run", "test", "runs"],
        }
    )
    def get_links(self, connection: Connection) -> dict[str, str]:
        runs = reverse("sync-run-list") + f"?connection={connection.pk}"
        request = self.context.get("request")
        return {
            "self": self._link("connection-detail", connection),
            "run": self._link("connection-run", connection),
            "test": self._link("connection-test", connection),
            "runs": request.build_absolute_uri(runs) if request else runs,
        }


class SourceErrorSerializer(serializers.Serializer):
    record = serializers.IntegerField(help_text="The record's number in the run (from 1).")
    message = serializers.CharField()


class SyncRunOutputSerializer(_JobLinks, serializers.ModelSerializer):
    connection = RelatedRefField(label_attr="name", read_only=True)
    source_errors = SourceErrorSerializer(many=True, read_only=True)
    links = serializers.SerializerMethodField()

    class Meta:
        model = SyncRun
        fields = [
            "id",
            "connection",
            "status",
            "fetched",
            "created",
            "updated",
            "unchanged",
            "skipped",
            "failed",
            "deleted",
            "error_message",
            "source_errors",
            "import_job",
            "cursor_before",
            "cursor_after",
            "started_at",
            "fetched_at",
            "finished_at",
            "links",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "status": {
                "help_text": "`queued` (asked for, not started), `running`, `succeeded`, "
                "`partially_succeeded` (some records failed) or `failed` (`error_message` says "
                "why; the cursor did not move)."
            },
            "failed": {
                "help_text": "Records the source gave unusable (`source_errors`) plus rows the "
                "import rejected (its error report: `links.errors`)."
            },
            "started_at": {
                "help_text": "When it started, or, while queued, when it was asked for."
            },
        }

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "self": {"type": "string", "format": "uri"},
                "connection": {"type": "string", "format": "uri"},
                "import_job": {"type": "string", "format": "uri", "nullable": True},
                "errors": {"type": "string", "format": "uri", "nullable": True},
            },
            "required": ["self", "connection", "import_job", "errors"],
        }
    )
    def get_links(self, run: SyncRun) -> dict[str, str | None]:
        job = SimpleNamespace(pk=run.import_job_id)
        return {
            "self": self._link("sync-run-detail", run),
            "connection": self._link("connection-detail", SimpleNamespace(pk=run.connection_id)),
            "import_job": self._link("import-job-detail", job) if run.import_job_id else None,
            "errors": self._link("import-job-errors", job) if run.import_job_id else None,
        }


class ConnectionTestInputSerializer(serializers.Serializer):
    limit = serializers.IntegerField(
        min_value=1,
        max_value=connection_services.MAX_TEST_RECORDS,
        default=connection_services.TEST_RECORDS,
        help_text="How many records to read from the source.",
    )


class TestRecordOutputSerializer(serializers.Serializer):
    number = serializers.IntegerField(help_text="The record's number in the source (from 1).")
    values = serializers.DictField(
        child=serializers.JSONField(allow_null=True),
        help_text="The record as the source gave it, nested objects as dotted keys. Without "
        "`pii:read` (or the user's right to read personal data) values that feed email, phone, "
        "address or a PII custom field are masked, and fields no field takes read `***`.",
    )
    mapped = serializers.DictField(
        child=serializers.JSONField(allow_null=True), help_text="Our field → the value it gets."
    )
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Field → what is wrong (`""`: the whole record); empty when it would import.',
    )
    deletion = serializers.CharField(
        allow_null=True, help_text="The external id the source says was deleted, else null."
    )


class ConnectionTestOutputSerializer(serializers.Serializer):
    error = serializers.CharField(
        help_text="Why the source could not be read; empty when it was (nothing else is set then)."
    )
    mapping = serializers.DictField(
        child=serializers.CharField(), help_text="Source field → the field it would fill."
    )
    ignored = serializers.ListField(
        child=serializers.CharField(), help_text="Source fields no field takes."
    )
    more = serializers.BooleanField(help_text="The source has more records than were read.")
    records = TestRecordOutputSerializer(many=True)
