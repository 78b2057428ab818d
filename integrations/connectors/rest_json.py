"""`rest_json`: pages of JSON records from an HTTP API, since a saved cursor."""

import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import requests
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from integrations import outbound
from integrations.connectors.base import (
    ConfigKey,
    Connector,
    ConnectorError,
    RecordStream,
    dotted,
    newest,
)
from integrations.formats import Record

MAX_PAGES = 100_000  # a bound on a source whose next link never ends
MAX_RETRY_AFTER = 120.0  # seconds we are willing to wait when the source says 429
RETRIES = 3
RETRY_PAUSE_SECONDS = 1.0  # the pause after the first failed GET; each retry doubles it


class RestJsonConnector(Connector):
    name = "rest_json"
    label = "REST API (JSON pages)"
    config_keys = {
        "url": ConfigKey(str, required=True, help="The first page's URL."),
        "records_path": ConfigKey(
            str, help="Dotted path to the list inside a page; empty when the page is the list."
        ),
        "next_path": ConfigKey(
            str, help="Dotted path to the next page's URL; absent when there is one page."
        ),
        "since_param": ConfigKey(str, help="Query parameter that receives the saved cursor."),
        "cursor_field": ConfigKey(
            str, help="Record field whose greatest value becomes the next cursor."
        ),
        "headers": ConfigKey(dict, secret=True, help="HTTP headers, e.g. Authorization."),
        "timeout": ConfigKey((int, float), help="Seconds to wait for a page (default 30)."),
    }

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        if urlsplit(config["url"]).scheme not in {"http", "https"}:
            raise ValidationError({"config.url": _("Use an http or https URL.")})
        headers = config.get("headers", {})
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
            raise ValidationError({"config.headers": _("Header names and values must be text.")})

    def records(self, cursor: str | None) -> RecordStream:
        url = self.config["url"]
        if cursor is not None and self.config.get("since_param"):
            url = _with_query(url, {self.config["since_param"]: cursor})
        cursor_field = self.config.get("cursor_field")
        newest_seen = cursor
        number = 0
        with outbound.session() as session:
            for _page in range(MAX_PAGES):
                page = self._get(session, url)
                items = dotted(page, self.config.get("records_path", ""))
                if items is None:
                    items = []
                if not isinstance(items, list):
                    raise ConnectorError(
                        _("records_path %(path)s is not a list in the page from %(url)s.")
                        % {"path": repr(self.config.get("records_path", "")), "url": url}
                    )
                for item in items:
                    number += 1
                    if not isinstance(item, Mapping):
                        yield Record(number, {}, error=_("The record is not a JSON object."))
                        continue
                    if cursor_field:
                        newest_seen = newest(newest_seen, item.get(cursor_field))
                    yield Record(number, dict(item))
                next_path = self.config.get("next_path")
                next_url = dotted(page, next_path) if next_path else None
                if not next_url:
                    return newest_seen
                url = urljoin(url, str(next_url))
        raise ConnectorError(_("The source had more than %(limit)d pages.") % {"limit": MAX_PAGES})

    def _get(self, session: requests.Session, url: str) -> Any:
        headers = {"Accept": "application/json", **self.config.get("headers", {})}
        timeout = float(self.config.get("timeout", outbound.DEFAULT_TIMEOUT))
        for attempt in range(RETRIES + 1):
            try:
                response = outbound.request(
                    "GET", url, session=session, headers=headers, timeout=timeout, stream=True
                )
                with response:
                    if response.status_code == 429 or response.status_code >= 500:
                        if attempt == RETRIES:
                            break
                        time.sleep(_retry_after(response, default=RETRY_PAUSE_SECONDS * 2**attempt))
                        continue
                    if response.status_code != 200:
                        start = outbound.start_of_body(response, 200)
                        raise ConnectorError(
                            _("GET %(url)s answered %(status)s: %(start)s")
                            % {
                                "url": _redacted(url),
                                "status": response.status_code,
                                "start": start,
                            }
                        )
                    return outbound.read_json(response, limit=settings.IMPORT_MAX_BYTES)
            except outbound.OutboundRefused as error:
                raise ConnectorError(
                    _("GET %(url)s: %(error)s") % {"url": _redacted(url), "error": error}
                ) from None
            except requests.RequestException as error:
                if attempt == RETRIES:
                    raise ConnectorError(
                        _("GET %(url)s failed: %(error)s") % {"url": _redacted(url), "error": error}
                    ) from None
                time.sleep(RETRY_PAUSE_SECONDS * 2**attempt)
                continue
            except ValueError:  # after RequestException: some of those are ValueErrors too
                raise ConnectorError(
                    _("GET %(url)s did not return JSON.") % {"url": _redacted(url)}
                ) from None
        raise ConnectorError(
            _("GET %(url)s still answered %(status)s after %(retries)d retries.")
            % {"url": _redacted(url), "status": response.status_code, "retries": RETRIES}
        )


def _retry_after(response: requests.Response, *, default: float) -> float:
    try:
        seconds = float(response.headers.get("Retry-After", default))
    except ValueError:  # an HTTP date: wait the default
        seconds = default
    return max(0.0, min(seconds, MAX_RETRY_AFTER))


def _with_query(url: str, params: Mapping[str, str]) -> str:
    parts = urlsplit(url)
    query = "&".join(filter(None, [parts.query, urlencode(params)]))
    return urlunsplit(parts._replace(query=query))


def _redacted(url: str) -> str:
    """The URL without its query string, which may carry a token."""
    return urlunsplit(urlsplit(url)._replace(query=""))
