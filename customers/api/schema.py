"""OpenAPI descriptions for the API's own authentication and fields (drf-spectacular).

Imported from ``CustomersConfig.ready`` so the extensions are registered before any schema is
generated.
"""

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerFieldExtension,
)
from drf_spectacular.plumbing import build_basic_type, build_bearer_security_scheme_object
from drf_spectacular.types import OpenApiTypes


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "integrations.api_auth.ApiKeyAuthentication"
    name = "apiKey"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix="Bearer"
        )
        scheme["description"] = (
            "A partner API key: `Authorization: Bearer crm_…`. Create one with "
            "`manage.py create_api_token USER --scopes contacts:read,…`. Scopes are "
            "`<resource>:read|write` and `pii:read`."
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
            "description": f'An id, or an object with an "id" (a "{label}" is ignored).',
        }
