"""Query filters for the REST lists and exports (django-filter).

Encrypted email and phone are filtered by exact match through their blind indexes.
"""

from datetime import UTC

import django_filters as filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import filters as drf_filters
from rest_framework import serializers

from customers import crypto, pii, selectors
from customers.models import Activity, Company, Contact, Deal, Pipeline, Stage, Tag
from integrations.api_auth import request_can_view_pii

User = get_user_model()


class QueryFilterBackend(DjangoFilterBackend):
    """django-filter, skipped when no query parameter names one of the filterset's filters.

    Without any, the filterset changes nothing, but building its form (a new form class per
    request) cost a sixth of a plain list page. A parameter that merely starts like a filter's
    name (a widget's ``_min``/``_after`` suffix) still goes through the filterset.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None:
            return queryset
        names = tuple(filterset_class.base_filters)
        if not any(key.startswith(names) for key in request.query_params):
            return queryset
        return super().filter_queryset(request, queryset, view)


SEARCH_MAX_CHARS = selectors.SEARCH_MAX_CHARS  # the same bound as every other door


class BoundedSearchFilter(drf_filters.SearchFilter):
    """DRF's ``?search=``, refusing a term over `SEARCH_MAX_CHARS` with a 400 naming it."""

    def get_search_terms(self, request):
        text = request.query_params.get(self.search_param, "")
        if len(text) > SEARCH_MAX_CHARS:
            message = _("At most %(limit)d characters (got %(length)d).") % {
                "limit": SEARCH_MAX_CHARS,
                "length": len(text),
            }
            raise serializers.ValidationError({self.search_param: [message]})
        return super().get_search_terms(request)


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time converted to UTC while the form cleans it, so a time with no UTC
    equivalent (``0001-01-01T00:00:00+05:00``, ``9999-12-31T23:59:59-05:00``) is an error
    named by the query parameter, like any other bad value, not an overflow further on."""

    def to_python(self, value):
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError:
            raise ValidationError(_("The time is out of range."), code="out_of_range") from None


class UtcDateTimeFilter(filters.IsoDateTimeFilter):
    """An ISO 8601 time compared in UTC. Any offset Python accepts (up to ±23:59) is valid
    input, but PostgreSQL refuses offsets beyond ±15:59, so the value is converted first."""

    field_class = UtcIsoDateTimeField


class TimestampFilterSet(filters.FilterSet):
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    updated_after = UtcDateTimeFilter(field_name="updated_at", lookup_expr="gte")
    updated_before = UtcDateTimeFilter(field_name="updated_at", lookup_expr="lt")
    updated_since = UtcDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Incremental sync: records changed at or after this ISO 8601 time.",
    )
    external_id = filters.CharFilter()


class TaggedFilterSet(TimestampFilterSet):
    tag = filters.CharFilter(
        field_name="tags__name", lookup_expr="iexact", distinct=True, help_text="Tag name."
    )
    owner = filters.ModelChoiceFilter(queryset=User.objects.all())


class PiiLookupFilterSet(TaggedFilterSet):
    """Filters whose exact lookups by personal data (``?email=``, ``?phone=``) answer only
    callers who may read personal data (``pii:read`` and ``view_pii``); anyone else gets a
    400 naming the parameter, whether or not the value exists (``pii.check_pii_lookup``).
    `may_look_up_pii` defaults to the request's right; a caller without a request (an export
    job) passes it, so every exportable resource's filters take it."""

    def __init__(self, *args, may_look_up_pii: bool | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if may_look_up_pii is None:
            may_look_up_pii = self.request is not None and request_can_view_pii(self.request)
        self.may_look_up_pii = may_look_up_pii

    def look_up(self, name: str) -> None:
        pii.check_pii_lookup([name], allowed=self.may_look_up_pii)


class ContactFilter(PiiLookupFilterSet):
    email = filters.CharFilter(
        method="filter_email", help_text="Exact email, any letter case. Needs PII rights."
    )
    phone = filters.CharFilter(
        method="filter_phone", help_text="Exact phone, any formatting. Needs PII rights."
    )
    company = filters.ModelChoiceFilter(queryset=Company.objects.all())
    lifecycle_stage = filters.MultipleChoiceFilter(choices=Contact.Lifecycle.choices)

    class Meta:
        model = Contact
        fields = ["source", "consent_email", "consent_phone"]

    def filter_email(self, queryset, name, value):
        self.look_up(name)
        return queryset.filter(email_index=crypto.email_index(value))

    def filter_phone(self, queryset, name, value):
        self.look_up(name)
        return queryset.filter(phone_index=crypto.phone_index(value))


class CompanyFilter(PiiLookupFilterSet):
    phone = filters.CharFilter(
        method="filter_phone", help_text="Exact phone, any formatting. Needs PII rights."
    )

    class Meta:
        model = Company
        fields = ["country", "industry", "size_band", "domain"]

    def filter_phone(self, queryset, name, value):
        self.look_up(name)
        return queryset.filter(phone_index=crypto.phone_index(value))


class DealFilter(PiiLookupFilterSet):
    stage = filters.ModelChoiceFilter(queryset=Stage.objects.all())
    pipeline = filters.ModelChoiceFilter(
        field_name="stage__pipeline", queryset=Pipeline.objects.all()
    )
    company = filters.ModelChoiceFilter(queryset=Company.objects.all())
    primary_contact = filters.ModelChoiceFilter(queryset=Contact.objects.all())
    status = filters.MultipleChoiceFilter(choices=Deal.Status.choices)
    amount_min = filters.NumberFilter(field_name="amount", lookup_expr="gte")
    amount_max = filters.NumberFilter(field_name="amount", lookup_expr="lte")
    close_after = filters.DateFilter(field_name="expected_close_date", lookup_expr="gte")
    close_before = filters.DateFilter(field_name="expected_close_date", lookup_expr="lte")

    class Meta:
        model = Deal
        fields = ["currency"]


class ActivityFilter(TimestampFilterSet):
    kind = filters.MultipleChoiceFilter(choices=Activity.Kind.choices)
    contact = filters.ModelChoiceFilter(queryset=Contact.objects.all())
    company = filters.ModelChoiceFilter(queryset=Company.objects.all())
    deal = filters.ModelChoiceFilter(queryset=Deal.objects.all())
    author = filters.ModelChoiceFilter(queryset=User.objects.all())
    due_after = UtcDateTimeFilter(field_name="due_at", lookup_expr="gte")
    due_before = UtcDateTimeFilter(field_name="due_at", lookup_expr="lt")
    done = filters.BooleanFilter(field_name="done_at", lookup_expr="isnull", exclude=True)

    class Meta:
        model = Activity
        fields = []


class TagFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Tag
        fields = []
