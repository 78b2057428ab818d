"""Single-value validators shared by models and doors."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers import crypto

# E.164 allows at most 15 digits with the country code; fewer than 6 is never a real number.
_MIN_PHONE_DIGITS = 6
_MAX_PHONE_DIGITS = 15


_PHONE_CHARACTERS = re.compile(r"[0-9+\-()./ ]*")


def validate_phone(value: str) -> None:
    stripped = value.strip()
    if not _PHONE_CHARACTERS.fullmatch(stripped) or stripped.count("+") > 1:
        raise ValidationError(
            _("Enter a phone number using digits, spaces, '+', '-', '(', ')', '.' or '/'."),
            code="invalid_phone",
        )
    digits = crypto.normalize_phone(value)
    if not _MIN_PHONE_DIGITS <= len(digits) <= _MAX_PHONE_DIGITS:
        raise ValidationError(
            _("Enter a phone number of 6 to 15 digits including the country code."),
            code="invalid_phone",
        )
