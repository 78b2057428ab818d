"""The OpenAPI decorators of the REST viewsets, built once per resource.

`ServiceViewSet` gives every resource the same endpoints, so `service_resource_schema` documents
them from the viewset's serializers and one example record; the few resource-specific actions
use `activities_of_schema` and `contact_export_schema`.
"""

from dataclasses import dataclass, field
from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)

from customers.api import schema_examples as examples
from customers.api.batch import MAX_BATCH_RECORDS
from customers.api.schema_components import (
    BATCH_ATOMIC,
    BATCH_MODE,
    BOM,
    COMMON_HEADERS,
    CSV,
    CSV_TEXT,
    CURSOR_PAGINATION,
    FORMAT,
    HEADER,
    IDEMPOTENCY_KEY,
    IF_MATCH,
    IF_NONE_MATCH,
    JSON,
    NO_CONTENT,
    NOT_MODIFIED,
    PAGE_LINKS,
    READ_ERRORS,
    WRITE_ERRORS,
    XML,
    BatchFailureSerializer,
    BatchOutcomeSerializer,
    batch_examples,
    batch_request,
    error_responses,
    etag_header,
    external_id_parameter,
    fields_parameter,
    input_examples,
    record_examples,
    record_responses,
    replayed_header,
)
from customers.api.serializers import (
    ActivityOutputSerializer,
    ContactOutputSerializer,
    CustomFieldDeletedSerializer,
)


@dataclass
class _Resource:
    """What every operation of one resource shares."""

    name: str  # "contacts": the URL segment and scope resource
    singular: str
    output: type
    input: type | None
    record_out: list[OpenApiExample] = field(default_factory=list)
    written: list[OpenApiExample] = field(default_factory=list)

    def note(self, action: str) -> str:
        return f"\n\n**Scope:** `{self.name}:{action}`."

    def meta(self, action: str) -> dict[str, Any]:
        """Tag and required scope; the scope also goes in the description via `note`."""
        return {
            "tags": [self.name.capitalize()],
            "extensions": {"x-required-scopes": [f"{self.name}:{action}"]},
        }

    @property
    def fields(self) -> OpenApiParameter:
        return fields_parameter(self.output)


def service_resource_schema(*, resource: str, singular: str, record: dict, record_input: dict):
    """Class decorator for a `ServiceViewSet`: the endpoints the base class provides (list,
    CRUD with ETags, upsert by external id, batch), from its serializers and one example."""

    def decorate(view: type) -> type:
        res = _Resource(
            resource, singular, view.output_serializer_class, view.input_serializer_class
        )
        res.record_out = record_examples(view, singular, record)
        res.written = input_examples(singular, record_input) + res.record_out
        list_example = record_examples(view, singular, record, formats=False)[:1]
        return extend_schema_view(
            list=_list(res, list_example),
            retrieve=_retrieve(res),
            create=_create(res),
            update=_update(res, "PUT"),
            partial_update=_update(res, "PATCH"),
            destroy=_destroy(res),
            by_external_id=[_get_by_external_id(res), _put_by_external_id(res)],
            batch=_batch(res, record_input),
        )(view)

    return decorate


def _list(res: _Resource, list_examples: list[OpenApiExample]) -> Any:
    return extend_schema(
        summary=f"List {res.name}",
        description=f"Pages of {res.name} (50 by default, `page_size` up to 1,000) behind a "
        "stable cursor: follow `next` until it is null. Filters combine with AND; `search` "
        "looks for words; `ordering` sorts. An invalid filter value (an unknown id, a malformed "
        "date) is a 400. In CSV the page's records are the rows; the `Link` header carries the "
        f"next and previous pages.{res.note('read')}",
        parameters=[res.fields, FORMAT, PAGE_LINKS, *COMMON_HEADERS],
        responses={200: res.output, **error_responses(400, *READ_ERRORS)},
        examples=list_examples,
        **res.meta("read"),
    )


def _retrieve(res: _Resource) -> Any:
    return extend_schema(
        summary=f"Get a {res.singular}",
        description=f"One {res.singular}, with its `ETag`. Send `If-None-Match` to revalidate a "
        f"cached copy cheaply (304).{res.note('read')}",
        parameters=[res.fields, FORMAT, IF_NONE_MATCH, etag_header(200, 304), *COMMON_HEADERS],
        responses={
            **record_responses(res.output, 200),
            **NOT_MODIFIED,
            **error_responses(*READ_ERRORS),
        },
        examples=res.record_out,
        **res.meta("read"),
    )


def _create(res: _Resource) -> Any:
    return extend_schema(
        summary=f"Create a {res.singular}",
        description=f"Creates one {res.singular} from JSON, XML, CSV (a header row and one data "
        'row) or a form. Related records are an id (`"company": 7`) or the object a GET '
        "returns. Send an `Idempotency-Key` to make retries safe."
        f"{res.note('write')}",
        request=res.input,
        parameters=[
            res.fields,
            FORMAT,
            IDEMPOTENCY_KEY,
            etag_header(201),
            replayed_header(201),
            *COMMON_HEADERS,
        ],
        responses={
            **record_responses(res.output, 201, description="Created."),
            **error_responses(*WRITE_ERRORS, 409, 422),
        },
        examples=res.written,
        **res.meta("write"),
    )


def _update(res: _Resource, method: str) -> Any:
    summary = f"Update a {res.singular}" if method == "PUT" else f"Update a {res.singular} (PATCH)"
    return extend_schema(
        summary=summary,
        description="Changes the fields sent; the others keep their values (PUT and PATCH are "
        "the same). Send `If-Match` with the `ETag` you read so that a concurrent change is not "
        "overwritten (412). Without `pii:read`, a masked value sent back unchanged leaves the "
        f"stored value alone.{res.note('write')}",
        request=res.input,
        parameters=[res.fields, FORMAT, IF_MATCH, etag_header(200), *COMMON_HEADERS],
        responses={
            **record_responses(res.output, 200),
            **error_responses(*WRITE_ERRORS, 412),
        },
        examples=res.written,
        **res.meta("write"),
    )


def _destroy(res: _Resource) -> Any:
    return extend_schema(
        summary=f"Delete a {res.singular}",
        description="`If-Match` guards against deleting a version you have not seen (412)."
        f"{res.note('write')}",
        parameters=[FORMAT, IF_MATCH, *COMMON_HEADERS],
        responses={**NO_CONTENT, **error_responses(*READ_ERRORS, 412)},
        **res.meta("write"),
    )


def _get_by_external_id(res: _Resource) -> Any:
    return extend_schema(
        methods=["GET"],
        summary=f"Get a {res.singular} by external id",
        description=f"The {res.singular} with this `external_id` (your system's id)."
        f"{res.note('read')}",
        parameters=[
            external_id_parameter(res.singular),
            res.fields,
            FORMAT,
            etag_header(200),
            *COMMON_HEADERS,
        ],
        responses={**record_responses(res.output, 200), **error_responses(*READ_ERRORS)},
        examples=res.record_out,
        **res.meta("read"),
    )


def _put_by_external_id(res: _Resource) -> Any:
    return extend_schema(
        methods=["PUT"],
        summary=f"Create or update a {res.singular} by external id",
        description=f"An upsert keyed by your system's id: creates the {res.singular} (201) when "
        "no record has this `external_id`, else changes the fields sent (200). Repeating it is "
        "safe, so it needs no `Idempotency-Key`. `If-Match` applies when the record exists."
        f"{res.note('write')}",
        request=res.input,
        parameters=[
            external_id_parameter(res.singular),
            res.fields,
            FORMAT,
            IF_MATCH,
            etag_header(200, 201),
            *COMMON_HEADERS,
        ],
        responses={
            **record_responses(res.output, 200, description="Updated."),
            **record_responses(res.output, 201, description="Created."),
            **error_responses(*WRITE_ERRORS, 412),
        },
        examples=res.written,
        **res.meta("write"),
    )


def _batch(res: _Resource, record_input: dict) -> Any:
    return extend_schema(
        summary=f"Create, update or upsert many {res.name}",
        description=f"Up to {MAX_BATCH_RECORDS:,} records in one request, each in its own "
        "savepoint and with its own outcome in `results`, in input order. `mode` is `create` "
        "(default), `update` (records found by `id` or `external_id`) or `upsert` (by "
        "`external_id`). By default good records commit and bad ones are reported (200). With "
        "`atomic=true` one bad record rolls the whole batch back: the answer is 400 with the "
        "outcome, `committed: false` and the good records `rolled_back`. The body is a list of "
        'records or `{"records": [...], "mode": …, "atomic": …}`; in CSV, one row per record. '
        f"Send an `Idempotency-Key` to make retries safe.{res.note('write')}",
        request=batch_request(res.input),
        parameters=[
            BATCH_MODE,
            BATCH_ATOMIC,
            FORMAT,
            IDEMPOTENCY_KEY,
            replayed_header(200, 400),
            *COMMON_HEADERS,
        ],
        responses={
            (200, JSON): OpenApiResponse(BatchOutcomeSerializer, description="Committed."),
            (200, XML): OpenApiResponse(BatchOutcomeSerializer, description="Committed."),
            (200, CSV): OpenApiResponse(CSV_TEXT, description="Committed."),
            (400, JSON): OpenApiResponse(
                BatchFailureSerializer,
                description="An atomic batch rolled back, or the request itself is invalid.",
            ),
            (400, XML): OpenApiResponse(BatchFailureSerializer, description="As JSON."),
            (400, CSV): OpenApiResponse(CSV_TEXT, description="The results, or the error."),
            **error_responses(*READ_ERRORS, 409, 413, 415, 422),
        },
        examples=batch_examples(examples.BATCH_RECORDS.get(res.name, [record_input])),
        **res.meta("write"),
    )


def activities_of_schema(*, resource: str, singular: str) -> Any:
    """For a record's activity timeline (a detail action of contacts and deals)."""
    res = _Resource(resource, singular, ActivityOutputSerializer, None)
    return extend_schema(
        operation_id=f"v1_{resource}_activities_list",
        summary=f"List a {singular}'s activities",
        description=f"The {singular}'s activities, newest first, paginated like every list."
        f"{res.note('read')}",
        filters=False,
        parameters=[*CURSOR_PAGINATION, res.fields, FORMAT, PAGE_LINKS, *COMMON_HEADERS],
        responses={200: ActivityOutputSerializer(many=True), **error_responses(*READ_ERRORS)},
        examples=[
            OpenApiExample(
                "An activity", value=examples.ACTIVITY, response_only=True, status_codes=[200]
            )
        ],
        **res.meta("read"),
    )


def contact_export_schema() -> Any:
    res = _Resource("contacts", "contact", ContactOutputSerializer, None)
    return extend_schema(
        summary="Export contacts",
        description="Every contact matching the list's filters and `search`, unpaginated and "
        "streamed in flat memory as a download "
        "(`Content-Disposition: attachment`). JSON is an array of contacts shaped as the list "
        "returns them; CSV has the list's columns; XML is a `<root>` with a `<list-item>` per "
        f"contact. Rows come in id order. PII is masked without `pii:read`.{res.note('read')}",
        filters=True,
        parameters=[
            OpenApiParameter("ordering", exclude=True),  # rows always come in id order
            FORMAT,
            BOM,
            OpenApiParameter(
                "Content-Disposition",
                str,
                HEADER,
                response=[200],
                required=True,
                description='`attachment; filename="contacts-<UTC timestamp>.<format>"`.',
            ),
            *COMMON_HEADERS,
        ],
        responses={
            (200, JSON): OpenApiResponse(
                ContactOutputSerializer(many=True), description="Streamed."
            ),
            (200, XML): OpenApiResponse(
                {"type": "string", "description": "A `<root>` with a `<list-item>` a contact."},
                description="Streamed.",
            ),
            (200, CSV): OpenApiResponse(
                {"type": "string", "description": "A header row, then a row a contact."},
                description="Streamed.",
            ),
            **error_responses(400, *READ_ERRORS),
        },
        examples=[
            OpenApiExample(
                "Contacts", value=[examples.CONTACT], response_only=True, status_codes=[200]
            )
        ],
        **res.meta("read"),
    )


def plain_resource_schema(
    *,
    resource: str,
    singular: str,
    record: dict,
    input_serializer: type | None = None,
    record_input: dict | None = None,
):
    """Class decorator for the simple viewsets (pipelines, tags, users): unpaginated lists, no
    ETags, no idempotency; create and destroy where the viewset has them."""

    def decorate(view: type) -> type:
        output = view.serializer_class
        res = _Resource(resource, singular, output, None)
        res.record_out = record_examples(view, singular, record)
        operations = {
            "list": extend_schema(
                summary=f"List {resource}",
                description=f"All {resource}, unpaginated.{res.note('read')}",
                parameters=[FORMAT, *COMMON_HEADERS],
                responses={200: output, **error_responses(*READ_ERRORS)},
                examples=res.record_out[:1],
                **res.meta("read"),
            ),
            "retrieve": extend_schema(
                summary=f"Get a {singular}",
                description=f"One {singular}.{res.note('read')}",
                parameters=[FORMAT, *COMMON_HEADERS],
                responses={**record_responses(output, 200), **error_responses(*READ_ERRORS)},
                examples=res.record_out,
                **res.meta("read"),
            ),
        }
        if hasattr(view, "create"):
            operations["create"] = extend_schema(
                summary=f"Create a {singular}",
                description=f"{(view.create.__doc__ or '').strip()}{res.note('write')}".strip(),
                request=input_serializer,
                parameters=[FORMAT, *COMMON_HEADERS],
                responses={
                    **record_responses(output, 201, description="Created."),
                    **error_responses(*WRITE_ERRORS),
                },
                examples=input_examples(singular, record_input or {}) + res.record_out,
                **res.meta("write"),
            )
        if hasattr(view, "destroy"):
            operations["destroy"] = extend_schema(
                summary=f"Delete a {singular}",
                description=f"Deletes the {singular}.{res.note('write')}",
                parameters=[FORMAT, *COMMON_HEADERS],
                responses={**NO_CONTENT, **error_responses(*READ_ERRORS)},
                **res.meta("write"),
            )
        return extend_schema_view(**operations)(view)

    return decorate


def custom_field_delete_schema() -> Any:
    """DELETE of a custom field answers 200 with how many stored values went with it."""
    return extend_schema(
        summary="Delete a custom field",
        description="Deletes the definition. A field that records still hold values for is "
        "refused (400, `values_exist`, naming how many) unless `?purge=true`, which deletes "
        "those values with it. The answer says how many were purged; to keep them, archive "
        "the field instead.",
        parameters=[
            FORMAT,
            OpenApiParameter(
                "purge",
                bool,
                description="Also delete the values records hold for this field.",
            ),
            *COMMON_HEADERS,
        ],
        responses={
            200: OpenApiResponse(CustomFieldDeletedSerializer, description="Deleted."),
            **error_responses(400, *READ_ERRORS),
        },
    )
