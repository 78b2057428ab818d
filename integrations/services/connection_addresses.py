"""Connection URLs judged when a connection is saved, by the rule every outbound call follows:
a URL whose host is written as an address (``http://127.0.0.1/``, ``http://[::1]/``,
``http://2130706433/``) or names this machine (``localhost``) is refused naming
``config.<key>``, instead of failing each run. Host names are judged when a run resolves them
(what they resolve to can change, and saving should not wait on DNS)."""

import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

from integrations import outbound

URL_KEYS = ("url", "wsdl")  # the built-in connectors' keys that name a server to call
# Hosts made of numbers only, which the C resolver reads as an IPv4 address however written.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


def check_config_addresses(config: Mapping[str, Any]) -> None:
    """ValidationError ``{"config.<key>": …}`` for a URL to an address no call may reach."""
    for key in URL_KEYS:
        url = config.get(key)
        if not isinstance(url, str):
            continue
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:
            continue  # the connector names the malformed URL
        if not _is_local_or_address(host):
            continue
        try:
            outbound.check_url(url)
        except outbound.OutboundRefused as error:
            raise ValidationError({f"config.{key}": [str(error)]}) from None


def _is_local_or_address(host: str) -> bool:
    """An address however written, or a name every resolver answers locally."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        name = host.rstrip(".").lower()
        return bool(_NUMERIC_HOST.match(host)) or name == "localhost" or name.endswith(".localhost")
    return True
