"""The webhook subscription form: a URL, the events to receive and a note; the webhooks
service checks them (an http(s) URL outbound requests may reach, known event types)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from customers.events import EVENT_TYPES
from integrations.webhooks.models import ALL_EVENTS


class WebhookSubscriptionInputForm(forms.Form):
    url = forms.CharField(
        label=_("URL"),
        max_length=2000,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("Each event is POSTed here as signed JSON."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        choices=[(ALL_EVENTS, _("All events")), *((name, name) for name in EVENT_TYPES)],
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl (⌘ on a Mac) to choose several."),
    )
    description = forms.CharField(label=_("Description"), max_length=200, required=False)
