"""The client's address behind this deployment's reverse proxies (``TRUSTED_PROXY_COUNT``).

One answer for every door that counts requests per address: the log-in throttle (django-axes,
``AXES_CLIENT_IP_CALLABLE``, on the UI's and the admin's login) and the REST API's request
throttle. It is deployment knowledge, not a door's, so it lives with the settings it reads.
"""

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    """The client's address: the connection's, or behind ``TRUSTED_PROXY_COUNT`` proxies the
    address the outermost trusted one received the request from. Each proxy appends the
    address it saw to X-Forwarded-For, so the trusted entries are the last ones; whatever
    stands before them the client could have written."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return request.META.get("REMOTE_ADDR")
    forwarded = [
        address.strip()
        for address in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if address.strip()
    ]
    if len(forwarded) < proxies:  # not through the proxies: the connection is all we know
        return request.META.get("REMOTE_ADDR")
    return forwarded[-proxies]
