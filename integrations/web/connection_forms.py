"""The connection form: it only shapes the input (JSON text into objects, the schedule fields
into the schedule every door sends); ``integrations.services.connections`` validates and writes,
and its errors come back next to the fields (a bad configuration key named in the message under
the configuration)."""

import json
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext_lazy as _

from integrations.connectors import available_connectors
from integrations.models import Connection, ImportJob, Resource
from integrations.services import connections, sync

NO_SCHEDULE, EVERY, CRONTAB = "none", "every", "crontab"
_SCHEDULE_FIELDS = ("schedule_kind", "every_minutes", "crontab")


class ConnectionInputForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    connector = forms.ChoiceField(label=_("Connector"))
    config = forms.CharField(
        label=_("Configuration"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text=_(
            "A JSON object of the connector's keys. Secrets show as ******** and are kept "
            "when left so."
        ),
    )
    mapping = forms.CharField(
        label=_("Field mapping"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        help_text=_(
            'A JSON object of source field to our field, e.g. {"id": "external_id", '
            '"updated_at": null}. Empty matches by our field names and common header names.'
        ),
    )
    resource = forms.ChoiceField(label=_("Records"), choices=Resource.choices)
    mode = forms.ChoiceField(
        label=_("Mode"), choices=ImportJob.Mode.choices, initial=ImportJob.Mode.UPSERT
    )
    match_key = forms.ChoiceField(label=_("Match by"), choices=ImportJob.MatchKey.choices)
    create_related = forms.BooleanField(
        label=_("Create related records"),
        required=False,
        help_text=Connection._meta.get_field("create_related").help_text,
    )
    schedule_kind = forms.ChoiceField(
        label=_("Schedule"),
        choices=[
            (NO_SCHEDULE, _("Only when run by hand")),
            (EVERY, _("Every N minutes")),
            (CRONTAB, _("Crontab line (UTC)")),
        ],
        initial=NO_SCHEDULE,
        widget=forms.RadioSelect,
    )
    every_minutes = forms.IntegerField(label=_("Every (minutes)"), required=False, min_value=1)
    crontab = forms.CharField(
        label=_("Crontab"),
        required=False,
        max_length=200,
        help_text=_("Five fields: minute hour day-of-month month day-of-week, e.g. */15 * * * *."),
    )
    enabled = forms.BooleanField(label=_("Enabled"), required=False, initial=True)

    def __init__(self, *args, connection: Connection | None = None, **kwargs) -> None:
        self.connection = connection
        if connection is not None:
            kwargs["initial"] = {**initial_from(connection), **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.fields["connector"].choices = [(name, name) for name in available_connectors()]
        if connection is not None:
            self.fields["connector"].disabled = True  # its configuration is the connector's

    def clean_config(self) -> dict[str, Any]:
        return _json_object(self.cleaned_data["config"])

    def clean_mapping(self) -> dict[str, Any]:
        return _json_object(self.cleaned_data["mapping"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = data.get("schedule_kind")
        if kind == EVERY and not data.get("every_minutes"):
            self.add_error("every_minutes", _("Say how many minutes apart the runs are."))
        if kind == CRONTAB and not (data.get("crontab") or "").strip():
            self.add_error("crontab", _("Enter a crontab line."))
        return data

    def schedule(self) -> dict[str, Any] | None:
        """The schedule asked for, in the shape the service (and the REST API) takes."""
        kind = self.cleaned_data["schedule_kind"]
        if kind == EVERY:
            return {"every_minutes": self.cleaned_data["every_minutes"]}
        if kind == CRONTAB:
            return {"crontab": self.cleaned_data["crontab"]}
        return None

    def schedule_changed(self) -> bool:
        return any(name in self.changed_data for name in _SCHEDULE_FIELDS)

    def service_data(self) -> dict[str, Any]:
        """What ``connections.connection_create`` / ``connection_update`` take: the schedule
        only when new or changed (an untouched one is not rewritten), and on an edit a secret
        key deleted from the text as null (the service keeps a secret that is left out)."""
        data = {name: self.cleaned_data[name] for name in sync.EDITABLE - {"schedule"}}
        if self.connection is None:
            data["connector"] = self.cleaned_data["connector"]
        else:
            removed = set(connections.secret_keys(self.connection)) - set(data["config"])
            data["config"] = {**data["config"], **dict.fromkeys(removed)}
        if self.connection is None or self.schedule_changed():
            data["schedule"] = self.schedule()
        return data

    def apply_errors(self, error: ValidationError) -> None:
        """A service error next to its field: ``config.<key>`` under the configuration, with
        the key named; ``schedule`` under the schedule field in use."""
        messages = error.message_dict if hasattr(error, "error_dict") else {}
        if not messages:
            messages = {NON_FIELD_ERRORS: error.messages}
        for key, texts in messages.items():
            for text in texts:
                if key.startswith("config."):
                    self.add_error(
                        "config",
                        _("%(key)s: %(message)s")
                        % {"key": key.removeprefix("config."), "message": text},
                    )
                elif key == "schedule":
                    self.add_error(self._schedule_field(), text)
                elif key in self.fields:
                    self.add_error(key, text)
                elif key == NON_FIELD_ERRORS:
                    self.add_error(None, text)
                else:
                    self.add_error(None, _("%(key)s: %(message)s") % {"key": key, "message": text})

    def _schedule_field(self) -> str:
        kind = self.cleaned_data.get("schedule_kind")
        return {EVERY: "every_minutes", CRONTAB: "crontab"}.get(kind, "schedule_kind")


def initial_from(connection: Connection) -> dict[str, Any]:
    """The form's values for an existing connection: secrets as the placeholder, never as
    themselves."""
    initial = {
        "name": connection.name,
        "connector": connection.connector,
        "config": json.dumps(sync.public_config(connection), indent=2, ensure_ascii=False),
        "mapping": json.dumps(connection.mapping, indent=2, ensure_ascii=False)
        if connection.mapping
        else "",
        "resource": connection.resource,
        "mode": connection.mode,
        "match_key": connection.match_key,
        "create_related": connection.create_related,
        "enabled": connection.enabled,
        "schedule_kind": NO_SCHEDULE,
    }
    every_seconds, crontab = sync.schedule_parts(connection)
    if every_seconds is not None:
        initial["schedule_kind"] = EVERY
        initial["every_minutes"] = max(1, round(every_seconds / 60))
    elif crontab is not None:
        initial["schedule_kind"] = CRONTAB
        initial["crontab"] = crontab
    return initial


def _json_object(text: str) -> dict[str, Any]:
    if not (text or "").strip():
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValidationError(
            _("This is not valid JSON (line %(line)d, column %(column)d)."),
            params={"line": error.lineno, "column": error.colno},
        ) from None
    if not isinstance(value, dict):
        raise ValidationError(_("Expected a JSON object ({…})."))
    return value
