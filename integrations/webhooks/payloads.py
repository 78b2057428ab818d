"""What a webhook carries: the event, and the record as it is now in the shape every door
shows (``customers.representation``; its personal data decrypted only for a subscriber allowed
to read it; None once deleted)."""

from typing import Any

from customers.models import ChangeEvent


def event_payload(event: ChangeEvent, *, record: dict[str, Any] | None) -> dict[str, Any]:
    """`record`: the record as it is now (see integrations.representations), None if gone."""
    return {
        "id": event.id,
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "entity": event.entity,
        "record_id": event.record_id,
        "external_id": event.external_id,
        "changed_fields": event.changed_fields,
        "data": event.data,
        "record": record,
    }
