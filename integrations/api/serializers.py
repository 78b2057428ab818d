"""REST representations of bulk jobs. Input serializers only type-check the options; the
services (``imports``, ``exports``) check the file, the mapping and the filters."""

import json
from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from customers.api.fields import RelatedRefField
from integrations.models import ExportJob, FileFormat, ImportJob, JobStatus, Resource

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
