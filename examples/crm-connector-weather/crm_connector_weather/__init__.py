"""Weather stations as companies: a self-contained example of a third-party connector.

It needs no network: the "service" is a fixed list of stations with an update counter, so the
example runs anywhere. A real connector would call its source in `records`.
"""

from typing import Any

from django.core.exceptions import ValidationError

from integrations.connectors import ConfigKey, Connector
from integrations.formats import Record

STATIONS = [
    {"code": "ZBAA", "name": "Beijing Capital", "country": "CN", "revision": 3},
    {"code": "ZSPD", "name": "Shanghai Pudong", "country": "CN", "revision": 5},
    {"code": "EDDF", "name": "Frankfurt am Main", "country": "DE", "revision": 2},
]


class WeatherStationConnector(Connector):
    name = "weather_stations"
    label = "Weather stations (example plugin)"
    config_keys = {
        "country": ConfigKey(str, help="Only stations of this country (ISO code)."),
        "token": ConfigKey(str, required=True, secret=True, help="The service's token."),
    }

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        country = config.get("country", "")
        if country and (len(country) != 2 or not country.isupper()):
            raise ValidationError({"config.country": "Use a two-letter upper-case code."})

    def records(self, cursor: str | None):
        since = int(cursor or 0)
        wanted = self.config.get("country")
        newest = since
        number = 0
        for station in STATIONS:
            if station["revision"] <= since or (wanted and station["country"] != wanted):
                continue
            number += 1
            newest = max(newest, station["revision"])
            yield Record(
                number,
                {
                    "external_id": f"wx-{station['code']}",
                    "name": station["name"],
                    "country": station["country"],
                },
            )
        return str(newest)
