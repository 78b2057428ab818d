"""``?cf_<name>=`` filters over custom fields, with ``__gte/__gt/__lte/__lt`` for numbers and
dates. PII custom fields filter by exact match through their blind index only."""

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import DecimalField, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from customers.custom_fields import types
from customers.custom_fields.values import definitions_for, entity_of, index_value
from customers.models import CustomField

PREFIX = "cf_"
RANGE_LOOKUPS = ("gte", "gt", "lte", "lt")
Type = CustomField.Type


class CustomFieldFilterBackend(BaseFilterBackend):
    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        params = [
            (key, value) for key, value in request.query_params.items() if key.startswith(PREFIX)
        ]
        if not params:
            return queryset
        definitions = {field.name: field for field in definitions_for(entity_of(queryset.model))}
        for param, raw in params:
            name, _, lookup = param[len(PREFIX) :].partition("__")
            field = definitions.get(name)
            if field is None:
                raise serializers.ValidationError({param: ["Unknown custom field."]})
            queryset = _filter(queryset, field, lookup or "exact", raw, param)
        return queryset


def _filter(queryset: QuerySet, field: CustomField, lookup: str, raw: str, param: str) -> QuerySet:
    if lookup not in ("exact", *RANGE_LOOKUPS):
        raise serializers.ValidationError({param: [f"Unknown lookup {lookup!r}."]})
    if lookup != "exact" and (field.pii or field.type not in types.RANGE_TYPES):
        raise serializers.ValidationError(
            {param: ["Ranges work on integer, decimal, date and datetime fields that are not PII."]}
        )
    try:
        value = types.coerce(field, raw)
    except DjangoValidationError as error:
        raise serializers.ValidationError({param: error.messages}) from None
    if value is None:
        return queryset.exclude(custom_fields__has_key=field.name)
    if field.pii:
        return queryset.filter(**{f"custom_index__{field.name}": index_value(field, str(value))})
    if field.type == Type.DECIMAL:
        annotation = f"_cf_{field.name}"
        number = Cast(
            KeyTextTransform(field.name, "custom_fields"),
            DecimalField(max_digits=40, decimal_places=10),
        )
        return queryset.alias(**{annotation: number}).filter(
            **{f"{annotation}__{lookup}": Decimal(value)}
        )
    if field.type == Type.MULTI_CHOICE:
        for choice in value:
            queryset = queryset.filter(**{f"custom_fields__{field.name}__icontains": f'"{choice}"'})
        return queryset
    if field.type in (
        Type.DATE,
        Type.DATETIME,
        Type.TEXT,
        Type.LONG_TEXT,
        Type.EMAIL,
        Type.PHONE,
        Type.URL,
        Type.CHOICE,
    ):
        text = Cast(KeyTextTransform(field.name, "custom_fields"), TextField())
        annotation = f"_cf_{field.name}"
        return queryset.alias(**{annotation: text}).filter(**{f"{annotation}__{lookup}": value})
    return queryset.filter(**{f"custom_fields__{field.name}__{lookup}": value})
