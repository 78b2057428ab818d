"""A signed-in user's stored language wins over the browser's Accept-Language."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

from customers.web import preferences


class UserLanguageMiddleware:
    """Runs after LocaleMiddleware and authentication. The preference is read from the session
    (filled at login and when the user switches), so a page view costs no extra query."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = preferences.session_language(request)
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        return response
