"""WS-Security UsernameToken for the SOAP door: username = the API key's user, password = the
key, as ``zeep.wsse.username.UsernameToken(user, key)`` sends it (PasswordText).

Scopes, model permissions and PII access are decided by the same functions as for REST.
"""

import math
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from lxml import etree

from customers.actors import Actor, Door
from integrations.api_auth import ApiKeyRateThrottle, load_permissions
from integrations.models import ApiKey
from integrations.services import api_keys

WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
PASSWORD_TEXT = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordText"
)
# What each kind of operation amounts to in REST terms, so both doors ask the same question.
_METHODS = {"read": "GET", "create": "POST", "update": "PUT", "delete": "DELETE"}
_MODEL_ACTIONS = {"read": "view", "create": "add", "update": "change", "delete": "delete"}


class AuthenticationFailed(Exception):
    """No usable credentials; the message is safe to show."""


class PermissionDenied(Exception):
    """Authenticated, but the key or its user may not do this."""


class Throttled(Exception):
    """The key has used up its request budget for now."""


@dataclass(frozen=True)
class Caller:
    api_key: ApiKey

    @property
    def user(self) -> Any:
        return self.api_key.user

    @property
    def can_view_pii(self) -> bool:
        return api_keys.api_key_can_view_pii(self.api_key)

    @property
    def actor(self) -> Actor:
        return Actor.for_api_key(self.api_key, door=Door.SOAP)

    def require(self, *, resource: str, action: str, model: type[models.Model]) -> None:
        """`action` is read, create, update or delete on `resource` ("contacts" …)."""
        opts = model._meta
        refusal = api_keys.api_key_refusal(
            self.api_key,
            resource=resource,
            method=_METHODS[action],
            permission=f"{opts.app_label}.{_MODEL_ACTIONS[action]}_{opts.model_name}",
        )
        if refusal:
            raise PermissionDenied(refusal)


def authenticate(header_elements: list[etree._Element] | None) -> Caller:
    """The caller named by the envelope's wsse:Security header, or AuthenticationFailed."""
    security = next(
        (e for e in header_elements or () if e.tag == f"{{{WSSE_NS}}}Security"),
        None,
    )
    token = security.find(f"{{{WSSE_NS}}}UsernameToken") if security is not None else None
    if token is None:
        raise AuthenticationFailed(
            _(
                "Authentication required: send a WS-Security UsernameToken (username = your "
                "user, password = your API key)."
            )
        )
    username = (token.findtext(f"{{{WSSE_NS}}}Username") or "").strip()
    password = token.find(f"{{{WSSE_NS}}}Password")
    if password is None or not username:
        raise AuthenticationFailed(_("The UsernameToken needs a Username and a Password."))
    if password.get("Type", PASSWORD_TEXT) != PASSWORD_TEXT:
        # A digest needs the plaintext key on the server; only its hash is stored.
        raise AuthenticationFailed(_("Only PasswordText is supported; send it over HTTPS."))
    try:
        api_key = api_keys.api_key_verify((password.text or "").strip())
    except api_keys.InvalidApiKey as error:
        raise AuthenticationFailed(str(error)) from None
    if api_key.user.get_username() != username:
        raise AuthenticationFailed(_("Invalid API key."))  # same answer as a wrong key
    load_permissions(api_key.user)  # REST's one-query permission load, so both doors match
    return Caller(api_key=api_key)


def check_rate(who: Caller) -> None:
    """REST's per-key budget (``DEFAULT_THROTTLE_RATES["api_key"]``) under the same cache key,
    so a key's SOAP and REST calls count against one budget."""
    throttle = ApiKeyRateThrottle()
    request = SimpleNamespace(auth=who.api_key, user=who.user)  # all the throttle reads
    if not throttle.allow_request(request, view=None):
        retry = math.ceil(throttle.wait() or 1)
        raise Throttled(
            _("Request limit reached for this API key; retry in %(seconds)d s.")
            % {"seconds": retry}
        )
