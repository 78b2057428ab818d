"""A JSON encoder for the values our records hold, writing exactly what DRF's encoder writes.

The codecs, the exports and stored responses (idempotency replays) turn dates, UUIDs, Decimals
and lazy translations into JSON the way the REST API does, without importing DRF (whose encoder
also imports the ORM). `tests/integrations/test_formats_json_values.py` holds the two
side by side.
"""

import contextlib
import datetime
import decimal
import ipaddress
import json
import sys
import uuid

from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.functional import Promise

_IP_TYPES = (
    ipaddress.IPv4Address,
    ipaddress.IPv6Address,
    ipaddress.IPv4Network,
    ipaddress.IPv6Network,
    ipaddress.IPv4Interface,
    ipaddress.IPv6Interface,
)


class JSONEncoder(json.JSONEncoder):
    """`rest_framework.utils.encoders.JSONEncoder`, branch for branch and in its order: an
    aware datetime in UTC ends in "Z", a Decimal is a float, a timedelta its seconds as text."""

    def default(self, obj):
        if isinstance(obj, Promise):
            return force_str(obj)
        if isinstance(obj, datetime.datetime):
            representation = obj.isoformat()
            if representation.endswith("+00:00"):
                representation = representation[:-6] + "Z"
            return representation
        if isinstance(obj, datetime.date):
            return obj.isoformat()
        if isinstance(obj, datetime.time):
            if timezone.is_aware(obj):
                raise ValueError("JSON can't represent timezone-aware times.")
            return obj.isoformat()
        if isinstance(obj, datetime.timedelta):
            return str(obj.total_seconds())
        if isinstance(obj, decimal.Decimal):
            return float(obj)
        if isinstance(obj, (uuid.UUID, *_IP_TYPES)):
            return str(obj)
        if _is_queryset(obj):
            return tuple(obj)
        if isinstance(obj, bytes):
            return obj.decode()
        if hasattr(obj, "tolist"):  # numpy arrays and scalars
            return obj.tolist()
        if hasattr(obj, "__getitem__"):
            cls = list if isinstance(obj, list | tuple) else dict
            with contextlib.suppress(Exception):
                return cls(obj)
            return None  # as DRF's: a mapping-like object that is not one becomes null
        if hasattr(obj, "__iter__"):
            return tuple(obj)
        return super().default(obj)


def _is_queryset(obj) -> bool:
    """Without importing the ORM: if Django's query module is not loaded, nothing is a QuerySet."""
    query = sys.modules.get("django.db.models.query")
    return query is not None and isinstance(obj, query.QuerySet)
