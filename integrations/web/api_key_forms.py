"""Forms of the integrations page: a new partner API key."""

from django import forms
from django.utils.translation import gettext_lazy as _

from integrations.scopes import ALL_SCOPES

_DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class ApiKeyInputForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What uses the key, e.g. “ERP sync”."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        choices=[(scope, scope) for scope in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("A key can do only what its scopes list, and never more than you may."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires at"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_DATETIME_LOCAL),
        input_formats=[_DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        help_text=_("Leave empty for a key that does not expire."),
    )
