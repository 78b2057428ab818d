"""``?cf_<name>=`` filters over custom fields, with ``__gte/__gt/__lte/__lt`` for numbers and
dates. PII custom fields filter by exact match through their blind index only."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from customers.custom_fields.filtering import filter_by_custom_field
from customers.custom_fields.values import definitions_for, entity_of

PREFIX = "cf_"


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
            try:
                queryset = filter_by_custom_field(
                    queryset, field, lookup or "exact", raw, param=param
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        return queryset
