"""`soap`: records from any SOAP service through zeep: an operation called with arguments
(the saved cursor in one of them), WS-Security UsernameToken when configured, the records found
at a dotted path in the result, optionally paged by offset and limit arguments."""

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from integrations import outbound
from integrations.connectors.base import (
    ConfigKey,
    Connector,
    ConnectorError,
    RecordStream,
    dotted,
    flatten,
    newest,
)
from integrations.formats import Record

MAX_PAGES = 100_000


class SoapConnector(Connector):
    name = "soap"
    label = "SOAP service (WSDL)"
    config_keys = {
        "wsdl": ConfigKey(str, required=True, help="The WSDL's URL."),
        "operation": ConfigKey(str, required=True, help="The operation to call."),
        "arguments": ConfigKey(dict, help="Fixed arguments of the operation."),
        "since_argument": ConfigKey(str, help="Argument that receives the saved cursor."),
        "records_path": ConfigKey(str, help="Dotted path to the records in the result."),
        "cursor_field": ConfigKey(
            str, help="Record field whose greatest value becomes the next cursor."
        ),
        "offset_argument": ConfigKey(str, help="Argument for the page offset, to page."),
        "limit_argument": ConfigKey(str, help="Argument for the page size, to page."),
        "page_size": ConfigKey(int, help="Records per page when paging (default 500)."),
        "username": ConfigKey(str, help="WS-Security UsernameToken user."),
        "password": ConfigKey(str, secret=True, help="WS-Security UsernameToken password."),
        "timeout": ConfigKey((int, float), help="Seconds to wait for a response (default 30)."),
    }

    @classmethod
    def check_config(cls, config: dict[str, Any]) -> None:
        if urlsplit(config["wsdl"]).scheme not in {"http", "https"}:
            raise ValidationError({"config.wsdl": _("Use an http or https URL.")})
        if ("offset_argument" in config) != ("limit_argument" in config):
            raise ValidationError(
                {
                    "config.limit_argument": _(
                        "Paging needs both offset_argument and limit_argument."
                    )
                }
            )

    def records(self, cursor: str | None) -> RecordStream:
        operation = self._operation()
        arguments = dict(self.config.get("arguments", {}))
        if cursor is not None and self.config.get("since_argument"):
            arguments[self.config["since_argument"]] = cursor
        newest_seen = cursor
        number = 0
        for page in self._pages(operation, arguments):
            for item in page:
                number += 1
                if not isinstance(item, Mapping):
                    yield Record(number, {}, error=_("The record is not a structure."))
                    continue
                values = flatten(item)
                if self.config.get("cursor_field"):
                    newest_seen = newest(newest_seen, values.get(self.config["cursor_field"]))
                yield Record(number, values)
        return newest_seen

    def _pages(self, operation, arguments: dict[str, Any]) -> Iterator[list]:
        paging = "offset_argument" in self.config
        size = self.config.get("page_size", 500)
        offset = 0
        for _page in range(MAX_PAGES):
            if paging:
                arguments |= {
                    self.config["offset_argument"]: offset,
                    self.config["limit_argument"]: size,
                }
            items = self._call(operation, arguments)
            yield items
            if not paging or len(items) < size:
                return
            offset += len(items)
        raise ConnectorError(
            _("The service returned more than %(limit)d pages.") % {"limit": MAX_PAGES}
        )

    def _operation(self):
        import zeep  # imported here: loading zeep costs ~0.3 s, only SOAP syncs need it
        from zeep.wsse.username import UsernameToken

        wsse = None
        if self.config.get("username"):
            wsse = UsernameToken(self.config["username"], self.config.get("password", ""))
        timeout = float(self.config.get("timeout", outbound.DEFAULT_TIMEOUT))
        try:
            client = zeep.Client(
                self.config["wsdl"],
                wsse=wsse,
                transport=_checked_transport(timeout),
                settings=_settings(),
            )
            return getattr(client.service, self.config["operation"])
        except outbound.OutboundRefused as error:
            raise ConnectorError(str(error)) from None
        except AttributeError:
            raise ConnectorError(
                _("The service has no operation %(operation)s.")
                % {"operation": repr(self.config["operation"])}
            ) from None
        except (requests.RequestException, zeep.exceptions.Error) as error:
            raise ConnectorError(
                _("Cannot load the WSDL %(url)s: %(error)s")
                % {"url": self.config["wsdl"], "error": error}
            ) from None

    def _call(self, operation, arguments: dict[str, Any]) -> list:
        import zeep

        try:
            result = operation(**arguments)
        except zeep.exceptions.Fault as fault:
            raise ConnectorError(
                _("SOAP Fault %(code)s: %(message)s")
                % {"code": fault.code, "message": fault.message}
            ) from None
        except (outbound.OutboundRefused, requests.RequestException) as error:
            raise ConnectorError(_("The SOAP call failed: %(error)s") % {"error": error}) from None
        except (TypeError, zeep.exceptions.Error) as error:
            raise ConnectorError(
                _("The SOAP call was refused: %(error)s") % {"error": error}
            ) from None
        found = dotted(
            zeep.helpers.serialize_object(result, dict), self.config.get("records_path", "")
        )
        if found is None:
            return []
        return found if isinstance(found, list) else [found]


def _checked_transport(timeout: float):
    """zeep's transport on an `outbound.Session`: the WSDL, every schema it imports and every
    call go through the same checked, pinned, hop-by-hop redirects as the other connectors;
    nothing but http(s) is loaded (zeep would open a ``file://`` URL or a local path an
    imported schema names)."""
    from zeep.transports import Transport

    class CheckedTransport(Transport):
        def __init__(self) -> None:
            super().__init__(timeout=timeout, operation_timeout=timeout, session=outbound.session())
            self.session.adapters.pop("file://", None)

        def load(self, url):
            if urlsplit(str(url)).scheme not in {"http", "https"}:
                raise outbound.OutboundRefused(
                    _("Only http and https URLs are loaded, not %(url)s.") % {"url": url}
                )
            return super().load(url)

    return CheckedTransport()


def _settings():
    """No DTD and no entities in a WSDL or schema; imported schemas are allowed, each loaded
    through the checked transport."""
    from zeep import Settings

    return Settings(forbid_dtd=True, forbid_entities=True, forbid_external=False)
