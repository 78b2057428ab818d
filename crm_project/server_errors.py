"""What a request that failed on the server answers: 503, not 500, when the database is away.

A database that cannot be reached, or drops the connection mid-request (a restart, a failover,
PgBouncer going away), is no bug: the request's transaction rolled back with the connection,
so nothing was half-written, and the same request a few seconds later will likely succeed. The
client is told so (503 with ``Retry-After``) in the shape of its door: REST's JSON error
(``customers.api.errors`` answers it for what DRF handles; this covers what fails before DRF,
in a middleware), a plain page for the web UI and the admin. SOAP answers a
``Server.Unavailable`` fault (``integrations.soap.faults``). Anything else is a bug and gets
Django's own 500 page.

This is the project's ``handler500``: Django calls it for every uncaught exception, raised in
a view or in a middleware, while that exception is still being handled, so it can look at it.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views import defaults

RETRY_AFTER_SECONDS = 5
DATABASE_ERRORS = (OperationalError, InterfaceError)


def database_unavailable_message() -> str:
    return _("The database is unavailable; try again shortly.")


def server_error(request: HttpRequest) -> HttpResponse:
    error = sys.exc_info()[1]
    if not isinstance(error, DATABASE_ERRORS):
        return defaults.server_error(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(
            {
                "code": "database_unavailable",
                "message": database_unavailable_message(),
                "errors": {},
            },
            status=503,
        )
    else:
        # No context processors, no base template: they would ask the database again.
        page = render_to_string("503.html", {"message": database_unavailable_message()})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
