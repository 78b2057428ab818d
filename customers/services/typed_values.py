"""How a built-in field's value is read from what a door sent: a boolean, a number, a date.

One reader per type, with its one (translated) message, so REST's serializer fields and the
file import refuse "maybe" for a boolean in the same words. Lengths, choices, blank and the
fields' validators are not here: they are the model fields' own rules (``full_clean`` for the
services, ``imports.rows.clean_value`` for the import), worded by the model fields.
"""

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from customers.custom_fields.types import FALSE_WORDS, TRUE_WORDS

# "1,200.50": commas only between groups of three digits, so "1,5" (a decimal comma) is
# refused rather than read as fifteen.
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d*)?")


def read_boolean(value: Any) -> bool:
    """true/false, or a word a file or a form writes for one (yes, 1, 是…); empty is false."""
    if isinstance(value, bool):
        return value
    word = "" if value is None else str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS or word == "":
        return False
    raise ValidationError(_("Expected true or false, got %(value)s.") % {"value": repr(value)})


def read_decimal(value: Any) -> Decimal:
    """A finite number; thousands separators ("1,200.50", as spreadsheets write) are allowed.
    Digits and decimal places are the model field's rule, checked after."""
    if isinstance(value, bool):
        raise ValidationError(_("Expected a number, got %(value)s.") % {"value": repr(value)})
    text = str(value).strip()
    if "," in text and _THOUSANDS.fullmatch(text):
        text = text.replace(",", "")
    try:
        number = Decimal(text)
    except InvalidOperation:
        message = _("Expected a number, got %(value)s.") % {"value": repr(value)}
        raise ValidationError(message) from None
    if not number.is_finite():
        raise ValidationError(_("Expected a finite number."))
    return number


def read_date(value: Any) -> date:
    """A date as YYYY-MM-DD (a date and time is cut to its date, as a spreadsheet exports it)."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        message = _("Expected a date as YYYY-MM-DD, got %(value)s.") % {"value": repr(value)}
        raise ValidationError(message) from None
