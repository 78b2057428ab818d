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
