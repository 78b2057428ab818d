"""Read queries for the domain, already shaped for the doors (no N+1 on lists).

Lookups on encrypted email and phone go through their blind indexes: one indexed equality,
never a decrypt-and-scan.
"""

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Concat

from customers import crypto, pii
from customers.models import Activity, Company, Contact, Deal, Pipeline, Stage, Tag

_COMPANY_HEAVY_FIELDS = ("address", "phone", "custom_fields", "custom_index")
# The longest search text any door takes (the web search box, REST ?search=, SOAP Search*
# criteria). Each word becomes a condition over several columns: ~1,500 words passed the
# database's expression depth and answered 500.
SEARCH_MAX_CHARS = 200


def contact_list(
    *, filters: Mapping[str, Any] | None = None, may_look_up_pii: bool = False
) -> QuerySet[Contact]:
    """Contacts with company, owner and tags loaded, narrowed by `contact_filter`."""
    # The company rides along for its id and name: its PII is never decrypted for a contact list.
    queryset = (
        Contact.objects.select_related("company", "owner")
        .defer(*(f"company__{name}" for name in _COMPANY_HEAVY_FIELDS))
        .prefetch_related("tags")
    )
    return contact_filter(queryset, filters, may_look_up_pii=may_look_up_pii)


def contact_filter(
    queryset: QuerySet, filters: Mapping[str, Any] | None, *, may_look_up_pii: bool = False
) -> QuerySet:
    """Narrow contacts (instances or plain rows) by: `email` and `phone` (exact, through the
    blind index; only when `may_look_up_pii`, see ``pii.check_pii_lookup``), `owner`,
    `company`, `lifecycle_stage`, `tag`, `search` (over names, title and company name, never
    over encrypted fields), `updated_since`."""
    filters = filters or {}
    _check_pii_lookup(filters, ("email", "phone"), may_look_up_pii)
    if filters.get("email"):
        queryset = queryset.filter(email_index=crypto.email_index(filters["email"]))
    if filters.get("phone"):
        queryset = queryset.filter(phone_index=crypto.phone_index(filters["phone"]))
    if filters.get("owner"):
        queryset = queryset.filter(owner_id=filters["owner"])
    if filters.get("company"):
        queryset = queryset.filter(company_id=filters["company"])
    if filters.get("lifecycle_stage"):
        queryset = queryset.filter(lifecycle_stage=filters["lifecycle_stage"])
    if filters.get("tag"):
        queryset = queryset.filter(tags__name__iexact=filters["tag"])
    if filters.get("search"):
        queryset = contact_text_search(queryset, filters["search"])
    return _updated_since(queryset, filters)


def _check_pii_lookup(
    filters: Mapping[str, Any], names: tuple[str, ...], may_look_up_pii: bool
) -> None:
    pii.check_pii_lookup([name for name in names if filters.get(name)], allowed=may_look_up_pii)


def _updated_since(queryset: QuerySet, filters: Mapping[str, Any]) -> QuerySet:
    """`updated_since`: records changed at or after this aware datetime (compared in UTC)."""
    since = filters.get("updated_since")
    return queryset.filter(updated_at__gte=since.astimezone(UTC)) if since else queryset


def contact_text_search(queryset: QuerySet, term: str) -> QuerySet:
    """Every word in a name, the title or the company name. A name matches written either
    way: family name first without a space (Chinese, "张伟") or given name first with one."""
    queryset = queryset.alias(
        _name_east=Concat("last_name", "first_name"),
        _name_west=Concat("first_name", Value(" "), "last_name"),
    )
    condition = Q()
    for word in term.split():
        condition &= (
            Q(_name_east__icontains=word)
            | Q(_name_west__icontains=word)
            | Q(title__icontains=word)
            | Q(company__name__icontains=word)
        )
    return queryset.filter(condition)


def contact_get(contact_id: int) -> Contact | None:
    return contact_list().filter(pk=contact_id).first()


def contact_get_for_update(contact_id: int) -> Contact | None:
    """The contact, row-locked until the caller's transaction ends: a write that reads it
    first cannot lose a concurrent change."""
    return Contact.objects.select_for_update().filter(pk=contact_id).first()


def find_contact_by_email(email: str) -> Contact | None:
    if not email or not email.strip():
        return None
    return Contact.objects.filter(email_index=crypto.email_index(email)).first()


def find_contacts_by_phone(phone: str) -> QuerySet[Contact]:
    """Phones are not unique (a switchboard, a household), so this returns every match."""
    if not phone or not phone.strip():
        return Contact.objects.none()
    return Contact.objects.filter(phone_index=crypto.phone_index(phone))


def find_contact_by_external_id(external_id: str) -> Contact | None:
    return Contact.objects.filter(external_id=external_id).first() if external_id else None


def company_list(
    *, filters: Mapping[str, Any] | None = None, may_look_up_pii: bool = False
) -> QuerySet[Company]:
    """Companies narrowed by `phone` (exact, only when `may_look_up_pii`), `owner`, `search`,
    `updated_since`."""
    queryset = Company.objects.select_related("owner").prefetch_related("tags")
    filters = filters or {}
    _check_pii_lookup(filters, ("phone",), may_look_up_pii)
    if filters.get("phone"):
        queryset = queryset.filter(phone_index=crypto.phone_index(filters["phone"]))
    if filters.get("owner"):
        queryset = queryset.filter(owner_id=filters["owner"])
    if filters.get("search"):
        term = filters["search"]
        queryset = queryset.filter(
            Q(name__icontains=term) | Q(domain__icontains=term) | Q(industry__icontains=term)
        )
    return _updated_since(queryset, filters)


def company_get(company_id: int) -> Company | None:
    return company_list().filter(pk=company_id).first()


def company_get_for_update(company_id: int) -> Company | None:
    """The company, row-locked until the caller's transaction ends."""
    return Company.objects.select_for_update().filter(pk=company_id).first()


def find_company_by_external_id(external_id: str) -> Company | None:
    return Company.objects.filter(external_id=external_id).first() if external_id else None


def deal_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Deal]:
    queryset = Deal.objects.select_related(
        "company", "primary_contact", "stage", "stage__pipeline", "owner"
    ).prefetch_related("tags")
    filters = filters or {}
    for name in ("status", "stage", "owner", "company"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if filters.get("pipeline"):
        queryset = queryset.filter(stage__pipeline=filters["pipeline"])
    if filters.get("search"):
        queryset = queryset.filter(name__icontains=filters["search"])
    return _updated_since(queryset, filters)


def deal_get(deal_id: int) -> Deal | None:
    return deal_list().filter(pk=deal_id).first()


def find_deal_by_external_id(external_id: str) -> Deal | None:
    return Deal.objects.filter(external_id=external_id).first() if external_id else None


def activity_list(*, filters: Mapping[str, Any] | None = None) -> QuerySet[Activity]:
    queryset = Activity.objects.select_related("contact", "company", "deal", "author")
    filters = filters or {}
    for name in ("contact", "company", "deal", "author", "kind"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    return queryset


def find_activity_by_external_id(external_id: str) -> Activity | None:
    return Activity.objects.filter(external_id=external_id).first() if external_id else None


def pipeline_list() -> QuerySet[Pipeline]:
    return Pipeline.objects.prefetch_related("stages")


def default_pipeline() -> Pipeline | None:
    return Pipeline.objects.filter(is_default=True).first() or Pipeline.objects.first()


def first_stage(*, pipeline: Pipeline, outcome: str = Stage.Outcome.OPEN) -> Stage | None:
    return pipeline.stages.filter(outcome=outcome).order_by("position", "id").first()


def tag_list() -> QuerySet[Tag]:
    return Tag.objects.all()
