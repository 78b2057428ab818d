"""Outbound requests to user-configured URLs cannot be turned against the server's own network:
every spelling of a non-public address is refused, every redirect hop is checked, the
connection goes to the address that was checked, and credentials never follow a redirect to
another origin. Real HTTP servers on loopback addresses play the targets."""

import socket
import ssl
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from integrations import outbound
from integrations.connectors import ConnectorError
from integrations.connectors.rest_json import RestJsonConnector
from tests.integrations.recording_server import recording_server

# Each is a non-public destination however it is written; nothing here is allow-listed.
NON_PUBLIC_URLS = [
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[::ffff:127.0.0.1]/",  # IPv4-mapped
    "http://[::ffff:0:127.0.0.1]/",  # IPv4-translated (SIIT)
    "http://[64:ff9b::7f00:1]/",  # NAT64 well-known prefix, 127.0.0.1
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64, 169.254.169.254
    "http://[64:ff9b:1::a00:1]/",  # NAT64 local-use prefix
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a00:1::1]/",  # 6to4 of 10.0.0.1
    "http://[2001:0:7f00:1::1]/",  # Teredo, server 127.0.0.1
    "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, obfuscated client 127.0.0.1
    "http://[2606:4700::5efe:7f00:1]/",  # ISATAP identifier, 127.0.0.1
    "http://[2606:4700::200:5efe:a9fe:a9fe]/",  # ISATAP identifier, 169.254.169.254
    "http://[fec0::1]/",  # site-local
    "http://[::]/",
    "http://[::1]/",
    "http://0.0.0.0/",
    "http://0.1.2.3/",  # 0.0.0.0/8
    "http://2130706433/",  # 127.0.0.1 in decimal
    "http://0177.0.0.1/",  # in octal
    "http://0x7f.0.0.1/",  # in hex
    "http://0x7f000001/",
    "http://127.1/",  # a shortened form
    "http://localhost/",
]


@pytest.mark.parametrize("url", NON_PUBLIC_URLS)
def test_every_spelling_of_a_non_public_address_is_refused(url, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ""

    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url(url)


@pytest.mark.parametrize(
    "url",
    ["http://[64:ff9b::808:808]/", "http://[2002:808:808::1]/", "http://8.8.8.8/"],
)
def test_an_ipv6_form_of_a_public_ipv4_address_is_allowed(url, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ""

    outbound.check_url(url)  # no exception: 8.8.8.8 behind NAT64 or 6to4 is public


def test_an_allow_listed_network_does_not_admit_the_ipv4_another_form_embeds(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "2002::/16"  # 6to4 allowed, but not what it wraps

    outbound.check_url("http://[2002:808:808::1]/")
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("http://[2002:a9fe:a9fe::1]/")


# Redirects


@pytest.fixture
def two_servers():
    """Two real servers on different loopback addresses: `first` on 127.0.0.1, `other` on
    127.0.0.2 (another origin)."""
    with recording_server("127.0.0.1") as first, recording_server("127.0.0.2") as other:
        yield first, other


def test_a_redirect_to_an_address_that_is_not_allowed_is_refused_at_that_hop(two_servers, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.1/32"
    first, other = two_servers
    first.redirect("/start", f"{other.url}/inside")
    first.redirect("/zero", f"http://0.0.0.0:{first.port}/secret")

    for path in ("/start", "/zero"):
        with pytest.raises(outbound.OutboundRefused, match="OUTBOUND_ALLOWED_NETWORKS"):
            outbound.request("GET", f"{first.url}{path}")

    assert other.received == []
    assert first.paths() == ["/start", "/zero"]  # /secret never asked for


def test_credentials_follow_a_same_origin_redirect_but_not_one_to_another_origin(
    two_servers, settings
):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    first, other = two_servers
    first.redirect("/same", "/landing")
    first.redirect("/away", f"{other.url}/landing")
    headers = {
        "Authorization": "Bearer top-secret",
        "X-Api-Key": "key-123",
        "Cookie": "session=abc",
        "Accept": "application/json",
    }

    same = outbound.request("GET", f"{first.url}/same", headers=headers)
    away = outbound.request("GET", f"{first.url}/away", headers=headers)

    assert (same.status_code, away.status_code) == (200, 200)
    landed_here = first.received[-1].headers
    assert landed_here["Authorization"] == "Bearer top-secret"
    assert landed_here["X-Api-Key"] == "key-123"
    [landed_there] = other.received
    assert "Authorization" not in landed_there.headers
    assert "X-Api-Key" not in landed_there.headers
    assert "Cookie" not in landed_there.headers
    assert landed_there.headers["Accept"] == "application/json"


def test_a_port_change_is_another_origin_too(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    with recording_server() as first, recording_server() as second:
        first.redirect("/away", f"{second.url}/landing")

        outbound.request("GET", f"{first.url}/away", auth=("user", "password"))

        assert "Authorization" in first.received[0].headers
        assert "Authorization" not in second.received[0].headers


def test_a_session_s_own_credentials_do_not_follow_a_redirect_to_another_origin(
    two_servers, settings
):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    first, other = two_servers
    first.redirect("/away", f"{other.url}/landing")
    session = outbound.session()
    session.auth = ("user", "password")  # how zeep's HTTP basic auth is set up
    session.headers["X-Api-Key"] = "key-123"

    outbound.request("GET", f"{first.url}/away", session=session)

    assert "Authorization" in first.received[0].headers
    [landed_there] = other.received
    assert "Authorization" not in landed_there.headers
    assert "X-Api-Key" not in landed_there.headers


def test_a_request_body_is_not_resent_to_another_origin(two_servers, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    first, other = two_servers
    first.redirect("/hook", f"{other.url}/stolen", status=307)

    with pytest.raises(outbound.OutboundRefused, match="another origin"):
        outbound.request("POST", f"{first.url}/hook", data=b'{"email": "a@example.com"}')

    assert other.received == []


def test_the_rest_json_connector_s_secret_headers_stay_with_their_origin(two_servers, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    first, other = two_servers
    first.redirect("/api/contacts/", f"{other.url}/api/contacts/")
    other.serve("/api/contacts/", b"[]", "application/json")
    connector = RestJsonConnector(
        {"url": f"{first.url}/api/contacts/", "headers": {"X-Api-Key": "key-123"}}
    )

    assert list(connector.fetch(None)) == []
    assert first.received[0].headers["X-Api-Key"] == "key-123"
    assert "X-Api-Key" not in other.received[0].headers


def test_a_connector_redirected_to_a_private_address_fails_the_fetch(two_servers, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.1/32"
    first, other = two_servers
    first.redirect("/api/contacts/", f"{other.url}/api/contacts/")

    with pytest.raises(ConnectorError, match="127.0.0.2"):
        list(RestJsonConnector({"url": f"{first.url}/api/contacts/"}).fetch(None))
    assert other.received == []


@pytest.mark.parametrize(
    "body",
    [
        b'[{"first_name": "' + b"x" * 5000 + b'"}]',  # over the size allowed
        b"[" * 5000 + b"]" * 5000,  # nested past what the decoder survives
    ],
    ids=["too large", "too deep"],
)
def test_a_json_source_s_oversized_or_abysmal_page_fails_the_fetch_cleanly(body, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.0/8"
    settings.IMPORT_MAX_BYTES = 4096
    with recording_server() as source:
        source.serve("/api/contacts/", body, "application/json")
        connector = RestJsonConnector({"url": f"{source.url}/api/contacts/"})

        with pytest.raises(ConnectorError):
            list(connector.fetch(None))


# DNS rebinding


@pytest.fixture
def rebinding_resolver(monkeypatch):
    """`rebind.test` resolves to 127.0.0.1 the first time it is looked up and to 127.0.0.2
    ever after, as a hostile DNS server would answer (no DNS server runs here, so the system
    resolver is replaced for that one name). Returns the list of lookups made."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        address = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real(address, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return lookups


def servers_on_one_port() -> tuple[ExitStack, object, object]:
    """Servers on 127.0.0.1 and 127.0.0.2 sharing one port number."""
    for _attempt in range(20):
        stack = ExitStack()
        checked = stack.enter_context(recording_server("127.0.0.1"))
        try:
            rebound = stack.enter_context(recording_server("127.0.0.2", checked.port))
        except OSError:
            stack.close()
            continue
        return stack, checked, rebound
    raise RuntimeError("no port free on both loopback addresses")


def test_the_connection_goes_to_the_address_that_was_checked(rebinding_resolver, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.1/32"
    stack, checked, rebound = servers_on_one_port()
    with stack:
        response = outbound.request("GET", f"http://rebind.test:{checked.port}/who")

    assert response.status_code == 200
    assert checked.paths() == ["/who"]
    assert checked.received[0].headers["Host"] == f"rebind.test:{checked.port}"
    assert rebound.received == []
    assert rebinding_resolver == ["rebind.test"]  # looked up once, for the check


def test_every_hop_is_resolved_once_and_connected_to_as_checked(rebinding_resolver, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.1/32"
    stack, checked, rebound = servers_on_one_port()
    with stack:
        checked.redirect("/start", f"http://rebind.test:{checked.port}/next")
        with pytest.raises(outbound.OutboundRefused, match="127.0.0.2"):
            outbound.request("GET", f"http://rebind.test:{checked.port}/start")

    assert checked.paths() == ["/start"]
    assert rebound.received == []


# TLS to a pinned address still verifies the host name


def self_signed(tmp_path, name: str) -> tuple[ssl.SSLContext, Path]:
    """A server context with a self-signed certificate for `name`, and the certificate's file
    (the CA bundle a client trusts)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context, cert_file


@pytest.fixture
def secure_test_resolves_to_loopback(monkeypatch, settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = "127.0.0.1/32"
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        return real("127.0.0.1" if host == "secure.test" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.mark.usefixtures("secure_test_resolves_to_loopback")
def test_https_to_the_pinned_address_presents_and_verifies_the_host_name(tmp_path):
    context, certificate = self_signed(tmp_path, "secure.test")
    with recording_server(tls=context) as server:
        response = outbound.request(
            "GET", f"https://secure.test:{server.port}/hello", verify=str(certificate)
        )

    assert response.status_code == 200
    assert server.received[0].headers["Host"] == f"secure.test:{server.port}"


@pytest.mark.usefixtures("secure_test_resolves_to_loopback")
def test_a_certificate_for_another_name_is_refused_at_the_pinned_address(tmp_path):
    context, certificate = self_signed(tmp_path, "other.test")
    with recording_server(tls=context) as server, pytest.raises(requests.exceptions.SSLError):
        outbound.request("GET", f"https://secure.test:{server.port}/hello", verify=str(certificate))

    assert server.received == []


def test_a_plain_session_handed_in_is_checked_too_even_with_its_own_adapters(settings):
    settings.OUTBOUND_ALLOWED_NETWORKS = ""
    plain = requests.Session()
    plain.mount("http://127.0.0.1", requests.adapters.HTTPAdapter())

    with pytest.raises(outbound.OutboundRefused):
        outbound.request("GET", "http://127.0.0.1:9/", session=plain)
