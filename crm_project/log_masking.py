"""Personal data kept out of logs: the values of query parameters that carry it are replaced
by ``***`` in every URL a log line holds (access logs, runserver's request lines, gunicorn's
errors, any message of ours).

A parameter carries personal data when its name says so (``email``, ``phone``, ``address``
and their lookups, a ``cf_<name>`` custom field filter unless that field is known not to be
personal data) or its value looks like it (an email address anywhere; a phone number in a
search box). One function, ``mask_text``, serves the logging filter every handler carries
(``LOGGING`` in settings, Celery's handlers) and gunicorn's logger class.
"""

import logging
import re
from urllib.parse import unquote_plus

from django.apps import apps

from customers import pii

MASK = "***"
SEARCH_PARAMETERS = ("q", "search", "query")
CUSTOM_FIELD_PREFIX = "cf_"
# name=value inside a query string: after ?, & or ; up to the next separator, space or quote
_PARAMETER = re.compile(r"(?P<lead>[?&;])(?P<name>[^=&;?#\s\"'<>]+)=(?P<value>[^&;#\s\"'<>]*)")
_BARE_EMAIL = re.compile(r"[^\s\"'<>/?&;=:@]+@[A-Za-z0-9](?:[A-Za-z0-9-]*\.)+[A-Za-z]{2,}")


def is_personal_parameter(name: str, value: str) -> bool:
    """Whether the value of query parameter `name` is to be masked (`value` as sent)."""
    plain_name = unquote_plus(name).strip().lower()
    base = plain_name.split("__", 1)[0]
    if base in pii.PII_FIELDS:
        return True
    if base.startswith(CUSTOM_FIELD_PREFIX):
        return not _known_not_personal(base[len(CUSTOM_FIELD_PREFIX) :])
    plain_value = _decoded(value)
    if pii.looks_like_email(plain_value) and _BARE_EMAIL.search(plain_value):
        return True
    if "=" in plain_value and mask_text(plain_value) != plain_value:
        return True  # a URL inside a parameter (a login's ?next=) carrying personal data
    return base in SEARCH_PARAMETERS and pii.looks_like_phone(plain_value)


def _decoded(value: str, *, rounds: int = 3) -> str:
    """Percent-decoded until stable: a URL inside a parameter is encoded twice."""
    for _round in range(rounds):
        plain = unquote_plus(value)
        if plain == value:
            break
        value = plain
    return value


def mask_query(query: str) -> str:
    """A raw query string (``email=a%40b.cn&page=2``) with personal values masked."""
    if not query:
        return query
    return mask_text(f"?{query}")[1:]


def mask_text(text: str) -> str:
    """`text` with every personal query parameter value, and any bare email address,
    replaced by ``***``; anything else unchanged. Cheap when there is nothing to mask."""
    if not text or ("=" not in text and "@" not in text):
        return text

    def parameter(match: re.Match) -> str:
        if not is_personal_parameter(match["name"], match["value"]):
            return match[0]
        return f"{match['lead']}{match['name']}={MASK}"

    return _BARE_EMAIL.sub(MASK, _PARAMETER.sub(parameter, text))


def _known_not_personal(field_name: str) -> bool:
    """True only when the custom field definitions this process has already loaded (no query
    from a log line) say every field of that name is not personal data; unknown: masked."""
    if not apps.ready:  # a log line during start-up: assume personal
        return False
    from customers.custom_fields.values import _active_cache

    found = [
        definition.pii
        for _fingerprint, definitions in list(_active_cache.values())
        for definition in definitions
        if definition.name == field_name
    ]
    return bool(found) and not any(found)


class MaskPersonalData(logging.Filter):
    """Masks the formatted message of every record it sees (and keeps it: the arguments are
    merged in, so no handler formats the original again)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # malformed: logging's own error report says so
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def add_filter_to_handlers(logger: logging.Logger) -> None:
    """For loggers set up outside ``LOGGING`` (Celery's worker and task loggers)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskPersonalData) for f in handler.filters):
            handler.addFilter(MaskPersonalData())
