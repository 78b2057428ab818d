"""Records as the REST API shows them (the same serializers), for the doors that send records
outward without a request: webhook payloads and the change feed's ``include=record``."""

from collections.abc import Iterable
from typing import Any

from customers import selectors
from customers.actors import Actor
from customers.api import serializers
from customers.custom_fields.values import active_definitions

_RECORDS = {
    "contact": (selectors.contact_list, serializers.ContactOutputSerializer),
    "company": (selectors.company_list, serializers.CompanyOutputSerializer),
    "deal": (selectors.deal_list, serializers.DealOutputSerializer),
    "activity": (selectors.activity_list, serializers.ActivityOutputSerializer),
}


def representations(
    entity: str, record_ids: Iterable[int], *, can_view_pii: bool, actor: Actor | None = None
) -> dict[int, dict[str, Any]]:
    """Record id → its current representation, for those that still exist (one query per
    relation, whatever the number of ids). `actor`: who reads (the feed's caller, the
    webhook's subscriber), handed to the entity's list selector."""
    select, serializer_class = _RECORDS[entity]
    records = select(actor=actor).filter(pk__in=set(record_ids))
    context: dict[str, Any] = {"can_view_pii": can_view_pii}
    if entity != "activity":
        context["custom_field_definitions"] = active_definitions(entity)
    return {record.pk: dict(serializer_class(record, context=context).data) for record in records}


def representation(entity: str, record_id: int, *, can_view_pii: bool) -> dict[str, Any] | None:
    return representations(entity, [record_id], can_view_pii=can_view_pii).get(record_id)
