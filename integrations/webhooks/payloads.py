"""What a webhook carries: the event, and the record as it is now in the REST API's shape,
its personal data decrypted only for a subscriber allowed to read it (None once deleted)."""

from typing import Any

from customers.models import ChangeEvent
from integrations.representations import representation


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
        "record": representation(event.entity, event.record_id, can_view_pii=can_view_pii),
    }
