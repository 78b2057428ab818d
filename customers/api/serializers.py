"""REST representations of the domain. Output serializers shape responses; input serializers
only type-check what a client sent. Those of contacts, companies, deals and activities are
derived from ``customers.representation`` (fields, order, PII, what is writable). The rules
(uniqueness, stages, blind indexes) live in the services, which the viewsets call with the
validated data."""

from typing import Any

from django.contrib.auth import get_user_model
from django.core.validators import MaxLengthValidator
from rest_framework import serializers

from customers.api.fields import (
    BooleanValueField,
    CustomFieldsField,
    DateValueField,
    DecimalValueField,
    ModelTextField,
    PIIField,
    RelatedRefField,
    TagNamesField,
)
from customers.models import CustomField, Pipeline, Stage, Tag
from customers.representation import ACTIVITY, COMPANY, CONTACT, DEAL, Entity, Field, Kind

User = get_user_model()


class SparseFieldsMixin:
    """``?fields=id,email`` keeps only the named fields (unknown names are ignored)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        wanted = self.context.get("fields")
        if wanted:
            for name in set(self.fields) - set(wanted):
                self.fields.pop(name)


def owner_ref(**kwargs: Any) -> RelatedRefField:
    return RelatedRefField(label_attr="username", **kwargs)


def text(max_length: int | None = None, **kwargs: Any) -> serializers.CharField:
    """Optional text; null is accepted (CSV and XML cannot always tell it from empty). Its
    length and blankness are the model's rules, checked by the services (``ModelTextField``)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    kwargs.setdefault("trim_whitespace", False)  # the services trim; keep one rule
    return ModelTextField(max_length=max_length, **kwargs)


def _max_length(model_field: Any) -> int | None:
    """The model's length limit: its max_length, else its MaxLengthValidator's (a text or an
    encrypted column, which the database cannot check)."""
    if model_field.max_length:
        return model_field.max_length
    limits = [v.limit_value for v in model_field.validators if isinstance(v, MaxLengthValidator)]
    return min(limits) if limits else None


def _output_field(spec: Field) -> serializers.Field | None:
    """The declared field of an output serializer; None: ModelSerializer's own for the model
    field (or property) of that name renders it."""
    if spec.kind is Kind.REFERENCE:
        source = spec.attribute if spec.attribute != spec.name else None
        options = {"source": source} if source else {}
        return RelatedRefField(label_attr=spec.reference.label, read_only=True, **options)
    if spec.kind is Kind.TAGS:
        return TagNamesField(read_only=True)
    if spec.kind is Kind.CUSTOM:
        return CustomFieldsField(read_only=True)
    if spec.pii:
        return PIIField(pii_kind=spec.pii, read_only=True)
    return None


def _input_field(entity: Entity, spec: Field) -> serializers.Field:
    """What a client may send for `spec`: typed only, by the readers the import uses too
    (``customers.services.typed_values``). Lengths, blank, choices and decimal places are the
    model field's rules, which the services check and word: they are given here only so the
    OpenAPI document states them, never checked twice in two wordings."""
    if spec.kind is Kind.REFERENCE:
        return RelatedRefField(label_attr=spec.reference.label)
    if spec.kind is Kind.TAGS:
        return TagNamesField()
    if spec.kind is Kind.CUSTOM:
        return CustomFieldsField()
    model_field = entity.model_field(spec.name)
    if spec.pii:
        return PIIField(pii_kind=spec.pii, max_length=_max_length(model_field))
    if spec.kind is Kind.BOOL:
        return BooleanValueField(required=False)
    if spec.kind is Kind.DECIMAL:
        return DecimalValueField(
            max_digits=model_field.max_digits,
            decimal_places=model_field.decimal_places,
            required=False,
        )
    if spec.kind is Kind.DATE:
        return DateValueField(required=False, allow_null=True)
    if spec.kind is Kind.DATETIME:
        return serializers.DateTimeField(required=False, allow_null=True)
    if spec.kind is Kind.INT:
        return serializers.IntegerField(required=False, allow_null=True)
    return text(_max_length(model_field))


def output_serializer(entity: Entity, name: str) -> type[serializers.ModelSerializer]:
    """The read-only serializer of `entity`'s spec: its fields in spec order, PII masked,
    references as ``{"id", <label>}``. (No docstring of its own: the OpenAPI document
    describes the resources.)"""
    declared = {spec.name: f for spec in entity if (f := _output_field(spec)) is not None}
    names = list(entity.names)
    meta = type("Meta", (), {"model": entity.model, "fields": names, "read_only_fields": names})
    bases = (SparseFieldsMixin, serializers.ModelSerializer)
    return type(name, bases, {"__module__": __name__, **declared, "Meta": meta})


def input_serializer(entity: Entity, name: str) -> type[serializers.Serializer]:
    """The serializer of what a client may write to `entity`: its writable fields, typed."""
    declared = {spec.name: _input_field(entity, spec) for spec in entity.writable}
    return type(name, (serializers.Serializer,), {"__module__": __name__, **declared})


ContactOutputSerializer = output_serializer(CONTACT, "ContactOutputSerializer")
ContactInputSerializer = input_serializer(CONTACT, "ContactInputSerializer")
CompanyOutputSerializer = output_serializer(COMPANY, "CompanyOutputSerializer")
CompanyInputSerializer = input_serializer(COMPANY, "CompanyInputSerializer")
DealOutputSerializer = output_serializer(DEAL, "DealOutputSerializer")
DealInputSerializer = input_serializer(DEAL, "DealInputSerializer")
ActivityOutputSerializer = output_serializer(ACTIVITY, "ActivityOutputSerializer")
ActivityInputSerializer = input_serializer(ACTIVITY, "ActivityInputSerializer")


class StageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Stage
        fields = ["id", "name", "position", "win_probability", "outcome"]
        read_only_fields = ["id"]
        # Uniqueness and ranges are the services' business; the serializer only types input.
        validators: list = []
        extra_kwargs = {
            "name": {"validators": []},
            "win_probability": {"validators": []},
            "position": {"validators": []},
        }


class PipelineOutputSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    stages = StageSerializer(many=True, read_only=True)

    class Meta:
        model = Pipeline
        fields = ["id", "name", "is_default", "stages", "created_at", "updated_at"]
        read_only_fields = fields


class PipelineInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    is_default = serializers.BooleanField(required=False, default=False)
    stages = StageSerializer(many=True, required=False)


class TagSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "name", "created_at"]
        read_only_fields = ["id", "created_at"]
        extra_kwargs = {"name": {"validators": []}}


class UserOutputSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    full_name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "full_name", "is_active"]
        read_only_fields = fields


class CustomFieldSerializer(serializers.ModelSerializer):
    """A custom field definition. The services validate names, types, choices and changes."""

    archived = serializers.SerializerMethodField()

    class Meta:
        model = CustomField
        fields = [
            "id",
            "entity",
            "name",
            "label",
            "label_zh",
            "type",
            "required",
            "default",
            "choices",
            "pii",
            "unique",
            "help_text",
            "position",
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["id", "archived", "created_at", "updated_at"]
        validators: list = []
        extra_kwargs = {
            "name": {"validators": []},
            "default": {"required": False},
            "choices": {"required": False},
        }

    def get_archived(self, field: CustomField) -> bool:
        return field.is_archived


class CustomFieldDeletedSerializer(serializers.Serializer):
    purged_values = serializers.IntegerField(
        help_text="How many records' values were deleted with the field."
    )
