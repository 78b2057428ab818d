"""Single-value validators shared by models and doors."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from customers import crypto

# E.164 allows at most 15 digits with the country code; fewer than 6 is never a real number.
_MIN_PHONE_DIGITS = 6
_MAX_PHONE_DIGITS = 15


def validate_phone(value: str) -> None:
    allowed = set("0123456789+-()./ ")
    if any(char not in allowed for char in value.strip()) or value.strip().count("+") > 1:
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
