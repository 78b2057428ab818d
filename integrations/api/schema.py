"""The OpenAPI description of the bulk job endpoints (drf-spectacular decorators)."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers

from customers.api.schema_components import (
    BOM,
    COMMON_HEADERS,
    CSV,
    CURSOR_PAGINATION,
    FORMAT,
    HEADER,
    JSON,
    READ_ERRORS,
    WRITE_ERRORS,
    XML,
    ErrorSerializer,
    error_responses,
)
from integrations.api import serializers as s

MULTIPART = "multipart/form-data"

IMPORT_JOB = {
    "id": 12,
    "resource": "contacts",
    "filename": "trade-fair-2026.csv",
    "format": "csv",
    "encoding": "utf-8",
    "delimiter": ",",
    "mode": "upsert",
    "match_key": "email",
    "mapping": {"E-mail": "email"},
    "dry_run": False,
    "all_or_nothing": False,
    "create_related": True,
    "status": "running",
    "rows_total": 48000,
    "rows_processed": 19104,
    "rows_created": 15210,
    "rows_updated": 772,
    "rows_unchanged": 3104,
    "rows_skipped": 0,
    "rows_failed": 18,
    "companies_created": 41,
    "contacts_created": 0,
    "percent": 39.8,
    "error_message": "",
    "cancel_requested": False,
    "created_by": {"id": 3, "username": "zhang.min"},
    "created_at": "2026-03-02T09:15:00Z",
    "started_at": "2026-03-02T09:15:01Z",
    "finished_at": None,
    "file_deleted_at": None,
    "links": {
        "self": "https://crm.example.com/api/v1/imports/12/",
        "errors": "https://crm.example.com/api/v1/imports/12/errors/",
        "errors_csv": "https://crm.example.com/api/v1/imports/12/errors/?format=csv",
        "cancel": "https://crm.example.com/api/v1/imports/12/cancel/",
        "related": "https://crm.example.com/api/v1/imports/12/related/",
    },
}
PREVIEW = {
    "format": "csv",
    "encoding": "gb18030",
    "delimiter": ",",
    "headers": ["名", "姓", "电子邮件", "Remarks"],
    "mapping": {"名": "first_name", "姓": "last_name", "电子邮件": "email"},
    "ignored": ["Remarks"],
    "rows": [{"名": "伟", "姓": "张", "电子邮件": "wei@example.cn", "Remarks": "trade fair"}],
}
ROW_ERRORS = {
    "next": "https://crm.example.com/api/v1/imports/12/errors/?cursor=cD0xMjM%3D",
    "previous": None,
    "results": [
        {
            "row": 3,
            "field": "email",
            "message": "Enter a valid email address.",
            "values": {"first_name": "B", "email": "not-an-email"},
        }
    ],
}
ROW_ERRORS_CSV = (
    "first_name,email,import row,import errors\r\n"
    "B,not-an-email,3,email: Enter a valid email address.\r\n"
)
EXPORT_JOB = {
    "id": 5,
    "resource": "contacts",
    "format": "xml",
    "filters": {"lifecycle_stage": ["lead", "customer"], "tag": "vip"},
    "include_pii": True,
    "status": "succeeded",
    "rows_written": 1204,
    "error_message": "",
    "created_by": {"id": 3, "username": "zhang.min"},
    "created_at": "2026-03-02T09:15:00Z",
    "started_at": "2026-03-02T09:15:01Z",
    "finished_at": "2026-03-02T09:15:03Z",
    "download": "https://crm.example.com/api/v1/exports/5/download/",
    "links": {"self": "https://crm.example.com/api/v1/exports/5/"},
}

CSV_RECORD = {"type": "string", "description": "A header row, then the job as one row."}
LOCATION = OpenApiParameter(
    "Location", str, HEADER, response=[202], required=True, description="The job's URL."
)
UPLOAD_TOO_LARGE = {
    (413, JSON): OpenApiResponse(
        ErrorSerializer,
        description="The upload is over `IMPORT_MAX_BYTES` (512 MiB by default); refused before "
        "it is read, so always JSON.",
    )
}


def _conflict(description: str, message: str) -> dict[tuple[int, str], OpenApiResponse]:
    return {
        (409, JSON): OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=[
                OpenApiExample(
                    "Wrong state",
                    value={"code": "job_state_conflict", "message": message, "errors": {}},
                )
            ],
        )
    }


def _meta(resource: str, action: str) -> dict[str, Any]:
    return {
        "tags": [resource.capitalize()],
        "extensions": {"x-required-scopes": [f"{resource}:{action}"]},
    }


def _note(resource: str, action: str) -> str:
    return f"\n\n**Scope:** `{resource}:{action}`."


class ImportCreatedRecordPageSerializer(serializers.Serializer):
    """Documentation only: a page of the records an import created."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = s.ImportCreatedRecordOutputSerializer(many=True)


class ImportRowErrorPageSerializer(serializers.Serializer):
    """Documentation only: a page of the error report."""

    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = s.ImportRowErrorOutputSerializer(many=True)


def _job_examples(name: str, value: dict, *codes: int) -> list[OpenApiExample]:
    return [OpenApiExample(name, value=value, response_only=True, status_codes=list(codes))]


import_jobs = extend_schema_view(
    list=extend_schema(
        summary="List import jobs",
        description="Your import jobs, newest first (everyone's if you may change any import "
        f"job).{_note('imports', 'read')}",
        parameters=[FORMAT, *COMMON_HEADERS],
        responses={200: s.ImportJobOutputSerializer, **error_responses(400, *READ_ERRORS)},
        **_meta("imports", "read"),
    ),
    retrieve=extend_schema(
        summary="Get an import job",
        description="The job's live progress: `status` (`queued`, `running`, `succeeded`, "
        "`partially_succeeded`, `failed`, `cancelled`), the counts so far, `percent`, and "
        f"links to the per-row error report.{_note('imports', 'read')}",
        parameters=[FORMAT, *COMMON_HEADERS],
        responses={200: s.ImportJobOutputSerializer, **error_responses(*READ_ERRORS)},
        examples=_job_examples("A running import", IMPORT_JOB, 200),
        **_meta("imports", "read"),
    ),
    create=extend_schema(
        summary="Start an import",
        description="Upload a CSV, JSON or XML file (`multipart/form-data`) with the options. "
        "The file, the format and the mapping are checked at once (400, nothing stored); the "
        "rows are then imported by a worker in chunks. The answer is 202 with the job; follow "
        "`Location` to watch its progress. Headers match field names in English or Chinese, "
        "our own export's columns (`id`, `company.id`, `owner.username`, custom fields by name) "
        "and custom field labels; `mapping` overrides them."
        f"{_note('imports', 'write')}",
        request={MULTIPART: s.ImportCreateInputSerializer},
        parameters=[FORMAT, LOCATION, *COMMON_HEADERS],
        responses={
            (202, JSON): OpenApiResponse(s.ImportJobOutputSerializer, description="Queued."),
            (202, XML): OpenApiResponse(s.ImportJobOutputSerializer, description="Queued."),
            (202, CSV): OpenApiResponse(CSV_RECORD, description="Queued."),
            **error_responses(400, 401, 403, 406, 415, 429),
            **UPLOAD_TOO_LARGE,
        },
        examples=_job_examples("Queued", {**IMPORT_JOB, "status": "queued"}, 202),
        **_meta("imports", "write"),
    ),
    preview=extend_schema(
        summary="Preview an import",
        description="What an import of this file would read, before anything runs: the "
        "detected format, encoding and delimiter, the headers, the proposed mapping (with your "
        f"`mapping` applied) and the first rows. Nothing is stored.{_note('imports', 'write')}",
        request={MULTIPART: s.ImportPreviewInputSerializer},
        parameters=[FORMAT, *COMMON_HEADERS],
        responses={
            200: s.ImportPreviewOutputSerializer,
            **error_responses(400, 401, 403, 406, 415, 429),
            **UPLOAD_TOO_LARGE,
        },
        examples=_job_examples("A GB18030 file from Excel", PREVIEW, 200),
        **_meta("imports", "write"),
    ),
    cancel=extend_schema(
        summary="Cancel an import",
        description="A queued job is cancelled at once; a running one stops after the chunk "
        "it is writing (the chunks already written stay). A finished job is a 409."
        f"{_note('imports', 'write')}",
        request=None,
        parameters=[FORMAT, *COMMON_HEADERS],
        responses={
            200: s.ImportJobOutputSerializer,
            **error_responses(*READ_ERRORS),
            **_conflict("The job has already finished.", "The job has already finished."),
        },
        **_meta("imports", "write"),
    ),
    errors=extend_schema(
        summary="An import's row errors",
        description="One entry per problem (a row with two bad fields has two), in row order: "
        "the row number, the field, the message and the row's values. JSON and XML are paged "
        "like every list. `?format=csv` (or `Accept: text/csv`) downloads the whole report "
        "instead: each rejected row once, as it was in the file (the file's columns in its "
        "order and its delimiter; a column the row lacked is blank), then two columns of "
        "ours, `import row` (its row number, the header being row 1) and `import errors` "
        "(every problem of the row, `field: message`, joined by `; `), which an import "
        "ignores: the corrected report can be imported as it is."
        f"{_note('imports', 'read')}",
        filters=False,
        parameters=[*CURSOR_PAGINATION, FORMAT, BOM, *COMMON_HEADERS],
        responses={
            (200, JSON): OpenApiResponse(ImportRowErrorPageSerializer),
            (200, XML): OpenApiResponse(ImportRowErrorPageSerializer),
            (200, CSV): OpenApiResponse(
                {"type": "string", "description": "The whole report, as a download."}
            ),
            **error_responses(*READ_ERRORS),
        },
        examples=[
            *_job_examples("A page", ROW_ERRORS, 200),
            OpenApiExample(
                "The report as CSV",
                value=ROW_ERRORS_CSV,
                media_type=CSV,
                response_only=True,
                status_codes=[200],
            ),
        ],
        **_meta("imports", "read"),
    ),
    related=extend_schema(
        summary="The records an import created",
        description="With `create_related`, the companies (and for deals the contacts) the job "
        "created because no record matched what a row named: the entity, its id, the first "
        "row that named it and a company's name. A contact is listed by id only."
        f"{_note('imports', 'read')}",
        filters=False,
        parameters=[*CURSOR_PAGINATION, FORMAT, *COMMON_HEADERS],
        responses={
            (200, JSON): OpenApiResponse(ImportCreatedRecordPageSerializer),
            (200, XML): OpenApiResponse(ImportCreatedRecordPageSerializer),
            **error_responses(*READ_ERRORS),
        },
        **_meta("imports", "read"),
    ),
)

export_jobs = extend_schema_view(
    list=extend_schema(
        summary="List export jobs",
        description="Your export jobs, newest first (everyone's if you may change any export "
        f"job).{_note('exports', 'read')}",
        parameters=[FORMAT, *COMMON_HEADERS],
        responses={200: s.ExportJobOutputSerializer, **error_responses(400, *READ_ERRORS)},
        **_meta("exports", "read"),
    ),
    retrieve=extend_schema(
        summary="Get an export job",
        description="The job's status and row count; `download` is set once it has succeeded."
        f"{_note('exports', 'read')}",
        parameters=[FORMAT, *COMMON_HEADERS],
        responses={200: s.ExportJobOutputSerializer, **error_responses(*READ_ERRORS)},
        examples=_job_examples("A finished export", EXPORT_JOB, 200),
        **_meta("exports", "read"),
    ),
    create=extend_schema(
        summary="Start an export",
        description="Every contact, company or deal matching `filters` (the list endpoint's "
        "query parameters), written by a worker to one CSV, JSON or XML file shaped as the "
        "list returns records; it imports back unchanged. The answer is 202 with the job; "
        "follow `Location`. Email, phone and address are masked unless `include_pii` and the "
        f"key has `pii:read`.{_note('exports', 'write')}",
        request=s.ExportCreateInputSerializer,
        parameters=[FORMAT, LOCATION, *COMMON_HEADERS],
        responses={
            (202, JSON): OpenApiResponse(s.ExportJobOutputSerializer, description="Queued."),
            (202, XML): OpenApiResponse(s.ExportJobOutputSerializer, description="Queued."),
            (202, CSV): OpenApiResponse(CSV_RECORD, description="Queued."),
            **error_responses(*WRITE_ERRORS),
        },
        examples=[
            OpenApiExample(
                "Leads and customers tagged vip, as XML",
                value={"resource": "contacts", "format": "xml", "filters": EXPORT_JOB["filters"]},
                media_type=JSON,
                request_only=True,
            ),
            *_job_examples("Queued", {**EXPORT_JOB, "status": "queued", "download": None}, 202),
        ],
        **_meta("exports", "write"),
    ),
    download=extend_schema(
        summary="Download an export",
        description="The file (`Content-Disposition: attachment`), in the job's format whatever "
        "`Accept` says. 409 until the job has succeeded; 403 if the file holds decrypted PII "
        "and the key lacks `pii:read`. A CSV starts with a UTF-8 byte-order mark as `bom` "
        f"says.{_note('exports', 'read')}",
        parameters=[
            BOM,
            OpenApiParameter(
                "Content-Disposition",
                str,
                HEADER,
                response=[200],
                required=True,
                description='`attachment; filename="<resource>-<id>.<format>"`.',
            ),
            *COMMON_HEADERS,
        ],
        responses={
            (200, CSV): OpenApiResponse(OpenApiTypes.BINARY, description="A CSV export."),
            (200, JSON): OpenApiResponse(OpenApiTypes.BINARY, description="A JSON export."),
            (200, XML): OpenApiResponse(OpenApiTypes.BINARY, description="An XML export."),
            **error_responses(*READ_ERRORS),
            **_conflict("The export has not succeeded (yet).", "The export is running."),
        },
        **_meta("exports", "read"),
    ),
)


# Connections and sync runs (integrations.api.connections): JSON only, scope `integrations:*`.

CONNECTION = {
    "id": 4,
    "name": "Legacy ERP",
    "connector": "rest_json",
    "resource": "contacts",
    "mode": "upsert",
    "match": "external_id",
    "config": {
        "url": "https://erp.example.com/api/contacts/",
        "records_path": "data.items",
        "next_path": "links.next",
        "since_param": "updated_since",
        "cursor_field": "updated_at",
    },
    "secret_keys": ["headers"],
    "mapping": {"id": "external_id", "updated_at": None},
    "create_related": False,
    "schedule": {"every_minutes": 15},
    "enabled": True,
    "cursor": "2026-03-02T09:00:00Z",
    "created_by": {"id": 3, "username": "zhang.min"},
    "created_at": "2026-03-01T08:00:00Z",
    "links": {
        "self": "https://crm.example.com/api/v1/connections/4/",
        "run": "https://crm.example.com/api/v1/connections/4/run/",
        "test": "https://crm.example.com/api/v1/connections/4/test/",
        "runs": "https://crm.example.com/api/v1/sync-runs/?connection=4",
    },
}
CONNECTION_INPUT = {
    "name": "Legacy ERP",
    "connector": "rest_json",
    "resource": "contacts",
    "mode": "upsert",
    "match": "external_id",
    "config": {
        **CONNECTION["config"],
        "headers": {"Authorization": "Bearer erp-token"},
    },
    "mapping": {"id": "external_id", "updated_at": None},
    "schedule": {"crontab": "*/15 * * * *"},
}
SYNC_RUN = {
    "id": 81,
    "connection": {"id": 4, "name": "Legacy ERP"},
    "status": "partially_succeeded",
    "fetched": 120,
    "created": 12,
    "updated": 105,
    "unchanged": 1,
    "skipped": 0,
    "failed": 2,
    "deleted": 0,
    "error_message": "",
    "source_errors": [{"record": 17, "message": "The record is not an object."}],
    "import_job": 311,
    "cursor_before": "2026-03-02T09:00:00Z",
    "cursor_after": "2026-03-02T09:15:00Z",
    "started_at": "2026-03-02T09:15:00Z",
    "fetched_at": "2026-03-02T09:15:02Z",
    "finished_at": "2026-03-02T09:15:04Z",
    "links": {
        "self": "https://crm.example.com/api/v1/sync-runs/81/",
        "connection": "https://crm.example.com/api/v1/connections/4/",
        "import_job": "https://crm.example.com/api/v1/imports/311/",
        "errors": "https://crm.example.com/api/v1/imports/311/errors/",
    },
}
QUEUED_RUN = {
    **SYNC_RUN,
    **dict.fromkeys(("fetched", "created", "updated", "unchanged", "failed"), 0),
    "status": "queued",
    "source_errors": [],
    "import_job": None,
    "cursor_after": "",
    "fetched_at": None,
    "finished_at": None,
    "links": {**SYNC_RUN["links"], "import_job": None, "errors": None},
}
CONNECTION_TEST = {
    "error": "",
    "mapping": {"id": "external_id", "first_name": "first_name", "email": "email"},
    "ignored": ["updated_at"],
    "more": True,
    "records": [
        {
            "number": 1,
            "values": {"id": "e1", "first_name": "伟", "email": "wei@example.cn"},
            "mapped": {"external_id": "e1", "first_name": "伟", "email": "wei@example.cn"},
            "errors": {},
            "deletion": None,
        },
        {
            "number": 2,
            "values": {"id": "e2", "first_name": "", "email": "not-an-email"},
            "mapped": {"external_id": "e2", "first_name": "", "email": "not-an-email"},
            "errors": {"email": ["Enter a valid email address."]},
            "deletion": None,
        },
    ],
}
RUN_LOCATION = OpenApiParameter(
    "Location", str, HEADER, response=[202], required=True, description="The run's URL."
)
CREATED_LOCATION = OpenApiParameter(
    "Location", str, HEADER, response=[201], required=True, description="The connection's URL."
)
CONNECTION_ERRORS = (400, 401, 403, 404, 406, 413, 415, 429)


def _json_error(status_code: int, description: str, code: str, message: str) -> dict:
    return {
        (status_code, JSON): OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=[OpenApiExample(code, value={"code": code, "message": message, "errors": {}})],
        )
    }


def _json_errors(*status_codes: int) -> dict:
    """The shared error responses, in JSON only: these endpoints speak nothing else."""
    return {key: value for key, value in error_responses(*status_codes).items() if key[1] == JSON}


def _integrations(action: str, text: str) -> dict[str, Any]:
    return {
        "description": f"{text}{_note('integrations', action)}",
        "tags": ["Connections"],
        "extensions": {"x-required-scopes": [f"integrations:{action}"]},
    }


connections = extend_schema_view(
    list=extend_schema(
        summary="List connections",
        parameters=[*COMMON_HEADERS],
        responses={200: s.ConnectionOutputSerializer, **_json_errors(400, *READ_ERRORS)},
        **_integrations("read", "Every connection, by name. Secret keys are never shown."),
    ),
    retrieve=extend_schema(
        summary="Get a connection",
        parameters=[*COMMON_HEADERS],
        responses={200: s.ConnectionOutputSerializer, **_json_errors(*READ_ERRORS)},
        examples=[OpenApiExample("A connection", value=CONNECTION, response_only=True)],
        **_integrations("read", "The connection, its schedule and its cursor."),
    ),
    create=extend_schema(
        summary="Create a connection",
        request=s.ConnectionInputSerializer,
        parameters=[CREATED_LOCATION, *COMMON_HEADERS],
        responses={201: s.ConnectionOutputSerializer, **_json_errors(*CONNECTION_ERRORS)},
        examples=[
            OpenApiExample(
                "A REST source every 15 minutes", value=CONNECTION_INPUT, request_only=True
            ),
            OpenApiExample("Created", value=CONNECTION, response_only=True, status_codes=[201]),
        ],
        **_integrations(
            "write",
            "Checked as a whole: every bad field is named at once (`config.<key>` for a "
            "configuration key, `schedule` for the schedule) and nothing is stored. A `file` "
            "connection's `folder` must lie in `CONNECTOR_FILE_ROOTS`; URLs must be public "
            "unless their network is in `OUTBOUND_ALLOWED_NETWORKS`. Runs import as the user "
            "who created the connection.",
        ),
    ),
    partial_update=extend_schema(
        summary="Change a connection",
        request=s.ConnectionInputSerializer,
        parameters=[*COMMON_HEADERS],
        responses={200: s.ConnectionOutputSerializer, **_json_errors(*CONNECTION_ERRORS)},
        **_integrations(
            "write",
            "Only the fields sent change. A secret configuration key left out of `config` keeps "
            "its stored value (send it as null to remove it); `schedule: null` removes the "
            "schedule. The connector cannot change.",
        ),
    ),
    destroy=extend_schema(
        summary="Delete a connection",
        parameters=[*COMMON_HEADERS],
        responses={204: OpenApiResponse(description="Deleted."), **_json_errors(*READ_ERRORS)},
        **_integrations("write", "The connection, its schedule and its run history."),
    ),
    run=extend_schema(
        summary="Run a connection now",
        request=None,
        parameters=[RUN_LOCATION, *COMMON_HEADERS],
        responses={
            202: OpenApiResponse(s.SyncRunOutputSerializer, description="Queued."),
            **_json_errors(*READ_ERRORS),
            **_json_error(
                409,
                "The connection is disabled, or a run of it is still going.",
                "run_conflict",
                "A run of “Legacy ERP” is still going (run 80); wait until it finishes.",
            ),
            **_json_error(
                503,
                "The task queue is unavailable: nothing was queued; retry later.",
                "queue_unavailable",
                "The task queue is unavailable, so nothing was queued; try again.",
            ),
        },
        examples=[
            OpenApiExample("Queued", value=QUEUED_RUN, response_only=True, status_codes=[202])
        ],
        **_integrations(
            "write",
            "Queues a run outside the schedule and answers 202 with it (`status: queued`); "
            "follow `Location` (or `GET /api/v1/sync-runs/{id}/`) for its counts. Asking again "
            "while it is still queued answers the same run.",
        ),
    ),
    test=extend_schema(
        summary="Test a connection",
        request=s.ConnectionTestInputSerializer,
        parameters=[*COMMON_HEADERS],
        responses={200: s.ConnectionTestOutputSerializer, **_json_errors(*CONNECTION_ERRORS)},
        examples=[
            OpenApiExample("Two records", value=CONNECTION_TEST, response_only=True),
        ],
        **_integrations(
            "write",
            "Reads the first `limit` records of the source (from the beginning, ignoring the "
            "cursor) and shows how a run would map and check each one. Writes nothing: no run, "
            "no record, no cursor; a drop folder's files stay where they are. A source that "
            "cannot be read answers 200 with `error` set.",
        ),
    ),
)

sync_runs = extend_schema_view(
    list=extend_schema(
        summary="List sync runs",
        parameters=[*COMMON_HEADERS],
        responses={200: s.SyncRunOutputSerializer, **_json_errors(400, *READ_ERRORS)},
        **_integrations("read", "Runs of every connection, newest first (`?connection=<id>`)."),
    ),
    retrieve=extend_schema(
        summary="Get a sync run",
        parameters=[*COMMON_HEADERS],
        responses={200: s.SyncRunOutputSerializer, **_json_errors(*READ_ERRORS)},
        examples=[OpenApiExample("A run", value=SYNC_RUN, response_only=True)],
        **_integrations(
            "read",
            "The run's counts, the records the source gave unusable (`source_errors`, the first "
            "1,000), the error that failed it, and its import job (whose `errors` list the rows "
            "the import rejected).",
        ),
    ),
)
