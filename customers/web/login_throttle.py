"""Throttled log-ins (django-axes), on the UI's login and the admin's alike.

What is counted: failed log-ins per account and per address (``LOGIN_LOCKOUT_PARAMETERS``,
``username,ip_address`` by default). After ``LOGIN_FAILURE_LIMIT`` failures within
``LOGIN_LOCKOUT_MINUTES``, that account (from anywhere) and that address (for any account)
are refused, even with the right password, until the failures are that old. The settings are
read in ``crm_project/settings.py``.

Why both, and the price: per address alone lets a botnet try one account from many addresses;
per account alone lets one address try every account. Counting per account means anyone can
lock a victim out for a while by typing wrong passwords for their name; that lock is bounded:
it ends ``LOGIN_LOCKOUT_MINUTES`` after the failure that set it (failures while locked do not
extend it), and an administrator lifts it at once (``manage.py axes_reset_username NAME``,
``axes_reset_ip ADDRESS``, or deleting the access attempt in the admin). A site that would
rather not lock accounts globally sets ``LOGIN_LOCKOUT_PARAMETERS=username+ip_address,
ip_address`` (an account is locked only from the address that failed).

A successful log-in does not clear the counts: with counts per address, an attacker could
otherwise log in to their own account between guesses at someone else's and never be locked.

The address is the connection's; behind reverse proxies (``TRUSTED_PROXY_COUNT``) it is the one
the nearest trusted proxy saw, from ``X-Forwarded-For``, never an address the client wrote
itself (``crm_project.proxies.client_address``, which the REST API's throttle uses too).
Without that setting behind a proxy, every visitor would share the proxy's address.
"""

import math

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import ngettext

from crm_project.proxies import client_address


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    """429 with when to try again (the ``Retry-After`` header, and in words) and how to get
    unlocked sooner, on whichever login page was used."""
    minutes = _minutes_left(request, credentials)
    response = render(
        request,
        "web/account/locked_out.html",
        {
            "minutes": minutes,
            "message": ngettext(
                "Too many failed log-ins for this account or from this address. "
                "Try again in %(minutes)d minute, or ask an administrator to unlock the "
                "account.",
                "Too many failed log-ins for this account or from this address. "
                "Try again in %(minutes)d minutes, or ask an administrator to unlock the "
                "account.",
                minutes,
            )
            % {"minutes": minutes},
        },
        status=429,
    )
    response["Retry-After"] = str(minutes * 60)
    return response


def _minutes_left(request: HttpRequest, credentials: dict | None) -> int:
    """Until the most recent counted failure is older than the cool-off (an upper bound when
    both the account and the address are locked)."""
    cool_off = settings.AXES_COOLOFF_TIME
    username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD) or request.POST.get(
        "username"
    )
    address = getattr(request, "axes_ip_address", None) or client_address(request)
    latest = AccessAttempt.objects.filter(Q(username=username) | Q(ip_address=address)).aggregate(
        latest=Max("attempt_time")
    )["latest"]
    if latest is None:
        return math.ceil(cool_off.total_seconds() / 60)
    seconds = (latest + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))
