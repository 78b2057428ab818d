"""/soap/: POST a SOAP 1.1 envelope, GET the WSDL (/soap/?wsdl)."""

import threading

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from lxml import etree
from spyne.server.django import DjangoServer, DjangoView

from integrations.formats.xml_elements import xml_node_count
from integrations.soap.app import build_application


class _Server(DjangoServer):
    """spyne caches the first WSDL it builds, service address included, for every later
    caller: one reached as crm.example.com would be told to post to the host the first caller
    used. Nor can it build a second one: asked again for another address, its builder leaves
    half the operations out. So the WSDL is built once, under a lock (spyne's builder is not
    thread-safe), and each address gets a copy with its own ``soap:address`` (hosts are
    limited by ALLOWED_HOSTS)."""

    def __init__(self, app) -> None:
        super().__init__(app, cache_wsdl=False)
        self._built: bytes | None = None
        self._wsdls: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def handle_wsdl(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        address = request.build_absolute_uri(request.path)
        with self._lock:
            if self._built is None:
                self._built = super().handle_wsdl(request, *args, **kwargs).content
            if address not in self._wsdls:
                self._wsdls[address] = _with_service_address(self._built, address)
        return HttpResponse(self._wsdls[address], content_type="text/xml; charset=utf-8")


_WSDL_SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"


def _with_service_address(wsdl: bytes, address: str) -> bytes:
    """The WSDL with every port's ``soap:address`` pointing at `address`."""
    document = etree.fromstring(wsdl)
    for port_address in document.iter(f"{{{_WSDL_SOAP}}}address"):
        port_address.set("location", address)
    return etree.tostring(document, xml_declaration=True, encoding="UTF-8")


_SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
# The largest operation (a contact with every custom field and tag) has a few thousand; each
# node costs libxml2 and spyne ~150 bytes, and 700,000 attributes grew a worker by 645 MB.
MAX_XML_NODES = 100_000


_spyne_view = DjangoView.as_view(server=_Server(build_application()))


@csrf_exempt  # partners authenticate every message with WS-Security, not a session cookie
def soap_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    limit = settings.API_MAX_REQUEST_BYTES
    try:
        too_large = int(request.META.get("CONTENT_LENGTH") or 0) > limit
        request.body  # noqa: B018  read here, within Django's cap, not inside spyne
    except (RequestDataTooBig, ValueError):
        too_large = True
    if too_large:
        return _fault_response(
            "Client.RequestTooLarge",
            _("SOAP requests are limited to %(limit)d bytes.") % {"limit": limit},
        )
    if xml_node_count(request.body) > MAX_XML_NODES:
        return _fault_response(
            "Client.RequestTooLarge",
            _("SOAP requests are limited to %(limit)d elements and attributes.")
            % {"limit": MAX_XML_NODES},
        )
    response = _spyne_view(request, *args, **kwargs)
    if response.status_code == 500:
        # SOAP 1.1 (WS-I Basic Profile R1126) answers every Fault with HTTP 500. spyne has
        # already logged the real server errors; a client's mistake is no "Internal Server
        # Error" for Django's request log.
        response._has_been_logged = True
    return response


def _fault_response(code: str, message: str) -> HttpResponse:
    """A Fault for what is refused before spyne sees the request."""
    envelope = etree.Element(f"{{{_SOAP_ENV}}}Envelope", nsmap={"soap11env": _SOAP_ENV})
    fault = etree.SubElement(
        etree.SubElement(envelope, f"{{{_SOAP_ENV}}}Body"), f"{{{_SOAP_ENV}}}Fault"
    )
    etree.SubElement(fault, "faultcode").text = f"soap11env:{code}"
    etree.SubElement(fault, "faultstring").text = message
    response = HttpResponse(
        etree.tostring(envelope, xml_declaration=True, encoding="UTF-8"),
        status=500,
        content_type="text/xml; charset=utf-8",
    )
    response._has_been_logged = True
    return response
