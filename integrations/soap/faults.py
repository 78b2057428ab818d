"""Every SOAP failure as a Fault, translated once here (the SOAP twin of REST's
``customers.api.errors``; both shape a service's errors by ``customers.errors``).

Fault codes: ``Client.Authentication`` (no or bad WS-Security credentials),
``Client.PermissionDenied`` (scope or user permission missing), ``Client.Throttled`` (the key's
request budget, shared with REST, is used up), ``Client.NotFound`` (unknown id),
``Client.ValidationError`` (field errors, listed in ``<detail>``), ``Client.SecurityError``
(DTDs and entities), ``Server.Unavailable`` (the database cannot be reached: retry shortly;
nothing was written), plus spyne's own ``Client.XMLSyntaxError``, ``Client.SoapError``,
``Client.SchemaValidationError`` (wrong types) and ``Client.ResourceNotFound`` (unknown
operation). Anything else is a bug and answers ``Server``.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from lxml import etree
from spyne import Fault

from crm_project.server_errors import DATABASE_ERRORS, database_unavailable_message
from customers.errors import django_errors_as_dict
from integrations.soap import auth
from integrations.soap.types import TYPES_NS


class NotFound(Exception):
    """The record a request names does not exist."""

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(_("No %(kind)s has the id %(key)s.") % {"kind": kind, "key": repr(key)})


class InvalidRequest(ValidationError):
    """A door-level field error (a bad limit, a missing id): reported like a service's."""


def to_fault(error: Exception) -> Fault | None:
    """The Fault for a known error, or None for a bug (spyne then answers ``Server``)."""
    if isinstance(error, Fault):
        return error
    if isinstance(error, auth.AuthenticationFailed):
        return Fault("Client.Authentication", str(error))
    if isinstance(error, auth.PermissionDenied):
        return Fault("Client.PermissionDenied", str(error))
    if isinstance(error, auth.Throttled):
        return Fault("Client.Throttled", str(error))
    if isinstance(error, NotFound):
        return Fault("Client.NotFound", str(error))
    if isinstance(error, ValidationError):
        return validation_fault(error)
    if isinstance(error, DATABASE_ERRORS):
        return Fault("Server.Unavailable", database_unavailable_message())
    return None


def validation_fault(error: ValidationError) -> Fault:
    """faultstring names every field (``email: Enter a valid email address.``); ``<detail>``
    carries them one per ``<error field="…">`` for programs."""
    errors = django_errors_as_dict(error)
    summary = "; ".join(f"{field}: {' '.join(map(str, msgs))}" for field, msgs in errors.items())
    detail = etree.Element(f"{{{TYPES_NS}}}errors", nsmap={"crm": TYPES_NS})
    for field, messages in errors.items():
        for message in messages:
            item = etree.SubElement(detail, f"{{{TYPES_NS}}}error", field=field)
            item.text = str(message)
    return Fault(
        "Client.ValidationError",
        _("Invalid input: %(summary)s") % {"summary": summary},
        detail=detail,
    )
