"""``?cf_<name>=`` filters over custom fields, as the REST door documents them (see
``customers.api.schema.CustomFieldFilters``). The filtering is ``customers.filters``', run
by the selectors through ``SelectorFilterBackend``; this backend narrows nothing itself."""

from rest_framework.filters import BaseFilterBackend

from customers.filters import CUSTOM_PREFIX as PREFIX

__all__ = ["PREFIX", "CustomFieldFilterBackend"]


class CustomFieldFilterBackend(BaseFilterBackend):
    def filter_queryset(self, request, queryset, view):
        return queryset
