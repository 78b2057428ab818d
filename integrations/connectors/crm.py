"""`crm`: another instance of this CRM, mirrored through its change feed.

Each run reads ``/api/v1/changes/?include=record`` after the saved cursor, keeps the latest
state of each changed record and turns it into an import row keyed by the source's record id
(as ``external_id`` here), and turns deletions (merged-away records included) into deletion
rows the sync applies. The API key needs ``<resource>:read`` and, to mirror personal data,
``pii:read`` (without it the source sends PII masked, and masked values are not imported).
"""

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.representation import Read, entity_spec
from integrations import outbound
from integrations.connectors.base import (
    DELETE_MARKER,
    ConfigKey,
    Connector,
    ConnectorError,
    RecordStream,
)
from integrations.formats import Record

PAGE = 500
MAX_PAGES = 100_000
_ENTITIES = {"contacts": "contact", "companies": "company", "deals": "deal"}
# A deal's status follows its stage, and stages (like every relation) are the source's own ids.
_NOT_MIRRORED = {"deal": frozenset({"status"})}


def _mirrored_fields(entity: str) -> tuple[str, ...]:
    """The source's fields that mean the same here: the writable plain values of the entity's
    representation (relations and owners are the source's own ids; tags and custom fields are
    read on their own, and the source's id becomes ``external_id``)."""
    skipped = _NOT_MIRRORED.get(entity, frozenset()) | {"external_id"}
    return tuple(
        spec.name
        for spec in entity_spec(entity).writable
        if spec.read is Read.ATTRIBUTE and spec.name not in skipped
    )


_FIELDS = {entity: _mirrored_fields(entity) for entity in _ENTITIES.values()}
_MASK = "***"


class CrmConnector(Connector):
    name = "crm"
    label = "Another CRM instance (change feed)"
    config_keys = {
        "url": ConfigKey(str, required=True, help="The other CRM's base URL."),
        "api_key": ConfigKey(str, required=True, secret=True, help="An API key there."),
        "resource": ConfigKey(str, help="contacts (default), companies or deals."),
        "timeout": ConfigKey((int, float), help="Seconds to wait for a page (default 30)."),
    }

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        if urlsplit(config["url"]).scheme not in {"http", "https"}:
            raise ValidationError({"config.url": _("Use an http or https URL.")})
        if config.get("resource", "contacts") not in _ENTITIES:
            raise ValidationError({"config.resource": _("Use contacts, companies or deals.")})

    def records(self, cursor: str | None) -> RecordStream:
        entity = _ENTITIES[self.config.get("resource", "contacts")]
        latest: dict[int, dict[str, Any] | None] = {}
        for event in self._events(entity, cursor):
            cursor = event["cursor"]
            latest[event["record_id"]] = event.get("record")  # None once deleted
        for number, (record_id, record) in enumerate(latest.items(), start=1):
            if record is None:
                yield Record(number, {"external_id": str(record_id), DELETE_MARKER: True})
            else:
                yield Record(number, _row(entity, record))
        return cursor

    def _events(self, entity: str, cursor: str | None) -> Iterator[dict[str, Any]]:
        base = self.config["url"].rstrip("/") + "/api/v1/changes/"
        types = ",".join(f"{entity}.{action}" for action in ("created", "updated", "deleted"))
        with outbound.session() as session:
            for _page in range(MAX_PAGES):
                params = {"types": types, "include": "record", "limit": PAGE}
                if cursor:
                    params["after"] = cursor
                page = self._get(session, f"{base}?{urlencode(params)}")
                yield from page["results"]
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    return
        raise ConnectorError(
            _("The change feed had more than %(limit)d pages.") % {"limit": MAX_PAGES}
        )

    def _get(self, session: requests.Session, url: str) -> Mapping[str, Any]:
        headers = {
            "Authorization": f"Bearer {self.config['api_key']}",
            "Accept": "application/json",
        }
        timeout = self.config.get("timeout", 30)
        try:
            response = outbound.request(
                "GET", url, session=session, headers=headers, timeout=timeout, stream=True
            )
            with response:
                if response.status_code != 200:
                    start = outbound.start_of_body(response, 200)
                    raise ConnectorError(
                        _("The change feed answered %(status)s: %(start)s")
                        % {"status": response.status_code, "start": start}
                    )
                return outbound.read_json(response, limit=settings.IMPORT_MAX_BYTES)
        except (outbound.OutboundRefused, requests.RequestException) as error:
            raise ConnectorError(
                _("Cannot read the change feed: %(error)s") % {"error": error}
            ) from None
        except ValueError:
            raise ConnectorError(_("The change feed did not return JSON.")) from None


def _row(entity: str, record: Mapping[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"external_id": str(record["id"])}
    for name in _FIELDS[entity]:
        if name in record and not _masked(record[name]):
            row[name] = record[name]
    if "tags" in record:
        row["tags"] = list(record["tags"] or [])
    for name, value in (record.get("custom_fields") or {}).items():
        if not _masked(value):
            row[f"custom_fields.{name}"] = value
    return row


def _masked(value: Any) -> bool:
    return isinstance(value, str) and _MASK in value
