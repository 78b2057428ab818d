"""Records as every door shows them (``customers.representation``), for the doors that send
records outward without a request: webhook payloads and the change feed's ``include=record``."""

from collections.abc import Iterable
from typing import Any

from customers import selectors
from customers.actors import Actor
from customers.custom_fields.values import active_definitions
from customers.representation import entity_spec
from customers.representation.instances import record_of

_SELECTORS = {
    "contact": selectors.contact_list,
    "company": selectors.company_list,
    "deal": selectors.deal_list,
    "activity": selectors.activity_list,
}


def representations(
    entity: str, record_ids: Iterable[int], *, can_view_pii: bool, actor: Actor | None = None
) -> dict[int, dict[str, Any]]:
    """Record id → its current representation, for those that still exist (one query per
    relation, whatever the number of ids). `actor`: who reads (the feed's caller, the
    webhook's subscriber), handed to the entity's list selector."""
    spec = entity_spec(entity)
    records = _SELECTORS[entity](actor=actor).filter(pk__in=set(record_ids))
    definitions = active_definitions(entity) if spec.has_custom_fields else []
    return {
        record.pk: record_of(spec, record, can_view_pii=can_view_pii, definitions=definitions)
        for record in records
    }


def representation(entity: str, record_id: int, *, can_view_pii: bool) -> dict[str, Any] | None:
    return representations(entity, [record_id], can_view_pii=can_view_pii).get(record_id)
