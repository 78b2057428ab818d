"""OpenAPI for ``custom_fields``: the schema lists the custom fields defined right now, typed.

The schema is generated per request, so a field defined a minute ago is documented at once.
"""

from django.db import DatabaseError
from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from customers.custom_fields.values import definitions_for
from customers.models import CustomField

Type = CustomField.Type

_TYPE_SCHEMAS = {
    Type.TEXT: {"type": "string", "maxLength": 255},
    Type.LONG_TEXT: {"type": "string"},
    Type.INTEGER: {"type": "integer"},
    Type.DECIMAL: {"type": "string", "format": "decimal", "pattern": r"^-?\d+(\.\d+)?$"},
    Type.DATE: {"type": "string", "format": "date"},
    Type.DATETIME: {"type": "string", "format": "date-time"},
    Type.BOOLEAN: {"type": "boolean"},
    Type.EMAIL: {"type": "string", "format": "email"},
    Type.PHONE: {"type": "string"},
    Type.URL: {"type": "string", "format": "uri"},
}

_SERIALIZER_ENTITIES = {"Contact": "contact", "Company": "company", "Deal": "deal"}


def field_schema(field: CustomField) -> dict:
    if field.type == Type.CHOICE:
        schema = {"type": "string", "enum": [*field.choices, None]}
    elif field.type == Type.MULTI_CHOICE:
        schema = {"type": "array", "items": {"type": "string", "enum": list(field.choices)}}
    else:
        schema = dict(_TYPE_SCHEMAS[field.type])
    description = field.help_text or field.label
    if field.pii:
        description += " (personal data: masked without pii:read)"
    return {**schema, "nullable": True, "title": field.label, "description": description}


class CustomFieldsFieldSchema(OpenApiSerializerFieldExtension):
    target_class = "customers.api.fields.CustomFieldsField"

    def map_serializer_field(self, auto_schema, direction):
        entity = next(
            (
                entity
                for prefix, entity in _SERIALIZER_ENTITIES.items()
                if type(self.target.parent).__name__.startswith(prefix)
            ),
            None,
        )
        try:
            definitions = definitions_for(entity) if entity else []
        except DatabaseError:  # generating the schema without a database (e.g. at build time)
            definitions = []
        return {
            "type": "object",
            "description": "Custom fields by name. Unknown names are refused; null clears one.",
            "properties": {field.name: field_schema(field) for field in definitions},
            "additionalProperties": False,
        }
