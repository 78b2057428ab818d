"""Template context for the layout: the navigation, with entries only for pages that exist."""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from customers.web.exchange_common import MANAGE_INTEGRATIONS

# (url name, label, the first path segment that marks it current)
_NAVIGATION = (
    ("web:dashboard", _("Dashboard"), ""),
    ("web:contact-list", _("Contacts"), "contacts"),
    ("web:company-list", _("Companies"), "companies"),
    ("web:deal-list", _("Deals"), "deals"),
    ("web:deal-board", _("Pipeline"), "deals/board"),
    ("web:import-new", _("Import"), "imports"),
    ("web:integration-list", _("Integrations"), "integrations"),
    ("web:custom-field-list", _("Custom fields"), "settings"),
)

# Entries shown only to users who may open the page (others would get a 403).
_REQUIRED_PERMISSION = {
    "web:integration-list": MANAGE_INTEGRATIONS,
    "web:custom-field-list": "customers.change_customfield",
}


def navigation(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    path = request.path.strip("/")
    entries = []
    for names, label, segment in _NAVIGATION:
        required = _REQUIRED_PERMISSION.get(names)
        if required and not request.user.has_perm(required):
            continue
        url = _first_url(names if isinstance(names, tuple) else (names,))
        if url is None:
            continue
        entries.append({"url": url, "label": label, "segment": segment})
    # The longest matching segment is the current page ("deals/board" beats "deals").
    matches = [e for e in entries if e["segment"] and (path + "/").startswith(e["segment"] + "/")]
    current = max(matches, key=lambda e: len(e["segment"]), default=None)
    if current is None and path == "":
        current = entries[0] if entries else None
    for entry in entries:
        entry["current"] = entry is current
    return {"navigation": entries}


def _first_url(names: tuple[str, ...]) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None
