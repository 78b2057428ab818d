"""Connectors: external sources of records for scheduled syncs.

A connector is a small class that, given its validated configuration and the cursor saved by
the previous run, yields the records changed since then and, when they run out, the new cursor:

    connector = connector_class("rest_json")(config)
    fetch = connector.fetch(cursor)
    for record in fetch:                # integrations.formats.Record(number, values, error)
        ...
    new_cursor = fetch.cursor           # set once the records are exhausted
    connector.acknowledge(fetch)        # after the records are committed (file: move files aside)

The records go through the same chunked import pipeline as uploaded files. Built-in connectors
are `rest_json`, `file` and `soap`; third-party ones plug in through the `crm.connectors`
entry-point group or the `CRM_CONNECTORS` setting (see `registry`).
"""

from integrations.connectors.base import ConfigKey, Connector, ConnectorError, Fetch
from integrations.connectors.registry import available_connectors, connector_class

__all__ = [
    "ConfigKey",
    "Connector",
    "ConnectorError",
    "Fetch",
    "available_connectors",
    "connector_class",
]
