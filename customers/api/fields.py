"""Serializer fields shared by the REST resources.

They are shaped so that what a client GETs it can PUT back unchanged, in any format: a related
record renders as ``{"id": 3, "name": "Acme"}`` and is accepted back as that object or as a bare
id; PII renders masked for callers who may not read it, and a masked value sent back means
"unchanged".
"""

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as ModelValidationError
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from rest_framework import serializers

from customers import pii
from customers.custom_fields.values import plain_values
from customers.services.typed_values import read_boolean, read_date, read_decimal


class RelatedRefField(serializers.Field):
    """A foreign key as ``{"id": …, <label>: …}``; accepts that object, an id, or null."""

    default_error_messages = {
        "invalid": 'Expected an id or an object with an "id", got {value!r}.',
    }

    def __init__(self, *, label_attr: str, **kwargs: Any) -> None:
        self.label_attr = label_attr
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return {"id": value.pk, self.label_attr: getattr(value, self.label_attr)}

    def to_internal_value(self, data: Any) -> int | None:
        if isinstance(data, dict):
            data = data.get("id")
        if data is None or data == "":
            return None
        if isinstance(data, bool):
            self.fail("invalid", value=data)
        try:
            return int(data)
        except (TypeError, ValueError):
            self.fail("invalid", value=data)

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        if isinstance(data, dict) and data.get("id") in (None, ""):
            if data.get(self.label_attr) not in (None, ""):
                # a record named without its id is not looked up here: taking it for "none"
                # would unlink the record a client meant to link (a batch looks companies up)
                raise serializers.ValidationError(
                    _('Give the record\'s "id": a "%(label)s" alone is not looked up here.')
                    % {"label": self.label_attr}
                )
            return True, None
        return super().validate_empty_values(data)


class TagNamesField(serializers.ListField):
    """Tags as a list of names. An empty XML element or CSV cell (``""``) means no tags."""

    # no max_length: the services refuse a long name, in their words, as every door does
    child = serializers.CharField(allow_blank=False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def get_attribute(self, instance: Any) -> Any:
        return instance.tags.all()  # prefetched by the selectors

    def to_representation(self, data: Any) -> list[str]:
        return [tag.name for tag in data]

    def to_internal_value(self, data: Any) -> list[str]:
        if data in ("", None):
            return []
        if isinstance(data, str):
            data = [data]  # a single XML list-item or a one-tag form value
        return super().to_internal_value(data)


class ModelTextField(serializers.CharField):
    """Text whose length and blankness the model field judges, through the services.

    `max_length` stays on the field for the OpenAPI document (generated from the model's
    limit), but the serializer does not check it: the model's ``MaxLengthValidator`` does, so
    REST, SOAP and a file import refuse a long value once, in the same words (issue #17)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs["allow_blank"] = True  # blank or not is the model field's rule
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, MaxLengthValidator)]


def _read(reader: Callable[[Any], Any], data: Any) -> Any:
    try:
        return reader(data)
    except ModelValidationError as error:
        raise serializers.ValidationError(error.messages) from None


class BooleanValueField(serializers.BooleanField):
    """A boolean read by the services' one reader (``typed_values.read_boolean``)."""

    def to_internal_value(self, data: Any) -> bool:
        return _read(read_boolean, data)


class DecimalValueField(serializers.DecimalField):
    """A number read by ``typed_values.read_decimal``; its digits and places are the model
    field's rule (the DRF field keeps them for the OpenAPI document only)."""

    def to_internal_value(self, data: Any) -> Any:
        return _read(read_decimal, data)


class DateValueField(serializers.DateField):
    """A date read by ``typed_values.read_date``."""

    def to_internal_value(self, data: Any) -> Any:
        return _read(read_date, data)


class PIIField(ModelTextField):
    """Encrypted personal data: plaintext for callers with PII access, masked for the rest."""

    def __init__(self, *, pii_kind: str, **kwargs: Any) -> None:
        self.pii_kind = pii_kind
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        if self.context.get("can_view_pii", False):
            return value
        return pii.masked(self.pii_kind, value)


class CustomFieldsField(serializers.Field):
    """``custom_fields``: an object of field name to typed value, every active field present
    (null when unset). PII custom fields are decrypted or masked like built-in PII. Input is
    passed to the services as sent: they validate each value against its definition."""

    default_error_messages = {"invalid": "Expected an object of custom field name to value."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, Any]:
        return plain_values(
            value,
            self.context.get("custom_field_definitions", ()),
            can_view_pii=self.context.get("can_view_pii", False),
        )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if data in ("", None):
            return {}  # an empty XML element
        if not isinstance(data, dict):
            self.fail("invalid")
        return dict(data)
