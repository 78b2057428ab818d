"""What a webhook carries: the event, and the record as it is now in the REST API's shape,
its personal data decrypted only for a subscriber allowed to read it (None once deleted)."""

from typing import Any

from customers import selectors
from customers.api import serializers
from customers.custom_fields.values import active_definitions
from customers.models import ChangeEvent

_RECORDS = {
    "contact": (selectors.contact_list, serializers.ContactOutputSerializer),
    "company": (selectors.company_list, serializers.CompanyOutputSerializer),
    "deal": (selectors.deal_list, serializers.DealOutputSerializer),
    "activity": (selectors.activity_list, serializers.ActivityOutputSerializer),
}


def event_payload(event: ChangeEvent, *, can_view_pii: bool) -> dict[str, Any]:
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "entity": event.entity,
        "record_id": event.record_id,
        "external_id": event.external_id,
        "changed_fields": event.changed_fields,
        "data": event.data,
        "record": record_representation(event.entity, event.record_id, can_view_pii=can_view_pii),
    }


def record_representation(
    entity: str, record_id: int, *, can_view_pii: bool
) -> dict[str, Any] | None:
    select, serializer_class = _RECORDS[entity]
    record = select().filter(pk=record_id).first()
    if record is None:
        return None
    context = {"can_view_pii": can_view_pii}
    if entity != "activity":
        context["custom_field_definitions"] = active_definitions(entity)
    return dict(serializer_class(record, context=context).data)
