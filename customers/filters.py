"""The filters of each entity's list, for every door: a plain mapping of query parameters
(REST's ``?owner=3&updated_since=…``, an export job's stored filters, a SOAP search's
criteria, a web list's form) parsed into validated values, then applied to a queryset.

``parse`` collects every problem before raising one ``ValidationError`` keyed by the
parameter's name, with translated messages; each door shows it in its own shape. The lookup
of records by personal data (``email``, ``phone``, a PII ``cf_<name>``) is refused here, once,
to an actor who may not read it (``pii.check_pii_lookup``).

The named filters are django-filter ``FilterSet`` declarations (no DRF in them), so the REST
door's browsable form and OpenAPI parameters come from the same declarations it filters by.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import django_filters as filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django_filters.fields import IsoDateTimeField

from customers import crypto, pii
from customers.actors import Actor
from customers.custom_fields.filtering import filter_by_custom_field
from customers.custom_fields.values import definitions_for
from customers.models import Activity, Company, Contact, CustomField, Deal, Pipeline, Stage, Tag

User = get_user_model()

SEARCH = "search"
CUSTOM_PREFIX = "cf_"
# The longest search text any door takes (the web search box, REST ?search=, SOAP Search*
# criteria). Each word becomes a condition over several columns: ~1,500 words passed the
# database's expression depth and answered 500.
SEARCH_MAX_CHARS = 200


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
    tag = filters.CharFilter(method="filter_tag", help_text="Tag name, any letter case.")
    owner = filters.ModelChoiceFilter(queryset=User.objects.all())

    def filter_tag(self, queryset, name, value):
        # the tag's case-folded key: one indexed equality, one tag per record, no DISTINCT
        return queryset.filter(tags__name_key=Tag.key_for(value))


class ContactFilterSet(TaggedFilterSet):
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
        return queryset.filter(email_index=crypto.email_index(value))

    def filter_phone(self, queryset, name, value):
        return queryset.filter(phone_index=crypto.phone_index(value))


class CompanyFilterSet(TaggedFilterSet):
    phone = filters.CharFilter(
        method="filter_phone", help_text="Exact phone, any formatting. Needs PII rights."
    )

    class Meta:
        model = Company
        fields = ["country", "industry", "size_band", "domain"]

    def filter_phone(self, queryset, name, value):
        return queryset.filter(phone_index=crypto.phone_index(value))


class DealFilterSet(TaggedFilterSet):
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


class ActivityFilterSet(TimestampFilterSet):
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


def contact_text_search(queryset: QuerySet, words: list[str]) -> QuerySet:
    """Every word in a name, the title, the company name or the external id. A name matches
    written either way: family name first without a space (Chinese, "张伟") or given name
    first with one."""
    queryset = queryset.alias(
        _name_east=Concat("last_name", "first_name"),
        _name_west=Concat("first_name", Value(" "), "last_name"),
    )
    return _every_word(
        queryset,
        words,
        ("_name_east", "_name_west", "title", "company__name", "external_id"),
    )


def _words_in(*columns: str) -> Callable[[QuerySet, list[str]], QuerySet]:
    return lambda queryset, words: _every_word(queryset, words, columns)


def _every_word(queryset: QuerySet, words: list[str], columns: tuple[str, ...]) -> QuerySet:
    condition = Q()
    for word in words:
        any_column = Q()
        for column in columns:
            any_column |= Q(**{f"{column}__icontains": word})
        condition &= any_column
    return queryset.filter(condition)


@dataclass(frozen=True)
class EntityFilters:
    """What one entity can be filtered by. `pii_parameters`: the named filters that look a
    record up by personal data."""

    entity: str
    filterset_class: type[filters.FilterSet]
    search: Callable[[QuerySet, list[str]], QuerySet]
    pii_parameters: tuple[str, ...] = ()
    custom_fields: bool = True
    names: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "names", tuple(self.filterset_class.base_filters))

    @property
    def model(self) -> type:
        return self.filterset_class._meta.model

    def knows(self, name: str) -> bool:
        return (
            name in self.filterset_class.base_filters
            or name == SEARCH
            or (self.custom_fields and name.startswith(CUSTOM_PREFIX))
        )


ENTITIES: dict[str, EntityFilters] = {
    "contact": EntityFilters(
        "contact",
        ContactFilterSet,
        contact_text_search,
        pii_parameters=("email", "phone"),
    ),
    "company": EntityFilters(
        "company",
        CompanyFilterSet,
        _words_in("name", "domain", "industry", "external_id"),
        pii_parameters=("phone",),
    ),
    "deal": EntityFilters(
        "deal",
        DealFilterSet,
        _words_in("name", "company__name", "external_id"),
    ),
    "activity": EntityFilters(
        "activity",
        ActivityFilterSet,
        _words_in("subject", "body", "external_id"),
        custom_fields=False,
    ),
}


@dataclass(frozen=True)
class CustomFilter:
    param: str
    definition: CustomField
    lookup: str
    raw: Any


@dataclass(frozen=True)
class Filters:
    """Validated filters of one entity, ready to narrow any queryset of its records (model
    instances or the plain rows of a list's fast path): every condition is one WHERE clause,
    so applying them adds no query and no work per row."""

    entity: str
    filterset: filters.FilterSet | None = None
    search_words: tuple[str, ...] = ()
    custom: tuple[CustomFilter, ...] = ()

    def apply(self, queryset: QuerySet) -> QuerySet:
        if self.filterset is not None:
            queryset = self.filterset.filter_queryset(queryset)
        for custom in self.custom:
            queryset = filter_by_custom_field(
                queryset,
                custom.definition,
                custom.lookup,
                custom.raw,
                param=custom.param,
                may_look_up_pii=True,  # refused in `parse` to an actor who may not
            )
        if self.search_words:
            queryset = ENTITIES[self.entity].search(queryset, list(self.search_words))
        return queryset

    def __bool__(self) -> bool:
        return self.filterset is not None or bool(self.search_words or self.custom)


def parse(
    entity: str, params: Mapping[str, Any] | None, *, actor: Actor, strict: bool = False
) -> Filters:
    """`params`: name → value (text, or a list for a repeated parameter such as
    ``lifecycle_stage``; a typed value such as a datetime or an id is taken as it is). Empty
    values (None, "") are left out. Unknown names are ignored, as a URL's other parameters
    (``cursor``, ``format``) must be, unless `strict` (an export job: a typo must not export
    everything). Raises ``ValidationError`` keyed by parameter name."""
    spec = ENTITIES[entity]
    data = _as_multi_value_dict(params)
    errors: dict[str, list[str]] = {}
    if strict:
        for name in sorted(name for name in data if not spec.knows(name)):
            errors[name] = [_("Unknown filter.")]

    filterset = None
    # Building a FilterSet's form costs a sixth of a plain list page: only when a parameter
    # names one of its filters (or starts like one, a widget's `_min`/`_after` suffix).
    if any(name.startswith(spec.names) for name in data):
        filterset = spec.filterset_class(data=data, queryset=spec.model.objects.none())
        if not filterset.is_valid():
            for name, messages in filterset.errors.items():
                errors.setdefault(name, []).extend(str(message) for message in messages)

    search_words = _search_words(data.get(SEARCH), errors)
    custom = _custom_filters(spec, data, errors) if spec.custom_fields else ()

    looked_up_by_pii = [name for name in spec.pii_parameters if data.get(name)]
    looked_up_by_pii += [c.param for c in custom if c.definition.pii]
    try:
        pii.check_pii_lookup(looked_up_by_pii, allowed=actor.may_read_pii)
    except ValidationError as error:
        for name, messages in error.message_dict.items():
            errors.setdefault(name, []).extend(messages)

    if errors:
        raise ValidationError(errors)
    return Filters(entity=entity, filterset=filterset, search_words=search_words, custom=custom)


def narrow(
    entity: str, queryset: QuerySet, params: Mapping[str, Any] | None, *, actor: Actor
) -> QuerySet:
    """`queryset` narrowed by `params` (see ``parse``)."""
    if not params:
        return queryset
    return parse(entity, params, actor=actor).apply(queryset)


def _as_multi_value_dict(params: Mapping[str, Any] | None) -> MultiValueDict:
    if params is None:
        return MultiValueDict()
    getlist = getattr(params, "getlist", None)
    data = MultiValueDict()
    for name in params:
        values = getlist(name) if getlist else params[name]
        if not isinstance(values, list | tuple):
            values = [values]
        values = [value for value in values if value is not None and value != ""]
        if values:
            data.setlist(str(name), list(values))
    return data


def _search_words(text: Any, errors: dict[str, list[str]]) -> tuple[str, ...]:
    if not text:
        return ()
    text = str(text)
    if len(text) > SEARCH_MAX_CHARS:
        message = _("At most %(limit)d characters (got %(length)d).") % {
            "limit": SEARCH_MAX_CHARS,
            "length": len(text),
        }
        errors.setdefault(SEARCH, []).append(message)
        return ()
    return tuple(text.replace("\x00", "").replace(",", " ").split())


def _custom_filters(
    spec: EntityFilters, data: MultiValueDict, errors: dict[str, list[str]]
) -> tuple[CustomFilter, ...]:
    params = [name for name in data if name.startswith(CUSTOM_PREFIX)]
    if not params:
        return ()
    definitions = {definition.name: definition for definition in definitions_for(spec.entity)}
    found = []
    for param in params:
        name, _sep, lookup = param[len(CUSTOM_PREFIX) :].partition("__")
        definition = definitions.get(name)
        if definition is None:
            errors.setdefault(param, []).append(_("Unknown custom field."))
            continue
        custom = CustomFilter(param, definition, lookup or "exact", data.get(param))
        try:  # validates the value and the lookup; builds a query, runs none
            filter_by_custom_field(
                spec.model.objects.none(),
                definition,
                custom.lookup,
                custom.raw,
                param=param,
                may_look_up_pii=True,  # the actor's right is checked with the others
            )
        except ValidationError as error:
            for key, messages in error.message_dict.items():
                errors.setdefault(key, []).extend(messages)
            continue
        found.append(custom)
    return tuple(found)
