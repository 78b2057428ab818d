"""Filtering records by a custom field's value: the one rule the REST ``?cf_<name>=`` filters
and the web UI's list filters share. Numbers and dates also take ``gte/gt/lte/lt`` ranges;
PII fields match exactly, through their blind index only."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import DecimalField, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from django.utils.translation import gettext as _

from customers import pii
from customers.custom_fields import types
from customers.custom_fields.values import index_value
from customers.models import CustomField

RANGE_LOOKUPS = ("gte", "gt", "lte", "lt")
Type = CustomField.Type


def filter_by_custom_field(
    queryset: QuerySet,
    field: CustomField,
    lookup: str,
    raw: str,
    *,
    param: str,
    may_look_up_pii: bool,
) -> QuerySet:
    """Records whose `field` matches `raw` by `lookup` ("exact", or a range for numbers and
    dates that are not PII); errors are keyed by `param`, the name the caller used. A PII
    field is looked up only for a caller who `may_look_up_pii` (``pii.check_pii_lookup``)."""
    if field.pii:
        pii.check_pii_lookup([param], allowed=may_look_up_pii)
    if lookup not in ("exact", *RANGE_LOOKUPS):
        raise ValidationError({param: [_("Unknown lookup %(lookup)s.") % {"lookup": repr(lookup)}]})
    if lookup != "exact" and (field.pii or field.type not in types.RANGE_TYPES):
        raise ValidationError(
            {
                param: [
                    _("Ranges work on integer, decimal, date and datetime fields that are not PII.")
                ]
            }
        )
    try:
        value = types.coerce(field, raw)
    except ValidationError as error:
        raise ValidationError({param: error.messages}) from None
    if value is None:
        return queryset.exclude(custom_fields__has_key=field.name)
    if field.pii:
        return queryset.filter(**{f"custom_index__{field.name}": index_value(field, str(value))})
    if field.type == Type.DECIMAL:
        annotation = f"_cf_{field.name}"
        number = Cast(
            KeyTextTransform(field.name, "custom_fields"),
            DecimalField(max_digits=40, decimal_places=10),
        )
        return queryset.alias(**{annotation: number}).filter(
            **{f"{annotation}__{lookup}": Decimal(value)}
        )
    if field.type == Type.MULTI_CHOICE:
        for choice in value:
            queryset = queryset.filter(**{f"custom_fields__{field.name}__icontains": f'"{choice}"'})
        return queryset
    if field.type in (
        Type.DATE,
        Type.DATETIME,
        Type.TEXT,
        Type.LONG_TEXT,
        Type.EMAIL,
        Type.PHONE,
        Type.URL,
        Type.CHOICE,
    ):
        text = Cast(KeyTextTransform(field.name, "custom_fields"), TextField())
        annotation = f"_cf_{field.name}"
        return queryset.alias(**{annotation: text}).filter(**{f"{annotation}__{lookup}": value})
    return queryset.filter(**{f"custom_fields__{field.name}__{lookup}": value})
