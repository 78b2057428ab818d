"""The spyne application: services, a hardened SOAP 1.1 protocol, and the one place where
every request is authenticated, run in a transaction and its errors turned into Faults."""

import logging

import spyne.const
from django.db import transaction
from django.utils.translation import gettext as _
from spyne import Application, Fault
from spyne.protocol.soap import Soap11

from customers import selectors
from integrations.soap import auth, faults
from integrations.soap.companies import CompanyService
from integrations.soap.contacts import ContactService
from integrations.soap.deals import DealService
from integrations.soap.faults import InvalidRequest
from integrations.soap.serialize import FastSoap11
from integrations.soap.types import TNS

# spyne logs every client mistake (and the whole offending document) at ERROR: a caller's bad
# envelope is not our error, and a hostile one should not fill the logs.
for _name in ("spyne.application.client", "spyne.protocol.soap.soap11.invalid"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)


def _dtd_refused() -> Fault:
    return Fault("Client.SecurityError", _("DTDs and entity declarations are not allowed."))


# spyne runs a full gc.collect() after a request at most once a second, to release MTOM
# attachment files we never accept: ~150 ms of a worker's time each, measured here.
spyne.const.MIN_GC_INTERVAL = float("inf")


class HardenedSoap11(Soap11):
    """spyne's lxml parser already loads no DTD, resolves no entity and opens no network;
    this also refuses any document that declares a DTD (XXE, billion laughs), so entity
    references never reach the services as silently empty text."""

    def create_in_document(self, ctx, charset=None):
        # A DTD may only precede the root element; in element text "<!" must be escaped, so
        # this only ever matches a DTD (or a comment or CDATA quoting one). Refused before
        # parsing: libxml2 would otherwise spend time on a billion-laughs declaration first.
        chunks = list(ctx.in_string)
        ctx.in_string = chunks
        if any(
            isinstance(chunk, bytes) and (b"<!DOCTYPE" in chunk or b"<!ENTITY" in chunk)
            for chunk in chunks
        ):
            raise _dtd_refused()
        super().create_in_document(ctx, charset)
        root, _ids = ctx.in_document
        docinfo = root.getroottree().docinfo
        if docinfo.doctype or docinfo.internalDTD is not None:
            raise _dtd_refused()


# What a search criterion may hold, as in every door: a 9 MB query became one LIKE pattern
# per word, which the database refused with a Server fault.
SEARCH_TEXT_MAX_CHARS = selectors.SEARCH_MAX_CHARS


def check_search_text(ctx) -> None:
    """Every text criterion of a Search operation within `SEARCH_TEXT_MAX_CHARS`; the
    operations themselves stay free of size rules."""
    if not ctx.method_request_string.rpartition("}")[2].startswith("Search"):
        return
    arguments = ctx.descriptor.in_message._type_info
    errors = {
        name: _("At most %(limit)d characters (got %(length)d).")
        % {"limit": SEARCH_TEXT_MAX_CHARS, "length": len(value)}
        for name, value in zip(arguments, ctx.in_object or (), strict=False)
        if isinstance(value, str) and len(value) > SEARCH_TEXT_MAX_CHARS
    }
    if errors:
        raise InvalidRequest(errors)


class CrmApplication(Application):
    def call_wrapper(self, ctx):
        """All or nothing: an operation either commits whole or writes nothing."""
        try:
            ctx.udc = auth.authenticate(ctx.in_header_doc)
            auth.check_rate(ctx.udc)
            check_search_text(ctx)
            with transaction.atomic():
                return super().call_wrapper(ctx)
        except Exception as error:
            fault = faults.to_fault(error)
            if fault is None:
                raise  # a bug: spyne answers a Server fault and logs it
            raise fault from None


def build_application() -> CrmApplication:
    return CrmApplication(
        [ContactService, CompanyService, DealService],
        tns=TNS,
        name="CrmService",
        in_protocol=HardenedSoap11(validator="lxml"),
        out_protocol=FastSoap11(),
    )
