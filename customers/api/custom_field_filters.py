"""``?cf_<name>=`` filters over custom fields, with ``__gte/__gt/__lte/__lt`` for numbers and
dates. PII custom fields filter by exact match through their blind index only, and only for
callers who may read personal data."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.filters import BaseFilterBackend

from customers.custom_fields.filtering import filter_by_custom_field
from customers.custom_fields.values import definitions_for, entity_of
from integrations.api_auth import request_can_view_pii

PREFIX = "cf_"


class CustomFieldFilterBackend(BaseFilterBackend):
    """`may_look_up_pii` defaults to the request's right to read personal data; a caller
    without a real request (an export job's filters) passes it."""

    def __init__(self, *, may_look_up_pii: bool | None = None) -> None:
        self.may_look_up_pii = may_look_up_pii

    def filter_queryset(self, request, queryset: QuerySet, view) -> QuerySet:
        params = [
            (key, value) for key, value in request.query_params.items() if key.startswith(PREFIX)
        ]
        if not params:
            return queryset
        definitions = {field.name: field for field in definitions_for(entity_of(queryset.model))}
        may_look_up_pii = self.may_look_up_pii
        if may_look_up_pii is None:
            may_look_up_pii = request_can_view_pii(request)
        for param, raw in params:
            name, _, lookup = param[len(PREFIX) :].partition("__")
            field = definitions.get(name)
            if field is None:
                raise serializers.ValidationError({param: ["Unknown custom field."]})
            try:
                queryset = filter_by_custom_field(
                    queryset,
                    field,
                    lookup or "exact",
                    raw,
                    param=param,
                    may_look_up_pii=may_look_up_pii,
                )
            except DjangoValidationError as error:
                raise serializers.ValidationError(error.message_dict) from None
        return queryset
