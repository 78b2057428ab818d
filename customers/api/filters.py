"""The REST door's filter backends: thin adapters over ``customers.filters``.

The filtering itself is the selectors' (``selectors.contact_list(actor=…, filters=…)``), the
same for every door. These classes give DRF what it shows of it: the browsable API's filter
form and the OpenAPI parameters (from the same django-filter declarations), and the
``?search=`` parameter.
"""

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters as drf_filters

from customers import filters, selectors
from customers.models import Tag
from integrations.api_auth import request_actor

SEARCH_MAX_CHARS = filters.SEARCH_MAX_CHARS  # the same bound as every other door

# The REST names of the door-neutral filter sets (declared in customers.filters).
ContactFilter = filters.ContactFilterSet
CompanyFilter = filters.CompanyFilterSet
DealFilter = filters.DealFilterSet
ActivityFilter = filters.ActivityFilterSet


class SelectorFilterBackend(DjangoFilterBackend):
    """Every filter of the resource's entity (named ones, ``cf_<name>``, ``search``),
    applied by its list selector for the request's actor; a bad value is a 400 naming the
    parameter. Unfiltered reads go through the selector too: it picks the database (a read
    replica for a list, unless the actor has just written)."""

    def filter_queryset(self, request, queryset, view):
        entity = getattr(view, "filter_entity", None)
        if entity is None:
            return super().filter_queryset(request, queryset, view)
        select = selectors.LISTS[entity]
        return select(
            actor=request_actor(request), filters=request.query_params or None, queryset=queryset
        )


class BoundedSearchFilter(drf_filters.SearchFilter):
    """``?search=`` as DRF documents and shows it; the search itself is the selector's
    (``SelectorFilterBackend``), so this narrows nothing on its own."""

    def filter_queryset(self, request, queryset, view):
        return queryset


class TagFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Tag
        fields = []
