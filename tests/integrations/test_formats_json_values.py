"""The codecs' JSON encoder writes what DRF's writes, value for value, without importing DRF."""

import datetime
import decimal
import ipaddress
import json
import uuid
from collections import UserDict

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder

from integrations.formats.json_values import JSONEncoder

UTC = datetime.UTC
SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


class _Sequence:
    """Indexable but neither a list nor a mapping: DRF's encoder gives up on it (null)."""

    def __getitem__(self, index):
        raise IndexError(index)


class _Array:
    def tolist(self):
        return [1, 2]


VALUES = [
    gettext_lazy("Lead"),
    datetime.datetime(2026, 12, 7, 3, 4, 5, 123456, tzinfo=UTC),
    datetime.datetime(2026, 12, 7, 3, 4, 5, tzinfo=SHANGHAI),
    datetime.datetime(2026, 12, 7, 3, 4, 5),
    datetime.date(2026, 12, 7),
    datetime.time(9, 30, 1, 5),
    datetime.timedelta(days=1, seconds=3, microseconds=7),
    decimal.Decimal("12.50"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    ipaddress.ip_address("10.0.0.1"),
    ipaddress.ip_network("2001:db8::/32"),
    ipaddress.ip_interface("192.168.0.1/24"),
    "文字".encode(),
    _Array(),
    UserDict({"a": 1}),
    _Sequence(),
    (item for item in ("a", "b")),
    {"nested": [decimal.Decimal("0.1"), datetime.date(2026, 1, 2)]},
]


@pytest.mark.parametrize("value", VALUES, ids=lambda value: type(value).__name__)
def test_each_value_is_written_as_drf_writes_it(value):
    if type(value).__name__ == "generator":  # consumed once: one per encoder
        ours, theirs = iter(["a", "b"]), iter(["a", "b"])
    else:
        ours = theirs = value

    assert json.dumps(ours, cls=JSONEncoder) == json.dumps(theirs, cls=DRFJSONEncoder)


@pytest.mark.django_db
def test_a_queryset_is_written_as_its_rows_like_drf():
    from django.contrib.auth.models import Group

    Group.objects.create(name="json values")
    rows = Group.objects.filter(name="json values").values_list("name", flat=True)

    assert json.dumps(rows, cls=JSONEncoder) == json.dumps(rows, cls=DRFJSONEncoder)
    assert json.dumps(rows, cls=JSONEncoder) == '["json values"]'


def test_an_aware_time_is_refused_like_drf():
    aware = datetime.time(9, 30, tzinfo=UTC)

    with pytest.raises(ValueError, match="timezone-aware"):
        json.dumps(aware, cls=JSONEncoder)
    with pytest.raises(ValueError, match="timezone-aware"):
        json.dumps(aware, cls=DRFJSONEncoder)


def test_an_unknown_object_is_refused_like_drf():
    with pytest.raises(TypeError):
        json.dumps(object(), cls=JSONEncoder)
