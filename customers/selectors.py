"""Read queries for the domain, already shaped for the doors (no N+1 on lists).

Lookups on encrypted email and phone go through their blind indexes: one indexed equality,
never a decrypt-and-scan. A list read with an actor may be served by a read replica
(``customers.read_routing`` decides); everything else here reads the primary.
"""

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from customers import crypto, read_routing
from customers import filters as entity_filters
from customers.actors import Actor
from customers.models import Activity, Company, Contact, Deal, Pipeline, Stage, Tag

_COMPANY_HEAVY_FIELDS = ("address", "phone", "custom_fields", "custom_index")
SEARCH_MAX_CHARS = entity_filters.SEARCH_MAX_CHARS

Filters = Mapping[str, Any] | entity_filters.Filters | None


def contact_list(
    *, actor: Actor | None = None, filters: Filters = None, queryset: QuerySet | None = None
) -> QuerySet[Contact]:
    """Contacts with company, owner and tags loaded, narrowed by `filters` (the parameters of
    ``customers.filters``, parsed for `actor`, or already parsed). `queryset`: another shape
    of the same records to narrow instead (the REST list's plain rows).

    Every door reads records through these selectors with its actor, so who may see which
    record (and look records up by personal data), and whether a replica may answer, is
    decided here, once."""
    if queryset is None:
        # The company rides along for its id and name: its PII is never decrypted for a list.
        queryset = (
            Contact.objects.select_related("company", "owner")
            .defer(*(f"company__{name}" for name in _COMPANY_HEAVY_FIELDS))
            .prefetch_related("tags")
        )
    return _narrowed("contact", queryset, filters, actor)


def _narrowed(entity: str, queryset: QuerySet, filters: Filters, actor: Actor | None) -> QuerySet:
    """Filters need an actor: who asks decides what may be looked up. Without filters, no
    actor is the application's own read (a base shape another reader narrows)."""
    return read_routing.routed(_filtered(entity, queryset, filters, actor), actor)


def _filtered(entity: str, queryset: QuerySet, filters: Filters, actor: Actor | None) -> QuerySet:
    if not filters:
        return queryset
    if isinstance(filters, entity_filters.Filters):
        if filters.entity != entity:
            raise TypeError(f"Filters of {filters.entity} records cannot narrow {entity} ones.")
        return filters.apply(queryset)
    if actor is None:
        raise TypeError("Filtered reads name their actor.")
    return entity_filters.parse(entity, filters, actor=actor).apply(queryset)


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
    *, actor: Actor | None = None, filters: Filters = None, queryset: QuerySet | None = None
) -> QuerySet[Company]:
    """Companies with owner and tags loaded, narrowed by `filters` (see ``contact_list``)."""
    if queryset is None:
        queryset = Company.objects.select_related("owner").prefetch_related("tags")
    return _narrowed("company", queryset, filters, actor)


def company_get(company_id: int) -> Company | None:
    return company_list().filter(pk=company_id).first()


def company_get_for_update(company_id: int) -> Company | None:
    """The company, row-locked until the caller's transaction ends."""
    return Company.objects.select_for_update().filter(pk=company_id).first()


def find_company_by_external_id(external_id: str) -> Company | None:
    return Company.objects.filter(external_id=external_id).first() if external_id else None


def deal_list(
    *, actor: Actor | None = None, filters: Filters = None, queryset: QuerySet | None = None
) -> QuerySet[Deal]:
    """Deals with their relations loaded, narrowed by `filters` (see ``contact_list``)."""
    if queryset is None:
        queryset = Deal.objects.select_related(
            "company", "primary_contact", "stage", "stage__pipeline", "owner"
        ).prefetch_related("tags")
    return _narrowed("deal", queryset, filters, actor)


def deal_get(deal_id: int) -> Deal | None:
    return deal_list().filter(pk=deal_id).first()


def find_deal_by_external_id(external_id: str) -> Deal | None:
    return Deal.objects.filter(external_id=external_id).first() if external_id else None


def activity_list(
    *, actor: Actor | None = None, filters: Filters = None, queryset: QuerySet | None = None
) -> QuerySet[Activity]:
    """Activities with their relations loaded, narrowed by `filters` (see ``contact_list``)."""
    if queryset is None:
        queryset = Activity.objects.select_related("contact", "company", "deal", "author")
    return _narrowed("activity", queryset, filters, actor)


#: Each entity's list selector, for the doors that serve several entities alike.
LISTS = {
    "contact": contact_list,
    "company": company_list,
    "deal": deal_list,
    "activity": activity_list,
}


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
