"""Outbound HTTP to addresses users configure (connector sources, WSDLs, webhook targets),
without server-side request forgery.

* Every hop is checked: the host is resolved once, and every address it resolves to must be
  public or inside a network of ``OUTBOUND_ALLOWED_NETWORKS`` (comma-separated CIDRs). IPv6
  forms that carry an IPv4 address are judged by that IPv4 address too (see `destinations`),
  and IPv4 written other than as four decimal numbers (``2130706433``, ``0177.0.0.1``,
  ``0x7f.1``, ``127.1``, which glibc's getaddrinfo all reads as 127.0.0.1) is refused outright,
  so a URL means the same address to every parser.
* The connection goes to the address that was checked (no second lookup a DNS rebinding could
  answer differently), while the Host header, TLS SNI and certificate check keep the host name.
* Redirects are followed by hand, each hop checked. When a redirect changes the origin (scheme,
  host or port) only harmless headers follow it: credentials (Authorization, API keys, cookies,
  signatures) stay with the origin they were meant for, and a request body is never re-sent to
  another origin (a 307/308 across origins is refused).
* Proxies from the environment and ``.netrc`` credentials are not used: a proxy would pick its
  own address.
"""

import ipaddress
import json
import re
import socket
import sys
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.utils.translation import gettext as _
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection as urllib3_connection

from customers import pii

MAX_REDIRECTS = 5
DEFAULT_TIMEOUT = 30.0
# The only headers that follow a redirect to another origin; everything else a caller set
# (Authorization, X-Api-Key, signatures, cookies…) is meant for the first origin alone.
CROSS_ORIGIN_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "user-agent", "content-type", "soapaction"}
)
_BODY_ARGUMENTS = ("data", "json", "files")
_CREDENTIAL_ARGUMENTS = ("auth", "cookies", "cert")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# IPv6 prefixes whose last 32 bits *are* an IPv4 destination: IPv4-mapped (::ffff:0:0/96),
# IPv4-translated (SIIT, ::ffff:0:0:0/96), NAT64 well-known (64:ff9b::/96) and the deprecated
# IPv4-compatible form (::/96, e.g. ``[::127.0.0.1]``). Judged by the IPv4 address alone.
_IPV4_TRANSLATIONS = tuple(
    ipaddress.IPv6Network(net) for net in ("::ffff:0:0/96", "::ffff:0:0:0/96", "64:ff9b::/96")
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# Prefixes Python 3.11's `is_global` still calls global although they are not reachable on the
# internet: NAT64 local-use (RFC 8215, a translator inside some network), the deprecated
# site-local fec0::/10, and the ranges above (a bare wrapper is never public by itself).
_NOT_GLOBAL_V6 = (
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("fec0::/10"),
)
# ISATAP interface identifiers (RFC 5214): ``…:0000:5efe:a.b.c.d`` and ``…:0200:5efe:a.b.c.d``.
_ISATAP_MASK, _ISATAP_ID = 0xFCFFFFFF, 0x00005EFE
# Hosts made of numbers only (decimal, octal with a leading 0, hex with 0x) that the C
# resolver reads as an IPv4 address however they are written.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.I)


class OutboundRefused(Exception):
    """The URL is not one this server may call."""


# Addresses


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


def destinations(address: Address) -> tuple[Address, ...]:
    """The addresses a packet to `address` may really reach: the IPv4 address an IPv4-mapped,
    -translated, -compatible or NAT64 (64:ff9b::/96) address stands for; for the tunnelling
    forms (6to4 2002::/16, Teredo 2001::/32 with its server and de-obfuscated client, ISATAP
    interface identifiers) the IPv6 address and the IPv4 endpoints it embeds."""
    if isinstance(address, ipaddress.IPv4Address):
        return (address,)
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if any(address in network for network in _IPV4_TRANSLATIONS):
        return (low32,)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are themselves
        return (low32,)
    found: list[Address] = [address]
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if (int(address) >> 32) & _ISATAP_MASK == _ISATAP_ID:
        found.append(low32)
    return tuple(found)


def is_public(address: Address) -> bool:
    """Globally reachable unicast, whatever IPv4 address it may embed."""
    return all(_is_public_itself(each) for each in destinations(address))


def _is_public_itself(address: Address) -> bool:
    if not address.is_global or address.is_multicast:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        wrappers = (*_IPV4_TRANSLATIONS, _IPV4_COMPATIBLE, *_NOT_GLOBAL_V6)
        return not any(address in network for network in wrappers)
    return True


def is_allowed(address: Address) -> bool:
    """Each of its `destinations` public or listed in OUTBOUND_ALLOWED_NETWORKS (listing a
    6to4 or NAT64 prefix does not admit the private IPv4 address it wraps)."""
    networks = allowed_networks()
    return all(
        _is_public_itself(each) or any(each in network for network in networks)
        for each in destinations(address)
    )


def check_addresses(host: str, addresses: Iterable[Address]) -> None:
    for address in addresses:
        if not is_allowed(address):
            raise OutboundRefused(
                _(
                    "%(host)s resolves to %(address)s, a non-public address; list its network "
                    "in OUTBOUND_ALLOWED_NETWORKS to allow it."
                )
                % {"host": host, "address": address}
            )


def check_url(url: str) -> None:
    """Raise OutboundRefused unless `url` is http(s) and every address its host resolves to is
    public or in an allowed network."""
    resolve_checked(url)


def resolve_checked(url: str) -> tuple[str, ...]:
    """The addresses to connect to for `url`: resolved once, every one checked."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"}:
        raise OutboundRefused(
            _('Only http and https URLs are allowed, not "%(scheme)s".') % {"scheme": parts.scheme}
        )
    host = parts.hostname
    if not host:
        raise OutboundRefused(_("The URL has no host."))
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise OutboundRefused(_("The URL's port is not a number from 0 to 65535.")) from None
    if _NUMERIC_HOST.match(host):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise OutboundRefused(
                _("Write an IPv4 address as four decimal numbers (not %(host)s).") % {"host": host}
            ) from None
    resolved = _resolve(host, port)
    check_addresses(host, (address for address, _sockaddr in resolved))
    return tuple(dict.fromkeys(sockaddr for _address, sockaddr in resolved))


def _resolve(host: str, port: int) -> list[tuple[Address, str]]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise OutboundRefused(
            _("Cannot resolve %(host)s: %(reason)s.") % {"host": host, "reason": reason}
        ) from None
    found = []
    for family, *_rest, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        found.append((ipaddress.ip_address(sockaddr[0].split("%")[0]), sockaddr[0]))
    if not found:
        raise OutboundRefused(_("Cannot resolve %(host)s.") % {"host": host})
    return found


# Connections pinned to the checked addresses


class _PinnedConnectionMixin:
    """Opens its socket to one of `pinned_addresses` instead of looking the host up again;
    `host` (hence the Host header, SNI and the certificate's name) stays the URL's host."""

    pinned_addresses: tuple[str, ...] = ()

    def _new_conn(self) -> socket.socket:
        if not self.pinned_addresses:
            raise OutboundRefused(_("No checked address to connect to."))
        error: Exception | None = None
        for address in self.pinned_addresses:
            try:
                sock = urllib3_connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError:
                error = ConnectTimeoutError(
                    self, f"Connection to {self.host} ({address}) timed out."
                )
            except OSError as failure:
                error = NewConnectionError(
                    self, f"Failed to connect to {self.host} ({address}): {failure}"
                )
            else:
                sys.audit("http.client.connect", self, self.host, self.port)
                return sock
        raise error


class _PinnedHTTPConnection(_PinnedConnectionMixin, HTTPConnection):
    pass


class _PinnedHTTPSConnection(_PinnedConnectionMixin, HTTPSConnection):
    pass


class _PinnedPoolMixin:
    pinned_addresses: tuple[str, ...] = ()

    def _new_conn(self):
        conn = super()._new_conn()
        conn.pinned_addresses = self.pinned_addresses
        return conn


class _PinnedHTTPConnectionPool(_PinnedPoolMixin, HTTPConnectionPool):
    ConnectionCls = _PinnedHTTPConnection


class _PinnedHTTPSConnectionPool(_PinnedPoolMixin, HTTPSConnectionPool):
    ConnectionCls = _PinnedHTTPSConnection


class CheckedAdapter(HTTPAdapter):
    """Every request it sends (each hop, whoever follows the redirects) is checked and goes to
    the addresses that passed the check. Never through a proxy."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PinnedHTTPConnectionPool,
            "https": _PinnedHTTPSConnectionPool,
        }

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        addresses = resolve_checked(request.url)
        pool = super().get_connection_with_tls_context(request, verify, proxies=None, cert=cert)
        # New connections of this pool go to the addresses just checked; an idle kept-alive
        # one was opened to an address checked when it was opened.
        pool.pinned_addresses = addresses
        return pool

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        return super().send(request, stream, timeout, verify, cert, proxies=None)


class Session(requests.Session):
    """A `requests.Session` for user-configured URLs: every request goes through `request`
    below (checked, pinned, redirects by hand), e.g. for zeep's transport."""

    def __init__(self) -> None:
        super().__init__()
        secure(self)

    def request(self, method, url, *args, **kwargs) -> requests.Response:  # type: ignore[override]
        if args:
            raise TypeError("outbound.Session.request takes keyword arguments only.")
        return request(method, url, session=self, **kwargs)


def secure(session: requests.Session) -> requests.Session:
    """Mount the checked adapter on `session` and stop it reading proxies and .netrc from the
    environment."""
    unchecked = [
        prefix
        for prefix, adapter in session.adapters.items()
        if prefix.lower().startswith(("http://", "https://"))
        and not isinstance(adapter, CheckedAdapter)
    ]
    for prefix in unchecked:  # a more specific mount (https://host/) would be chosen over ours
        del session.adapters[prefix]
    if not all(
        isinstance(session.adapters.get(p), CheckedAdapter) for p in ("http://", "https://")
    ):
        adapter = CheckedAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)
    session.trust_env = False
    return session


def session() -> Session:
    return Session()


# Requests


def request(
    method: str,
    url: str,
    *,
    session: requests.Session | None = None,
    timeout: float | tuple[float, float] | None = DEFAULT_TIMEOUT,
    allow_redirects: bool = True,
    **kwargs: Any,
) -> requests.Response:
    """`requests` with every hop checked and pinned, and credentials kept to their origin."""
    http = secure(session) if session is not None else Session()
    for _hop in range(MAX_REDIRECTS + 1):
        scheme = urlsplit(url).scheme
        if scheme not in {"http", "https"}:  # a session may have other adapters (zeep: file://)
            raise OutboundRefused(
                _('Only http and https URLs are allowed, not "%(scheme)s".') % {"scheme": scheme}
            )
        response = requests.Session.request(
            http, method, url, timeout=timeout, allow_redirects=False, **kwargs
        )
        if not (allow_redirects and response.is_redirect):
            return response
        target = urljoin(url, response.headers["Location"])
        response.close()
        if response.status_code in (301, 302, 303) and method != "HEAD":
            method = "GET"
            kwargs = _without_body(kwargs)
        if _origin(target) != _origin(url):
            if any(kwargs.get(name) is not None for name in _BODY_ARGUMENTS):
                raise OutboundRefused(
                    _("%(url)s redirected the request body to another origin; not followed.")
                    % {"url": _redacted(url)}
                )
            kwargs = _without_credentials(kwargs, http.headers)
        url = target
    raise OutboundRefused(_("More than %(count)d redirects.") % {"count": MAX_REDIRECTS})


# Reading answers: a user-configured server decides how much it sends, so callers stream
# (``stream=True``) and read through these, never ``response.content`` or ``.text`` whole.
_READ_CHUNK = 64 * 1024


def read_json(response: requests.Response, *, limit: int) -> Any:
    """The JSON body, read up to `limit` bytes; OutboundRefused past that (the rest is never
    downloaded), ValueError when it is not JSON or nests deeper than the decoder survives.
    A broken body raises requests' own RequestException."""
    body = bytearray()
    for chunk in response.iter_content(_READ_CHUNK):
        body += chunk
        if len(body) > limit:
            response.close()
            raise OutboundRefused(
                _("The answer is larger than %(limit)d bytes.") % {"limit": limit}
            )
    try:
        return json.loads(body)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply.") from None


def start_of_body(response: requests.Response, chars: int) -> str:
    """The first `chars` characters of the body (for an error message that is stored), reading
    no more than they can take, with email addresses and phone numbers scrubbed (a receiver may
    echo the record it refused); a broken body raises requests' own RequestException."""
    start = next(response.iter_content(chars * 4), b"")
    return pii.scrub_text(start.decode(response.encoding or "utf-8", errors="replace"))[:chars]


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or ""), port or default


def _without_body(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    kept = {key: value for key, value in kwargs.items() if key not in _BODY_ARGUMENTS}
    if kept.get("headers"):
        headers = CaseInsensitiveDict(kept["headers"])
        for name in ("Content-Type", "Content-Length", "Transfer-Encoding"):
            headers.pop(name, None)
        kept["headers"] = headers
    return kept


def _without_credentials(
    kwargs: Mapping[str, Any], session_headers: Mapping[str, str]
) -> dict[str, Any]:
    """Only `CROSS_ORIGIN_HEADERS` follow; a session-level header is removed by naming it
    with None (how requests drops a session header for one request)."""
    kept = {key: value for key, value in kwargs.items() if key not in _CREDENTIAL_ARGUMENTS}
    headers = CaseInsensitiveDict()
    for name, value in (kwargs.get("headers") or {}).items():
        if name.lower() in CROSS_ORIGIN_HEADERS:
            headers[name] = value
    for name in session_headers:
        if name.lower() not in CROSS_ORIGIN_HEADERS:
            headers[name] = None
    headers.setdefault("Authorization", None)  # a user:password in the first URL
    headers.setdefault("Cookie", None)
    kept["headers"] = headers
    # An auth of None means the session's own (``session.auth``, as zeep's basic auth is set),
    # which requests would apply to this hop after the headers are merged: name one that
    # sends nothing.
    kept["auth"] = _no_auth
    return kept


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    request.headers.pop("Authorization", None)
    return request


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    return f"{parts.scheme}://{host}{f':{parts.port}' if parts.port else ''}{parts.path}"
