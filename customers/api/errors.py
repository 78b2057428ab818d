"""One error shape for every REST failure: ``{"code", "message", "errors"}``.

``errors`` maps field names to lists of messages (``non_field_errors`` for the rest). Service
ValidationErrors (Django's) are translated here, once, for every endpoint.
"""

from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from crm_project.server_errors import RETRY_AFTER_SECONDS, database_unavailable_message
from crm_project.storage_errors import StorageUnavailable
from customers.errors import NON_FIELD, django_errors_as_dict

_MESSAGES = {
    "invalid": gettext_lazy("Some fields are invalid."),
    "parse_error": gettext_lazy("The request body could not be parsed."),
}


def field_errors(detail: Any) -> dict[str, Any]:
    if isinstance(detail, dict):
        return {
            key: value if isinstance(value, list | dict) else [value]
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {NON_FIELD: detail}
    return {}


def form_limit_error(exc: Exception) -> exceptions.ParseError:
    """Django's own form-body limits, raised while a form or multipart body is parsed: a 400
    in our shape (Django alone answers them with an HTML page)."""
    if isinstance(exc, TooManyFieldsSent):
        message = _("A form body may hold at most %(limit)d fields.") % {
            "limit": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
        }
    elif isinstance(exc, TooManyFilesSent):
        message = _("A form body may hold at most %(limit)d files.") % {
            "limit": settings.DATA_UPLOAD_MAX_NUMBER_FILES
        }
    else:
        message = _("A form body may hold at most %(limit)d bytes besides its files.") % {
            "limit": settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        }
    return exceptions.ParseError(message)


class StorageUnavailableError(exceptions.APIException):
    """503: the file store cannot be reached; nothing was stored, the same request may be
    sent again later."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_code = StorageUnavailable.code


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, StorageUnavailable):
        exc = StorageUnavailableError(StorageUnavailable.user_message())
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=django_errors_as_dict(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, TooManyFieldsSent | TooManyFilesSent | RequestDataTooBig):
        exc = form_limit_error(exc)
    elif isinstance(exc, OperationalError):
        return database_unavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a bug: let Django answer 500 and log it
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", str(_MESSAGES["invalid"])
        errors = field_errors(response.data)
    else:
        detail = getattr(exc, "detail", None)
        message = str(detail) if isinstance(detail, str) else str(_MESSAGES.get(code, exc))
        errors = field_errors(detail) if isinstance(detail, dict | list) else {}
    response.data = {"code": code, "message": message, "errors": errors}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS:
        response.data["retry_after"] = response.headers.get("Retry-After")
    return response


def database_unavailable() -> Response:
    """The database could not be reached or dropped the connection (a restart, a failover, a
    pooler going away): a 503 the client may retry, in our shape, not a 500 HTML page. The
    transaction rolled back with the connection, so nothing was half-written; a write whose
    commit was acknowledged before the drop did happen, and an Idempotency-Key makes its retry
    safe."""
    set_rollback()
    response = Response(
        {
            "code": "database_unavailable",
            "message": database_unavailable_message(),
            "errors": {},
        },
        status=status.HTTP_503_SERVICE_UNAVAILABLE,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
