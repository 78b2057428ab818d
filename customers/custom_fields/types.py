"""Each custom field type's one rule: turn what a door sent into the canonical stored value.

Stored values are plain JSON so every format carries them unchanged: text as strings, integers
as numbers, decimals as exact strings ("12.50"), dates as "YYYY-MM-DD", datetimes as ISO 8601 in
UTC, booleans as true/false, multi-choice as a list of strings.
"""

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from customers.models import CustomField
from customers.validators import validate_phone

Type = CustomField.Type

TEXT_MAX_LENGTH = 255
LONG_TEXT_MAX_LENGTH = 100_000
URL_MAX_LENGTH = 2000
INTEGER_RANGE = (-(2**53) + 1, 2**53 - 1)  # exact in every JSON reader, JavaScript included
DECIMAL_MAX_DIGITS = 30

TRUE_WORDS = {"true", "1", "yes", "y", "on", "是"}
FALSE_WORDS = {"false", "0", "no", "n", "off", "否"}

CHOICE_TYPES = {Type.CHOICE, Type.MULTI_CHOICE}
UNIQUE_TYPES = {Type.TEXT, Type.EMAIL, Type.PHONE}
PII_TYPES = {Type.TEXT, Type.LONG_TEXT, Type.EMAIL, Type.PHONE, Type.URL, Type.DATE}
RANGE_TYPES = {Type.INTEGER, Type.DECIMAL, Type.DATE, Type.DATETIME}


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def _not_a(message: str, value: Any) -> str:
    """A translated message naming the value the door sent, as Python writes it."""
    return message % {"value": repr(value)}


def _text(limit: int) -> Callable[[Any, CustomField], str]:
    def coerce(value: Any, field: CustomField) -> str:
        if isinstance(value, bool | dict | list):
            raise ValidationError(_("Expected text."))
        text = str(value)
        if len(text) > limit:
            raise ValidationError(
                _("At most %(limit)d characters (got %(length)d).")
                % {"limit": limit, "length": len(text)}
            )
        return text

    return coerce


def _integer(value: Any, field: CustomField) -> int:
    if isinstance(value, bool):
        raise ValidationError(_("Expected a whole number."))
    if type(value) is str and value.isascii() and value.lstrip("-").isdigit() and len(value) < 16:
        return int(value)  # plain digits (most cells of a file): fewer than 16 are in range
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(_not_a(_("Expected a whole number, got %(value)s."), value)) from None
    if number != number.to_integral_value():
        raise ValidationError(_not_a(_("Expected a whole number, got %(value)s."), value))
    if not INTEGER_RANGE[0] <= number <= INTEGER_RANGE[1]:
        raise ValidationError(_("The number is too large."))
    return int(number)


def _decimal(value: Any, field: CustomField) -> str:
    if isinstance(value, bool):
        raise ValidationError(_("Expected a decimal number."))
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValidationError(
            _not_a(_("Expected a decimal number, got %(value)s."), value)
        ) from None
    if not number.is_finite() or len(number.as_tuple().digits) > DECIMAL_MAX_DIGITS:
        raise ValidationError(_("Expected a finite decimal number of at most 30 digits."))
    return str(number)


def _date(value: Any, field: CustomField) -> str:
    if isinstance(value, datetime):
        raise ValidationError(_("Expected a date (YYYY-MM-DD), not a date and time."))
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise ValidationError(
            _not_a(_("Expected a date as YYYY-MM-DD, got %(value)s."), value)
        ) from None


def _datetime(value: Any, field: CustomField) -> str:
    moment = value if isinstance(value, datetime) else None
    if moment is None:
        try:
            moment = parse_datetime(str(value).strip())
        except ValueError:
            moment = None
    if moment is None:
        raise ValidationError(
            _not_a(_("Expected an ISO 8601 date and time, got %(value)s."), value)
        )
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+05:00 is before year 1 in UTC
        raise ValidationError(_("The time is out of range.")) from None
    text = moment.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _boolean(value: Any, field: CustomField) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValidationError(_not_a(_("Expected true or false, got %(value)s."), value))


def _choice(value: Any, field: CustomField) -> str:
    text = str(value)
    if text not in field.choices:
        raise ValidationError(
            _("%(value)s is not one of: %(choices)s.")
            % {"value": repr(text), "choices": ", ".join(field.choices)}
        )
    return text


def _multi_choice(value: Any, field: CustomField) -> list[str]:
    # "a|b" is how a CSV cell carries a list; choices never contain "|".
    items = value if isinstance(value, list | tuple) else str(value).split("|")
    chosen: list[str] = []
    for item in items:
        text = _choice(item, field)
        if text not in chosen:
            chosen.append(text)
    return chosen


_validate_url = URLValidator()  # built once each: they compile their expressions
_validate_email = EmailValidator()
# The common shape (http(s), a plain ASCII host name, no port or credentials), which the full
# URLValidator accepts too: checked in one small expression; anything else gets the full rules.
_PLAIN_URL = re.compile(
    r"https?://((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})(?:[/?#][^\s]*)?",
    re.IGNORECASE,
)


_email_text, _phone_text, _url_text = _text(254), _text(64), _text(URL_MAX_LENGTH)


def _email(value: Any, field: CustomField) -> str:
    text = _email_text(value, field).strip()
    _validate_email(text)
    return text


def _phone(value: Any, field: CustomField) -> str:
    text = _phone_text(value, field).strip()
    validate_phone(text)
    return text


def _url(value: Any, field: CustomField) -> str:
    text = _url_text(value, field).strip()
    plain = _PLAIN_URL.fullmatch(text) if text.isascii() else None
    if plain is None or len(plain.group(1)) > _MAX_HOST_LENGTH:
        _validate_url(text)
    return text


_MAX_HOST_LENGTH = 253


COERCERS: dict[str, Callable[[Any, CustomField], Any]] = {
    Type.TEXT: _text(TEXT_MAX_LENGTH),
    Type.LONG_TEXT: _text(LONG_TEXT_MAX_LENGTH),
    Type.INTEGER: _integer,
    Type.DECIMAL: _decimal,
    Type.DATE: _date,
    Type.DATETIME: _datetime,
    Type.BOOLEAN: _boolean,
    Type.CHOICE: _choice,
    Type.MULTI_CHOICE: _multi_choice,
    Type.EMAIL: _email,
    Type.PHONE: _phone,
    Type.URL: _url,
}


def coerce(field: CustomField, value: Any) -> Any:
    """The canonical stored value, or None for an empty one; raises ValidationError."""
    return coercer(field)(value)


def coercer(field: CustomField) -> Callable[[Any], Any]:
    """`coerce` for one field, with the type's rule looked up once (an import applies the same
    definitions to every row)."""
    convert = COERCERS[field.type]
    strips = field.type not in (Type.TEXT, Type.LONG_TEXT)

    if not strips:  # text: a string within the limit is its own value (the usual cell)
        limit = TEXT_MAX_LENGTH if field.type == Type.TEXT else LONG_TEXT_MAX_LENGTH

        def coerce_text(value: Any) -> Any:
            if type(value) is str and 0 < len(value) <= limit:
                return value
            if value is None or value == "" or value == []:
                return None
            return convert(value, field)

        return coerce_text

    def coerce_value(value: Any) -> Any:
        if value is None or value == "" or value == []:
            return None
        if strips and isinstance(value, str):
            value = value.strip()
            if value == "":
                return None
        return convert(value, field)

    return coerce_value
