"""Who may read personal data, and how it looks to everyone else."""

import re
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.crypto import normalize_phone

VIEW_PII_PERMISSION = "customers.view_pii"
PII_FIELDS = ("email", "phone", "address")
_WRITTEN_COUNTRY_CODE = re.compile(r"^(?:\+|00)(\d{1,3})[\s\-.(]")
_PHONE_LIKE = re.compile(r"^\+?[\d\s\-().]{6,}$")


def looks_like_email(term: str) -> bool:
    return "@" in term


def looks_like_phone(term: str) -> bool:
    """Digits (6 or more) written as a phone number is written: a search box, a log line and
    a query parameter all treat such a value as personal data."""
    term = term.strip()
    return bool(_PHONE_LIKE.match(term)) and sum(ch.isdigit() for ch in term) >= 6


# An email address, or a run of six or more digits written the way phone numbers are.
_EMAIL_IN_TEXT = re.compile(r"[^\s\"'<>,;:()\[\]{}]+@[^\s\"'<>,;:()\[\]{}]+\.[A-Za-z]{2,}")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d\s\-().]{4,}\d")


def scrub_text(text: str) -> str:
    """`text` with every email address and phone-like number replaced by ``***``: for free
    text from outside (a receiver's or a source's error answer) that is kept in a row, where
    an echoed record would otherwise put personal data at rest in the clear."""
    text = _EMAIL_IN_TEXT.sub("***", text)
    return _PHONE_IN_TEXT.sub(
        lambda match: "***" if sum(ch.isdigit() for ch in match[0]) >= 6 else match[0], text
    )


def can_view_pii(user: Any) -> bool:
    return bool(user and user.is_active and user.has_perm(VIEW_PII_PERMISSION))


#: The API-key scope that reading, and looking records up by, personal data needs.
PII_READ_SCOPE = "pii:read"


def key_can_view_pii(user: Any, scopes: Iterable[str]) -> bool:
    """Through an API key, personal data needs the user's ``view_pii`` and the key's
    ``pii:read``: one rule for the REST masking, the lookup gate and every actor."""
    return can_view_pii(user) and PII_READ_SCOPE in set(scopes)


def check_pii_lookup(names: Iterable[str], *, allowed: bool) -> None:
    """Refuse exact lookups by a personal-data value (an email, a phone, a PII custom field, a
    match by email) to a caller who may not read personal data: a match, or its absence, would
    tell that caller whether a person with that value exists. The refusal depends only on the
    request, never on the data, so it tells nothing either. `allowed` is the caller's
    ``can_view_pii`` (for an API key: the user's ``view_pii`` and the key's ``pii:read``);
    `names` are the parameters that look up by personal data, each named in the error."""
    names = list(names)
    if names and not allowed:
        message = _(
            "Looking records up by personal data needs the right to read it "
            "(the view_pii permission and, for an API key, the pii:read scope)."
        )
        raise ValidationError({name: [message] for name in names})


def mask_email(value: str | None) -> str | None:
    """'zhang.wei@example.com' -> 'z***@example.com': enough to recognise, not to use."""
    if not value:
        return value
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(value: str | None) -> str | None:
    """'+86 138 0013 1234' -> '+86 *** **** 1234' (the country code and the last four digits)."""
    if not value:
        return value
    digits = normalize_phone(value)
    written_code = _WRITTEN_COUNTRY_CODE.match(value.strip())
    if digits.startswith(settings.PHONE_DEFAULT_COUNTRY_CODE):
        country = settings.PHONE_DEFAULT_COUNTRY_CODE
    else:
        country = written_code.group(1) if written_code else ""
    prefix = f"+{country} " if country else ""
    return f"{prefix}*** **** {digits[-4:]}"


def mask_address(value: str | None) -> str | None:
    return "***" if value else value


MASKERS = {"email": mask_email, "phone": mask_phone, "address": mask_address}


def masked(field_name: str, value: str | None) -> str | None:
    return MASKERS[field_name](value)
