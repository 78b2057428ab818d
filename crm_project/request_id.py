"""One id per request, in every log line the request causes and on its response.

The id comes from the proxy in front (``X-Request-ID``) when it is a sane token, so that the
proxy's, the app's and the workers' logs of one request can be joined; otherwise it is made
here. It lives in a context variable while the request is served, so code that logs needs no
request object; a logging filter copies it onto each record, and ``crm_project/celery.py``
carries it into the tasks the request queues.
"""

import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
# Written into logs and echoed to clients: anything else could forge log lines or headers.
_SANE_TOKEN = re.compile(r"[A-Za-z0-9._-]{1,128}")

_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request (or of the request that queued the task) being served, if any."""
    return _current.get()


def sane_or_none(candidate: object) -> str | None:
    """`candidate` if it is at most 128 letters, digits, dots, underscores and hyphens."""
    if isinstance(candidate, str) and _SANE_TOKEN.fullmatch(candidate):
        return candidate
    return None


def bind(request_id: str) -> Token:
    """Make `request_id` current until `unbind` is given the returned token."""
    return _current.set(request_id)


def unbind(token: Token) -> None:
    _current.reset(token)


@contextmanager
def bound(request_id: str | None) -> Iterator[None]:
    token = _current.set(request_id)
    try:
        yield
    finally:
        _current.reset(token)


class RequestIdMiddleware:
    """Takes the proxy's ``X-Request-ID`` or makes one (a uuid4 in hex), makes it current and
    sets it on the response.

    The id stays current until the response is closed (Django's ``request_finished``), not
    just until this returns: Django logs a 4xx answer after the whole middleware chain has
    returned, and the server drains a streamed export after that too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = sane_or_none(request.headers.get(HEADER)) or uuid.uuid4().hex
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="crm_project.request_id.forget")
def _forget_request_id(**kwargs: object) -> None:
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Gives every record a ``request_id`` attribute: the one it was logged with (gunicorn's
    access log passes the response's), else the current one, else None."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = _current.get()
        return True
