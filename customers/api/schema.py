"""OpenAPI description of the REST API (drf-spectacular): the extensions that describe our own
authentication, fields and filters, and the hook that adds the guide and the resource tags.

Imported from ``CustomersConfig.ready`` so the extensions are registered before any schema is
generated. The shared components are in `schema_components`, the viewsets' decorators in
`schema_views`. Everything here describes behaviour; nothing changes it.
"""

from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import RegexValidator
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiFilterExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import (
    build_array_type,
    build_basic_type,
    build_bearer_security_scheme_object,
    build_parameter_type,
)
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from customers.api.batch import MAX_BATCH_RECORDS, MODES
from customers.api.schema_components import (
    READ_ERRORS,
    WRITE_ERRORS,
    XML_LIST,
    XML_LIST_ITEM,
    raw_error_response,
)
from customers.api.schema_guide import API_GUIDE, TAGS


def describe_api(result: dict, generator: Any, **kwargs: Any) -> dict:
    """Postprocessing hook: the guide to formats, errors and headers, the resource tags, and
    the uniform error responses on any API operation whose decorators left some out."""
    info = result.setdefault("info", {})
    info["description"] = f"{info.get('description', '')}\n\n{API_GUIDE}".strip()
    result["tags"] = [{"name": name, "description": text} for name, text in TAGS]
    if "Error" in result.get("components", {}).get("schemas", {}):
        for path, operations in result.get("paths", {}).items():
            if path.startswith("/api/v1/"):
                for method, operation in operations.items():
                    _add_uniform_errors(method, operation)
    return result


def _add_uniform_errors(method: str, operation: dict) -> None:
    """Every request can fail authentication, permission, negotiation or the rate limit, and
    every write can also fail validation, the size limit or the media type."""
    responses = operation.setdefault("responses", {})
    codes = [*READ_ERRORS, *(WRITE_ERRORS if method in ("post", "put", "patch") else ())]
    for status_code in codes:
        responses.setdefault(str(status_code), raw_error_response(status_code))


# Extensions.


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.api_auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer"
        )
        scheme["description"] = (
            "A partner API key: `Authorization: Bearer crm_…`. Create one with "
            "`manage.py create_api_token USER --scopes contacts:read,…`.\n\n"
            "Scopes are `<resource>:read` (GET) and `<resource>:write` (POST, PUT, PATCH, "
            "DELETE) for `contacts`, `companies`, `deals`, `activities`, `pipelines`, `tags`, "
            "`users`, `imports` and `exports`, plus `pii:read` to see email, phone and "
            "address unmasked. A write scope does not imply read. The key also needs its "
            "user's model permission: a key narrows what its user may do, never widens it. "
            "Each operation names the scope it needs (and lists it under `x-required-scopes`)."
        )
        return scheme


class RelatedRefFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "customers.api.fields.RelatedRefField"

    def map_serializer_field(self, auto_schema, direction):
        label = self.target.label_attr
        reference = {
            "type": "object",
            "properties": {
                "id": build_basic_type(OpenApiTypes.INT),
                label: build_basic_type(OpenApiTypes.STR),
            },
            "required": ["id"],
        }
        if direction == "response":
            reference["required"] = ["id", label]
            return {**reference, "nullable": True}
        return {
            "oneOf": [build_basic_type(OpenApiTypes.INT), reference],
            "nullable": True,
            "description": (
                f'An id, or an object with an "id" (a "{label}" beside it is ignored; '
                f'one without an "id" is refused).'
            ),
        }


class TagNamesFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "customers.api.fields.TagNamesField"

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        schema["items"] = {**schema["items"], "xml": XML_LIST_ITEM}
        schema["xml"] = XML_LIST
        schema["description"] = (
            "Tag names. CSV: one cell, names joined with `|`. XML: `<list-item>` children."
        )
        return schema


class SparseOutputSchema(OpenApiSerializerExtension):
    """Records that honour ``?fields=``: a client may ask for any subset of the properties, so
    none is required (without ``fields`` all are present)."""

    target_class = "customers.api.serializers.SparseFieldsMixin"
    match_subclasses = True
    sparse = {
        "ContactOutputSerializer",
        "CompanyOutputSerializer",
        "DealOutputSerializer",
        "ActivityOutputSerializer",
    }

    @classmethod
    def _matches(cls, target: Any) -> bool:
        target_class = target if isinstance(target, type) else type(target)
        return super()._matches(target) and target_class.__name__ in cls.sparse

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        schema.pop("required", None)
        schema["description"] = (
            "Every property is present unless `?fields=` asks for fewer. Related records are "
            '`{"id": …, <label>: …}` or null. Email, phone and address are masked '
            "(`l***@example.com`) unless the key has `pii:read`."
        )
        _allow_blank_choices(schema, self.target.Meta.model)
        if "pipeline" in schema.get("properties", {}):
            schema["properties"]["pipeline"] = {
                "type": "object",
                "readOnly": True,
                "properties": {
                    "id": build_basic_type(OpenApiTypes.INT),
                    "name": build_basic_type(OpenApiTypes.STR),
                },
                "required": ["id", "name"],
                "description": "The pipeline of the deal's stage.",
            }
        return schema


class RecordInputSchema(OpenApiSerializerExtension):
    """The input serializers only type-check (the services hold the rules), so their schema
    would say "any string" where the service accepts a choice or a code: the model's choices,
    code patterns and email format are documented from the model."""

    target_class = "rest_framework.serializers.Serializer"
    match_subclasses = True
    models = {
        "ContactInputSerializer": "customers.Contact",
        "CompanyInputSerializer": "customers.Company",
        "DealInputSerializer": "customers.Deal",
        "ActivityInputSerializer": "customers.Activity",
    }

    @classmethod
    def _matches(cls, target: Any) -> bool:
        target_class = target if isinstance(target, type) else type(target)
        return super()._matches(target) and target_class.__name__ in cls.models

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        target_class = self.target if isinstance(self.target, type) else type(self.target)
        model = apps.get_model(self.models[target_class.__name__])
        for name, prop in schema.get("properties", {}).items():
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if model_field.choices:
                choice = serializers.ChoiceField(
                    choices=model_field.choices,
                    allow_blank=model_field.blank,
                    allow_null=prop.get("nullable", False),
                )
                mapped = auto_schema._map_serializer_field(choice, direction)
                prop.update({key: mapped[key] for key in ("enum", "x-spec-enum-id")})
                prop.pop("maxLength", None)
            for validator in model_field.validators:
                if isinstance(validator, RegexValidator) and not validator.inverse_match:
                    pattern = validator.regex.pattern
                    if model_field.blank:  # blank skips validators
                        pattern = f"^(?:{pattern.removeprefix('^').removesuffix('$')})?$"
                    prop["pattern"] = pattern
            if name == "email":
                prop["format"] = "email"
        return schema


def _allow_blank_choices(schema: dict, model: type) -> None:
    """Read-only fields lose `allow_blank`, so a blank choice (`size_band` unset) must be
    added back to the enum."""
    for name, prop in schema.get("properties", {}).items():
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        if "enum" in prop and model_field.choices and model_field.blank and "" not in prop["enum"]:
            prop["enum"] = [*prop["enum"], ""]


class BatchRequestSchema(OpenApiSerializerExtension):
    """A batch body: a list of records, or ``{"records": [...], "mode": …, "atomic": …}``."""

    target_class = "customers.api.schema_components.BatchRequest"
    match_subclasses = True

    def get_name(self, auto_schema, direction):
        return self.target.component_name

    def map_serializer(self, auto_schema, direction):
        record_ref = auto_schema.resolve_serializer(self.target.record_serializer, direction).ref
        record_id = {
            "type": "integer",
            "description": "Modes `update` and `upsert`: the record to change (else its "
            "`external_id` finds it).",
        }
        records = {
            "type": "array",
            "maxItems": MAX_BATCH_RECORDS,
            "items": {
                "allOf": [record_ref, {"type": "object", "properties": {"id": record_id}}],
                "xml": XML_LIST_ITEM,
            },
            "xml": XML_LIST,
        }
        envelope = {
            "type": "object",
            "properties": {
                "records": records,
                "mode": {
                    "type": "string",
                    "enum": list(MODES),
                    "default": "create",
                    "description": "`create` every record, `update` existing ones (by `id` or "
                    "`external_id`) or `upsert` (by `external_id`). The query parameter wins.",
                },
                "atomic": {
                    "type": "boolean",
                    "default": False,
                    "description": "All or nothing. The query parameter wins.",
                },
            },
            "required": ["records"],
        }
        return {
            "oneOf": [records, envelope],
            "description": f"Up to {MAX_BATCH_RECORDS:,} records: a list, or an envelope with "
            "options. CSV: a header row and one row per record.",
        }


class BatchFailureSchema(OpenApiSerializerExtension):
    """A failed batch: the uniform error, which for a rolled-back atomic batch also carries the
    outcome (an `Error` and a `BatchOutcome` at once)."""

    target_class = "customers.api.schema_components.BatchFailureSerializer"

    def map_serializer(self, auto_schema, direction):
        from customers.api.schema_components import BatchOutcomeSerializer, ErrorSerializer

        error = auto_schema.resolve_serializer(ErrorSerializer, direction).ref
        outcome = auto_schema.resolve_serializer(BatchOutcomeSerializer, direction).ref
        rolled_back = {
            "allOf": [error, outcome],
            "description": "An atomic batch rolled back (`code` `batch_rolled_back`, "
            "`committed` false): the error shape with `errors` keyed "
            "`records.<index>.<field>`, plus the outcome of every record.",
        }
        return {
            "anyOf": [rolled_back, error],
            "description": "An atomic batch that rolled back, or an invalid request (a body "
            "that is not a list of records, an unknown `mode`, more than 1,000 records).",
        }


class DescribedDjangoFilters(DjangoFilterExtension):
    """django-filter's parameters, with a sentence for the filters that carry no help text."""

    priority = 1
    descriptions = {
        "created_after": "Created at or after this ISO 8601 time.",
        "created_before": "Created before this ISO 8601 time.",
        "updated_after": "Changed at or after this ISO 8601 time.",
        "updated_before": "Changed before this ISO 8601 time.",
        "external_id": "Exactly this external id (your system's id).",
        "tag": "Tagged with this name (any letter case).",
        "owner": "Owned by this user id.",
        "company": "Of this company id.",
        "source": "Exactly this source.",
        "consent_email": "Consents to marketing email (true) or not (false).",
        "consent_phone": "Consents to calls and SMS (true) or not (false).",
        "country": "Exactly this two-letter ISO 3166 country code.",
        "industry": "Exactly this industry.",
        "size_band": "In this size band.",
        "domain": "Exactly this domain.",
        "stage": "In this stage id.",
        "pipeline": "In this pipeline id.",
        "primary_contact": "With this primary contact id.",
        "amount_min": "Amount at least this.",
        "amount_max": "Amount at most this.",
        "close_after": "Expected to close on or after this date.",
        "close_before": "Expected to close on or before this date.",
        "currency": "Exactly this three-letter ISO 4217 currency code.",
        "contact": "About this contact id.",
        "deal": "About this deal id.",
        "author": "Written by this user id.",
        "due_after": "Due at or after this ISO 8601 time.",
        "due_before": "Due before this ISO 8601 time.",
        "done": "Done (true) or still open (false).",
        "lifecycle_stage": "In any of these stages (repeat the parameter).",
        "status": "With any of these statuses (repeat the parameter).",
        "kind": "Of any of these kinds (repeat the parameter).",
    }
    id_filters = {"owner", "company", "stage", "pipeline", "primary_contact", "contact", "deal"}

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        parameters = super().get_schema_operation_parameters(auto_schema, *args, **kwargs)
        for parameter in parameters:
            name = parameter["name"]
            text = self.descriptions.get(name)
            if name in self.id_filters | {"author"}:
                text = f"{text} An unknown id is a 400."
            if text and not parameter.get("description", "").startswith(text.split(" (")[0]):
                existing = parameter.get("description", "")
                keep = existing if existing.startswith("* `") else ""
                parameter["description"] = f"{text}\n\n{keep}".strip()
        return parameters


class CustomFieldFilters(OpenApiFilterExtension):
    """``?cf_<name>=`` filters: their names depend on the custom fields defined, so they are
    documented as one free-form (exploded) object parameter."""

    target_class = "customers.api.custom_field_filters.CustomFieldFilterBackend"
    optional = True

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        return [
            build_parameter_type(
                name="custom_field_filters",
                schema={"type": "object", "additionalProperties": {"type": "string"}},
                location=OpenApiParameter.QUERY,
                style="form",
                explode=True,
                description="Filters on custom fields, one query parameter each: "
                "`cf_<name>=<value>` for an exact match (an empty value: records without "
                "one), and `cf_<name>__gte`, `__gt`, `__lte`, `__lt` for ranges on integer, "
                "decimal, date and datetime fields. Multiple-choice fields match records "
                "holding every choice given (separated by `|`); PII fields match exactly only. "
                "An unknown field or lookup is a 400.",
            )
        ]


class DescribedSearchFilter(OpenApiFilterExtension):
    target_class = "rest_framework.filters.SearchFilter"
    match_subclasses = True  # the resources use customers.api.filters.BoundedSearchFilter

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        fields = ", ".join(f"`{name}`" for name in getattr(auto_schema.view, "search_fields", []))
        return [
            build_parameter_type(
                name="search",
                schema=build_basic_type(OpenApiTypes.STR),
                location=OpenApiParameter.QUERY,
                description=f"Words to look for (substring, any letter case) in {fields}; "
                "at most 200 characters.",
            )
        ]


class DescribedOrderingFilter(OpenApiFilterExtension):
    target_class = "rest_framework.filters.OrderingFilter"

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs):
        names = getattr(auto_schema.view, "ordering_fields", None) or []
        choices = [term for name in names for term in (name, f"-{name}")]
        return [
            build_parameter_type(
                name="ordering",
                schema=build_array_type({"type": "string", "enum": choices}),
                location=OpenApiParameter.QUERY,
                style="form",
                explode=False,
                description="Sort order: comma-separated fields, `-` for descending, e.g. "
                "`-updated_at,id`. Unknown fields are ignored. Default: `id`.",
            )
        ]
