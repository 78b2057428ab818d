"""Refuse oversized API request bodies up front, before anything reads them."""

import json
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext as _

# Endpoints that take whole files; they have the import size limit instead.
UPLOAD_PATHS = ("/api/v1/imports/",)


class ApiRequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            uploads = request.path.startswith(UPLOAD_PATHS)
            limit = settings.IMPORT_MAX_BYTES if uploads else settings.API_MAX_REQUEST_BYTES
            if length > limit:
                # LocaleMiddleware has not run yet: the refusal is read in the caller's language
                with translation.override(translation.get_language_from_request(request)):
                    return _too_large(limit, length)
        return self.get_response(request)


def _too_large(limit: int, length: int) -> HttpResponse:
    body = {
        "code": "request_too_large",
        "message": _(
            "Request bodies are limited to %(limit)d bytes; this one has "
            "%(length)d. Split it, or use the bulk import endpoint for files."
        )
        % {"limit": limit, "length": length},
        "errors": {},
    }
    return HttpResponse(json.dumps(body), status=413, content_type="application/json")
