"""Shared pieces of the OpenAPI document: the error and batch components, the parameters and
headers many operations share, the error responses, and examples rendered by the API's own
renderers (so they cannot drift from what the API sends)."""

from types import SimpleNamespace
from typing import Any

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from customers import pii
from customers.api import schema_examples as examples
from customers.api.batch import MODES
from customers.api.renderers import CSVRenderer, XMLRenderer

JSON, XML, CSV = "application/json", "application/xml", "text/csv"
RESPONSE_MEDIA_TYPES = (JSON, XML, CSV)
HEADER, PATH = OpenApiParameter.HEADER, OpenApiParameter.PATH
# XML carries a list as <list-item> children of one element (see renderers.XMLRenderer).
XML_LIST = {"wrapped": True}
XML_LIST_ITEM = {"name": "list-item"}

# Components.


class BatchRequest(serializers.Serializer):
    """Documentation only: one per resource, from `batch_request` (see `BatchRequestSchema`)."""

    record_serializer: type[serializers.Serializer]
    component_name: str


def batch_request(record_serializer: type[serializers.Serializer]) -> type[BatchRequest]:
    name = record_serializer.__name__.removesuffix("Serializer").removesuffix("Input")
    attributes = {
        "record_serializer": record_serializer,
        "component_name": f"{name}Batch",
        "__module__": __name__,
    }
    return type(f"{name}BatchRequestSerializer", (BatchRequest,), attributes)


class ErrorSerializer(serializers.Serializer):
    """Every failure, on every endpoint: a machine-readable code, a sentence for people and
    the field errors."""

    code = serializers.CharField(
        help_text="Machine-readable: `invalid`, `parse_error`, `not_authenticated`, "
        "`authentication_failed`, `permission_denied`, `not_found`, `not_acceptable`, "
        "`idempotency_conflict`, `precondition_failed`, `request_too_large`, "
        "`unsupported_media_type`, `idempotency_key_reused`, `throttled`, "
        "`batch_rolled_back`."
    )
    message = serializers.CharField(help_text="A sentence for people.")
    errors = serializers.DictField(
        child=serializers.JSONField(),
        help_text="Field name → list of messages; `non_field_errors` for the record as a whole, "
        "nested lists or objects for nested fields (`records.<index>.<field>` for a batch). "
        "Empty when the failure is not about fields.",
    )
    retry_after = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Only with 429: seconds until the key may call again.",
    )


class BatchResultSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the record in the request (0-based).")
    status = serializers.ChoiceField(
        choices=["created", "updated", "error", "rolled_back"],
        help_text="`rolled_back`: the record was fine, but an atomic batch failed elsewhere.",
    )
    id = serializers.IntegerField(
        required=False, help_text="The written record's id; absent for errors and rollbacks."
    )
    errors = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text="Only with `error`: field name → list of messages.",
    )


class BatchOutcomeSerializer(serializers.Serializer):
    committed = serializers.BooleanField(
        help_text="False only when an atomic batch was rolled back (the status is then 400)."
    )
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    error = serializers.IntegerField()
    rolled_back = serializers.IntegerField()
    results = BatchResultSerializer(many=True, help_text="One per record, in input order.")


class BatchFailureSerializer(serializers.Serializer):
    """Documentation only: see `schema.BatchFailureSchema`."""


# Parameters and headers.

FORMAT = OpenApiParameter(
    "format",
    str,
    enum=["json", "xml", "csv"],
    description="The response format, instead of an `Accept` header (`application/json`, "
    "`application/xml`, `text/csv`). Default: JSON.",
)
BOM = OpenApiParameter(
    "bom",
    bool,
    description="CSV only: start the file with a UTF-8 byte-order mark, which Excel needs to "
    "show Chinese (and any non-ASCII) text. Default: `false` for a request authenticated by an "
    "API key (a program), `true` otherwise (a browser with a session, whose file goes to a "
    "spreadsheet). Any other value than true/false is a 400 naming `bom`.",
)
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    HEADER,
    description="Optimistic concurrency: the `ETag` you read. If the record has changed since, "
    "nothing is written and the answer is 412. `*` matches any version; several "
    "comma-separated tags may be sent; `W/` is ignored. Without it the write goes ahead.",
    examples=[OpenApiExample("The ETag you read", value=examples.ETAG)],
)
IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    HEADER,
    description="The `ETag` you hold: if the record is unchanged the answer is 304, no body.",
    examples=[OpenApiExample("The ETag you hold", value=examples.ETAG)],
)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "minLength": 1, "maxLength": 255},
    HEADER,
    description="Makes a retried POST safe: the first response is stored with the writes, in "
    "one transaction, and a retry with the same key and the same request gets it back "
    "(`Idempotent-Replayed: true`) in the format it asks for, writing nothing. Keys belong to "
    "the API key and last 24 hours. The same key with a different request is refused (422); "
    "a key whose first request is still running is refused (409). A request that fails "
    "does not use up its key.",
    examples=[OpenApiExample("One key per logical request", value=examples.IDEMPOTENCY)],
)
BATCH_MODE = OpenApiParameter(
    "mode",
    str,
    enum=list(MODES),
    description="`create` (default), `update` or `upsert`; overrides the body's `mode`.",
)
BATCH_ATOMIC = OpenApiParameter(
    "atomic", bool, description="All or nothing; overrides the body's `atomic`."
)
CURSOR_PAGINATION = [
    OpenApiParameter("cursor", str, description="The pagination cursor value (from `next`)."),
    OpenApiParameter("page_size", int, description="Records per page: 50 by default, up to 1,000."),
]
PAGE_LINKS = OpenApiParameter(
    "Link",
    str,
    HEADER,
    response=[200],
    description='RFC 8288 links to the neighbouring pages, `<…>; rel="next"` and '
    '`<…>; rel="prev"` (absent when there is none): how a CSV client pages.',
)
COMMON_HEADERS = [
    OpenApiParameter(
        "WWW-Authenticate",
        str,
        HEADER,
        response=[401],
        required=True,
        description='The challenge: `Bearer realm="api"`.',
    ),
    OpenApiParameter(
        "Retry-After",
        int,
        HEADER,
        response=[429],
        description="Seconds until the key may call again.",
    ),
]


def etag_header(*status_codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "ETag",
        str,
        HEADER,
        response=list(status_codes),
        required=True,
        description="The record's version; send it back in `If-Match` or `If-None-Match`.",
    )


def replayed_header(*status_codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Idempotent-Replayed",
        str,
        HEADER,
        response=list(status_codes),
        enum=["true"],
        description="Present when this is the stored response to an earlier request with the "
        "same `Idempotency-Key`.",
    )


def fields_parameter(serializer_class: type[serializers.Serializer]) -> OpenApiParameter:
    return OpenApiParameter(
        "fields",
        str,
        many=True,
        style="form",
        explode=False,
        enum=list(serializer_class.Meta.fields),
        description="Sparse fieldset: comma-separated names of the fields to return, e.g. "
        "`id,first_name,email`. Unknown names are ignored. Applies to every record in the "
        "response.",
    )


def external_id_parameter(singular: str) -> OpenApiParameter:
    return OpenApiParameter(
        "external_id",
        str,
        PATH,
        pattern=r"^[^/]+$",
        description=f"The {singular}'s id in your system (its `external_id`), URL-encoded.",
    )


# Responses.

_ERROR_DESCRIPTIONS = {
    400: "Invalid input: field errors (`invalid`) or a body that does not parse (`parse_error`).",
    401: "No credentials, or an invalid, revoked or expired API key.",
    403: "The API key lacks the scope, or its user the permission.",
    404: "No such record, an unknown `format`, or an invalid pagination cursor.",
    406: "None of the `Accept` media types can be produced.",
    409: "A request with this `Idempotency-Key` is still being processed; retry shortly.",
    412: "`If-Match` does not match the record's `ETag`: it changed since you read it. Nothing "
    "was written.",
    413: "The body is over the size limit (`API_MAX_REQUEST_BYTES`, 10 MiB by default). "
    "Refused before parsing, so always JSON.",
    415: "The body's `Content-Type` is not one the API reads.",
    422: "This `Idempotency-Key` was already used for a different request.",
    429: "Too many requests for this API key (`API_KEY_RATE_LIMIT`, 1200/min by default).",
}
CSV_ERROR = {
    "type": "string",
    "description": "In CSV an error is `field,message` rows: `code`, `message`, then an "
    "`errors.<field>` row per message.",
}
CSV_TEXT = {"type": "string", "description": "A header row, then a row per result."}
READ_ERRORS = (401, 403, 404, 406, 429)
WRITE_ERRORS = (400, 401, 403, 404, 406, 413, 415, 429)


def error_responses(*status_codes: int) -> dict[tuple[int, str], OpenApiResponse]:
    """The shared `Error` component in JSON and XML, and `field,message` rows in CSV."""
    responses: dict[tuple[int, str], OpenApiResponse] = {}
    for status_code in status_codes:
        description = _ERROR_DESCRIPTIONS[status_code]
        named = examples.ERRORS[status_code]
        responses[status_code, JSON] = OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=[OpenApiExample(name, value=value) for name, value in named],
        )
        if status_code == 413:
            continue  # refused before content negotiation
        responses[status_code, XML] = OpenApiResponse(
            ErrorSerializer,
            description=description,
            examples=[
                OpenApiExample(name, value=XMLRenderer().render(value)) for name, value in named
            ],
        )
        responses[status_code, CSV] = OpenApiResponse(
            CSV_ERROR,
            description=description,
            examples=[
                OpenApiExample(name, value=_csv_error(status_code, value)) for name, value in named
            ],
        )
    return responses


def raw_error_response(status_code: int) -> dict[str, Any]:
    """An error response as a plain OpenAPI object, for the postprocessing hook."""
    error = {"schema": {"$ref": "#/components/schemas/Error"}}
    content = (
        {JSON: error}
        if status_code == 413
        else {JSON: error, XML: error, CSV: {"schema": CSV_ERROR}}
    )
    response: dict[str, Any] = {"description": _ERROR_DESCRIPTIONS[status_code], "content": content}
    if status_code == 401:
        response["headers"] = {
            "WWW-Authenticate": {
                "schema": {"type": "string"},
                "required": True,
                "description": 'The challenge: `Bearer realm="api"`.',
            }
        }
    return response


def _csv_error(status_code: int, error: dict) -> str:
    context = {"response": SimpleNamespace(status_code=status_code)}
    return CSVRenderer().render(error, renderer_context=context)


def record_responses(
    serializer: Any, *status_codes: int, description: str = ""
) -> dict[tuple[int, str], OpenApiResponse]:
    return {
        (status_code, media_type): OpenApiResponse(serializer, description=description)
        for status_code in status_codes
        for media_type in RESPONSE_MEDIA_TYPES
    }


NOT_MODIFIED = {304: OpenApiResponse(description="Not modified: `If-None-Match` matched.")}
NO_CONTENT = {204: OpenApiResponse(description="Deleted.")}


# Examples, rendered by the API's own renderers.


def record_examples(
    view: type, singular: str, record: dict, *, formats: bool = True
) -> list[OpenApiExample]:
    """Response examples: the record as JSON (masked too, where it has PII), XML and CSV."""
    result = [
        OpenApiExample(f"A {singular}", value=record, response_only=True, status_codes=[200, 201])
    ]
    masked = {
        key: pii.masked(key, value) if key in pii.PII_FIELDS else value
        for key, value in record.items()
    }
    if masked != record:
        result.append(
            OpenApiExample(
                "Without pii:read",
                value=masked,
                response_only=True,
                status_codes=[200, 201],
                description="A key without the `pii:read` scope sees email, phone and address "
                "masked; sending a masked value back leaves the stored value unchanged.",
            )
        )
    if formats:
        # The static columns only: a view's own csv_columns() may read the database.
        base_columns = getattr(view, "csv_base_columns", None)
        columns = SimpleNamespace(csv_columns=lambda: list(base_columns))
        csv_context = {"view": columns} if base_columns else {}
        for media_type, text in (
            (XML, XMLRenderer().render(record)),
            (CSV, CSVRenderer().render(record, renderer_context=csv_context)),
        ):
            result.append(
                OpenApiExample(
                    f"A {singular}",
                    value=text,
                    media_type=media_type,
                    response_only=True,
                    status_codes=[200, 201],
                )
            )
    return result


def input_examples(singular: str, record_input: dict) -> list[OpenApiExample]:
    """Request examples in JSON, XML and, unless the record nests a list of objects (which a
    CSV row cannot carry), CSV."""
    forms = [(JSON, record_input), (XML, XMLRenderer().render(record_input))]
    nests_records = any(
        isinstance(value, list) and any(isinstance(item, dict) for item in value)
        for value in record_input.values()
    )
    if not nests_records:
        forms.append((CSV, CSVRenderer().render(record_input)))
    return [
        OpenApiExample(f"A {singular}", value=value, media_type=media_type, request_only=True)
        for media_type, value in forms
    ]


def batch_examples(records: list[dict]) -> list[OpenApiExample]:
    return [
        OpenApiExample(
            "A list of records",
            value=records,
            request_only=True,
        ),
        OpenApiExample(
            "Upsert, all or nothing",
            value={"records": records[:1], "mode": "upsert", "atomic": True},
            request_only=True,
        ),
        OpenApiExample(
            "Outcome", value=examples.BATCH_OUTCOME, response_only=True, status_codes=[200]
        ),
        OpenApiExample(
            "Atomic batch rolled back",
            value=examples.BATCH_ROLLED_BACK,
            response_only=True,
            status_codes=[400],
        ),
    ]
