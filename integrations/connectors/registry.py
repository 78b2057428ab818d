"""Which connectors exist: the built-in ones, those installed packages declare in the
``crm.connectors`` entry-point group, and those named in the ``CRM_CONNECTORS`` setting
(``{"name": "dotted.path.ToConnector"}``). A later source wins for the same name, so a
deployment can replace a built-in one."""

from functools import cache
from importlib.metadata import entry_points

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from integrations.connectors.base import Connector

ENTRY_POINT_GROUP = "crm.connectors"
BUILT_IN = {
    "rest_json": "integrations.connectors.rest_json.RestJsonConnector",
    "file": "integrations.connectors.file.FileConnector",
    "soap": "integrations.connectors.soap.SoapConnector",
    "crm": "integrations.connectors.crm.CrmConnector",
}


@cache
def _installed() -> dict[str, str]:
    return {
        point.name: point.value.replace(":", ".") for point in entry_points(group=ENTRY_POINT_GROUP)
    }


def available_connectors() -> dict[str, str]:
    """Connector name → dotted path of its class."""
    return {**BUILT_IN, **_installed(), **getattr(settings, "CRM_CONNECTORS", {})}


def connector_class(name: str) -> type[Connector]:
    """The connector class registered under `name`; ValidationError when there is none."""
    path = available_connectors().get(name)
    if path is None:
        known = ", ".join(sorted(available_connectors()))
        message = _("Unknown connector %(name)s; available: %(known)s.") % {
            "name": repr(name),
            "known": known,
        }
        raise ValidationError({"connector": message})
    connector = import_string(path)
    if not (isinstance(connector, type) and issubclass(connector, Connector)):
        message = _("%(path)s is not a Connector class.") % {"path": path}
        raise ValidationError({"connector": message})
    return connector
