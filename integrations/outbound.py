"""Outbound HTTP to addresses users configure (connector sources, webhook targets), without
server-side request forgery: a target that resolves to a loopback, private, link-local or
otherwise non-public address is refused unless its network is listed in
``OUTBOUND_ALLOWED_NETWORKS`` (comma-separated CIDRs). Redirects are followed by hand, so each
hop is checked too.
"""

import ipaddress
import socket
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 30.0

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class OutboundRefused(Exception):
    """The URL is not one this server may call."""


@lru_cache(maxsize=8)
def _parse_networks(spec: str) -> tuple[Network, ...]:
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",") if part.strip()
    )


def allowed_networks() -> tuple[Network, ...]:
    spec = getattr(settings, "OUTBOUND_ALLOWED_NETWORKS", "") or ""
    if not isinstance(spec, str):
        spec = ",".join(spec)
    return _parse_networks(spec)


def is_public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast


def check_url(url: str) -> None:
    """Raise OutboundRefused unless `url` is http(s) and every address its host resolves to is
    public or in an allowed network."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise OutboundRefused(f"Only http and https URLs are allowed, not {parts.scheme!r}.")
    if not parts.hostname:
        raise OutboundRefused("The URL has no host.")
    check_addresses(parts.hostname, _resolve(parts.hostname, parts.port))


def check_addresses(host: str, addresses: Iterable[Address]) -> None:
    networks = allowed_networks()
    for address in addresses:
        if is_public(address) or any(address in network for network in networks):
            continue
        raise OutboundRefused(
            f"{host} resolves to {address}, a non-public address; list its network in "
            "OUTBOUND_ALLOWED_NETWORKS to allow it."
        )


def _resolve(host: str, port: int | None) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port or 443, proto=socket.IPPROTO_TCP)
    except socket.gaierror as error:
        raise OutboundRefused(f"Cannot resolve {host}: {error.strerror}.") from None
    return [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]


def request(
    method: str,
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    **kwargs,
) -> requests.Response:
    """`requests` with every hop checked against the SSRF rules."""
    http = session or requests.Session()
    for _hop in range(MAX_REDIRECTS + 1):
        check_url(url)
        response = http.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
        if not response.is_redirect:
            return response
        url = urljoin(url, response.headers["Location"])
        if response.status_code in (301, 302, 303) and method != "HEAD":
            method, kwargs = "GET", {key: kwargs[key] for key in ("headers",) if key in kwargs}
    raise OutboundRefused(f"More than {MAX_REDIRECTS} redirects.")
