"""Filter forms of the list pages: search, owner, tag, dates, sorting and custom fields."""

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers import filters, selectors
from customers.actors import Actor, Door
from customers.custom_fields import form_fields, types
from customers.models import Contact, CustomField, Deal, Pipeline, Stage
from customers.web.listing import Sort

User = get_user_model()
ME = "me"


class DayField(forms.DateField):
    """A day a list is filtered from or to: its whole span must be a time the database can
    compare in UTC (9999-12-31 has no next midnight; 0001-01-01 east of UTC starts in year 0),
    so such a day is reported as out of range instead of overflowing into a 500."""

    widget = forms.DateInput(attrs={"type": "date"})

    def validate(self, value) -> None:
        super().validate(value)
        if value:
            try:
                _start_of(value).astimezone(UTC)
                _start_of(value, days=1).astimezone(UTC)
            except OverflowError:
                raise ValidationError(_("The date is out of range."), code="out_of_range") from None


class ListFilterForm(forms.Form):
    """Every field optional; an invalid one is reported and ignored, never a 500."""

    sorts: tuple[Sort, ...] = ()
    entity: str  # whose list selector (``customers.selectors.LISTS``) applies the filters

    q = forms.CharField(label=_("Search"), required=False, max_length=filters.SEARCH_MAX_CHARS)
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    tag = forms.CharField(label=_("Tag"), required=False, max_length=64)
    created_from = DayField(label=_("Created from"), required=False)
    created_to = DayField(label=_("Created to"), required=False)
    sort = forms.ChoiceField(label=_("Sort by"), required=False)

    def __init__(
        self, *args, user, definitions: list[CustomField], actor: Actor | None = None, **kwargs
    ) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.actor = actor or Actor.for_user(user, door=Door.WEB)
        owners = User.objects.filter(is_active=True).order_by("username")
        self.fields["owner"].choices = [
            ("", _("Anyone")),
            (ME, _("Me")),
            *((str(owner.pk), owner.get_username()) for owner in owners.only("id", "username")),
        ]
        self.fields["sort"].choices = [(sort.key, sort.label) for sort in self.sorts]
        self.custom_filters: list[tuple[str, CustomField, str]] = []
        for definition in definitions:
            self._add_custom_filter(definition)

    def _add_custom_filter(self, definition: CustomField) -> None:
        label = form_fields.label(definition)
        name = form_fields.form_name(definition)
        if definition.type in types.RANGE_TYPES and not definition.pii:
            for lookup, word in (("gte", _("from")), ("lte", _("to"))):
                field = form_fields.build(definition)
                field.required = False
                field.label = f"{label} ({word})"
                field.help_text = ""
                self.fields[f"{name}__{lookup}"] = field
                self.custom_filters.append((f"{name}__{lookup}", definition, lookup))
            return
        if definition.type == CustomField.Type.LONG_TEXT:
            return
        field = form_fields.build(definition)
        if isinstance(field, forms.MultipleChoiceField):
            field = forms.ChoiceField(choices=[("", "—"), *field.choices])
        field.required = False
        field.label = label
        field.help_text = ""
        self.fields[name] = field
        self.custom_filters.append((name, definition, "exact"))

    @property
    def values(self) -> dict[str, Any]:
        """The valid fields' values (invalid ones are dropped by Django's cleaning)."""
        self.is_valid()
        return getattr(self, "cleaned_data", {})

    @property
    def chosen_sort(self) -> Sort:
        key = self.values.get("sort")
        return next((sort for sort in self.sorts if sort.key == key), self.sorts[0])

    def filter_params(self) -> dict[str, Any]:
        """The valid fields as the entity's filters (``customers.filters``): the list
        selector applies them, as it does every door's."""
        data = self.values
        params: dict[str, Any] = {}
        owner = data.get("owner")
        if owner:
            params["owner"] = self.user.pk if owner == ME else owner
        if data.get("tag"):
            params["tag"] = data["tag"]
        if data.get("created_from"):
            params["created_after"] = _start_of(data["created_from"])
        if data.get("created_to"):
            params["created_before"] = _start_of(data["created_to"], days=1)
        for name, _definition, _lookup in self.custom_filters:
            raw = self.data.get(name, "")
            if raw not in ("", None) and name not in self.errors:
                params[name] = raw
        return params

    def filter(self, queryset: QuerySet) -> QuerySet:
        """The queryset narrowed by every valid field; an invalid one (a bad value, or a
        lookup by personal data the user may not make) is reported and left out."""
        params = self.filter_params()
        select = selectors.LISTS[self.entity]
        while True:
            try:
                return select(actor=self.actor, filters=params, queryset=queryset)
            except ValidationError as error:
                refused = [name for name in error.message_dict if name in params]
                if not refused:
                    raise
                for name in refused:
                    self._report(name, error.message_dict[name])
                    del params[name]

    def _report(self, param: str, messages: list[str]) -> None:
        field = _FIELD_OF_PARAM.get(param, param)
        if field in self.fields:
            label = self.fields[field].label
            self.add_error(
                None,
                _("%(name)s: %(message)s") % {"name": label, "message": " ".join(messages)},
            )
        else:
            self.add_error(None, " ".join(messages))


# The filter parameter each of the form's fields becomes, where their names differ.
_FIELD_OF_PARAM = {
    "created_after": "created_from",
    "created_before": "created_to",
    "close_after": "closing_from",
    "close_before": "closing_to",
}


def _start_of(day, *, days: int = 0) -> datetime:
    moment = timezone.make_aware(datetime.combine(day, time.min))
    return moment + timedelta(days=days)


class ContactFilterForm(ListFilterForm):
    sorts = (
        Sort("name", _("Name"), ("last_name", "first_name"), collated=True),
        Sort("-name", _("Name (Z–A)"), ("last_name", "first_name"), descending=True, collated=True),
        Sort("-created", _("Newest"), ("created_at",), descending=True),
        Sort("created", _("Oldest"), ("created_at",)),
        Sort("-updated", _("Recently updated"), ("updated_at",), descending=True),
    )
    lifecycle_stage = forms.ChoiceField(
        label=_("Lifecycle stage"),
        required=False,
        choices=[("", _("Any")), *Contact.Lifecycle.choices],
    )
    field_order = ["q", "owner", "lifecycle_stage", "tag", "created_from", "created_to", "sort"]
    entity = "contact"

    def filter_params(self) -> dict[str, Any]:
        params = super().filter_params()
        if self.values.get("lifecycle_stage"):
            params["lifecycle_stage"] = [self.values["lifecycle_stage"]]
        return params


class CompanyFilterForm(ListFilterForm):
    sorts = (
        Sort("name", _("Name"), ("name",), collated=True),
        Sort("-name", _("Name (Z–A)"), ("name",), descending=True, collated=True),
        Sort("-created", _("Newest"), ("created_at",), descending=True),
        Sort("-updated", _("Recently updated"), ("updated_at",), descending=True),
    )
    entity = "company"


class DealFilterForm(ListFilterForm):
    sorts = (
        Sort("-created", _("Newest"), ("created_at",), descending=True),
        Sort("created", _("Oldest"), ("created_at",)),
        Sort("-amount", _("Largest amount"), ("amount",), descending=True),
        Sort("amount", _("Smallest amount"), ("amount",)),
        Sort("name", _("Name"), ("name",), collated=True),
        Sort("-updated", _("Recently updated"), ("updated_at",), descending=True),
    )
    stage = forms.ModelChoiceField(
        label=_("Stage"), required=False, queryset=Stage.objects.none(), empty_label=_("Any")
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any")), *Deal.Status.choices]
    )
    closing_from = forms.DateField(
        label=_("Closing from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closing_to = forms.DateField(
        label=_("Closing to"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    field_order = [
        "q",
        "owner",
        "stage",
        "status",
        "tag",
        "closing_from",
        "closing_to",
        "created_from",
        "created_to",
        "sort",
    ]

    entity = "deal"

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        stages = Stage.objects.select_related("pipeline").order_by("pipeline", "position", "id")
        self.fields["stage"].queryset = stages
        self.fields["stage"].label_from_instance = _stage_label(Pipeline.objects.count() > 1)

    def filter_params(self) -> dict[str, Any]:
        params = super().filter_params()
        if self.values.get("stage"):
            params["stage"] = self.values["stage"].pk
        if self.values.get("status"):
            params["status"] = [self.values["status"]]
        if self.values.get("closing_from"):
            params["close_after"] = self.values["closing_from"]
        if self.values.get("closing_to"):
            params["close_before"] = self.values["closing_to"]
        return params


def _stage_label(with_pipeline: bool):
    def label(stage: Stage) -> str:
        return f"{stage.pipeline.name} / {stage.name}" if with_pipeline else stage.name

    return label
