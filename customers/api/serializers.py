"""REST representations of the domain. Output serializers shape responses; input serializers
only type-check what a client sent. The rules (uniqueness, stages, blind indexes) live in the
services, which the viewsets call with the validated data."""

from typing import Any

from django.contrib.auth import get_user_model
from rest_framework import serializers

from customers.api.fields import CustomFieldsField, PIIField, RelatedRefField, TagNamesField
from customers.models import Activity, Company, Contact, CustomField, Deal, Pipeline, Stage, Tag

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
    """Optional text; null is accepted (CSV and XML cannot always tell it from empty)."""
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_blank", True)
    kwargs.setdefault("allow_null", True)
    kwargs.setdefault("trim_whitespace", False)  # the services trim; keep one rule
    return serializers.CharField(max_length=max_length, **kwargs)


class ContactOutputSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    company = RelatedRefField(label_attr="name", read_only=True)
    owner = owner_ref(read_only=True)
    email = PIIField(pii_kind="email", read_only=True)
    phone = PIIField(pii_kind="phone", read_only=True)
    address = PIIField(pii_kind="address", read_only=True)
    tags = TagNamesField(read_only=True)
    custom_fields = CustomFieldsField(read_only=True)

    class Meta:
        model = Contact
        fields = [
            "id",
            "external_id",
            "first_name",
            "last_name",
            "full_name",
            "title",
            "company",
            "email",
            "phone",
            "address",
            "lifecycle_stage",
            "source",
            "owner",
            "tags",
            "custom_fields",
            "notes",
            "consent_email",
            "consent_phone",
            "consent_updated_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ContactInputSerializer(serializers.Serializer):
    external_id = text(255)
    first_name = text(150)
    last_name = text(150)
    title = text(150)
    company = RelatedRefField(label_attr="name")
    email = PIIField(pii_kind="email", max_length=254)
    phone = PIIField(pii_kind="phone", max_length=64)
    address = PIIField(pii_kind="address", max_length=1000)
    lifecycle_stage = text(16, allow_blank=False)
    source = text(100)
    owner = owner_ref()
    tags = TagNamesField()
    custom_fields = CustomFieldsField()
    notes = text()
    consent_email = serializers.BooleanField(required=False)
    consent_phone = serializers.BooleanField(required=False)


class CompanyOutputSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    owner = owner_ref(read_only=True)
    phone = PIIField(pii_kind="phone", read_only=True)
    address = PIIField(pii_kind="address", read_only=True)
    tags = TagNamesField(read_only=True)
    custom_fields = CustomFieldsField(read_only=True)

    class Meta:
        model = Company
        fields = [
            "id",
            "external_id",
            "name",
            "domain",
            "industry",
            "size_band",
            "country",
            "phone",
            "address",
            "owner",
            "tags",
            "custom_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class CompanyInputSerializer(serializers.Serializer):
    external_id = text(255)
    name = text(255, allow_blank=False)
    domain = text(255)
    industry = text(100)
    size_band = text(16)
    country = text(2)
    phone = PIIField(pii_kind="phone", max_length=64)
    address = PIIField(pii_kind="address", max_length=1000)
    owner = owner_ref()
    tags = TagNamesField()
    custom_fields = CustomFieldsField()


class DealOutputSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    company = RelatedRefField(label_attr="name", read_only=True)
    primary_contact = RelatedRefField(label_attr="full_name", read_only=True)
    stage = RelatedRefField(label_attr="name", read_only=True)
    pipeline = serializers.SerializerMethodField()
    owner = owner_ref(read_only=True)
    tags = TagNamesField(read_only=True)
    custom_fields = CustomFieldsField(read_only=True)

    class Meta:
        model = Deal
        fields = [
            "id",
            "external_id",
            "name",
            "company",
            "primary_contact",
            "amount",
            "currency",
            "pipeline",
            "stage",
            "status",
            "expected_close_date",
            "closed_at",
            "owner",
            "tags",
            "custom_fields",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_pipeline(self, deal: Deal) -> dict[str, Any]:
        return {"id": deal.stage.pipeline_id, "name": deal.stage.pipeline.name}


class DealInputSerializer(serializers.Serializer):
    external_id = text(255)
    name = text(255, allow_blank=False)
    company = RelatedRefField(label_attr="name")
    primary_contact = RelatedRefField(label_attr="full_name")
    amount = serializers.DecimalField(max_digits=16, decimal_places=2, required=False)
    currency = text(3, allow_blank=False)
    stage = RelatedRefField(label_attr="name")
    status = text(8, allow_blank=False)
    expected_close_date = serializers.DateField(required=False, allow_null=True)
    owner = owner_ref()
    tags = TagNamesField()
    custom_fields = CustomFieldsField()


class ActivityOutputSerializer(SparseFieldsMixin, serializers.ModelSerializer):
    contact = RelatedRefField(label_attr="full_name", read_only=True)
    company = RelatedRefField(label_attr="name", read_only=True)
    deal = RelatedRefField(label_attr="name", read_only=True)
    author = owner_ref(read_only=True)

    class Meta:
        model = Activity
        fields = [
            "id",
            "external_id",
            "kind",
            "subject",
            "body",
            "due_at",
            "done_at",
            "contact",
            "company",
            "deal",
            "author",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class ActivityInputSerializer(serializers.Serializer):
    external_id = text(255)
    kind = text(8, allow_blank=False)
    subject = text(255, allow_blank=False)
    body = text()
    due_at = serializers.DateTimeField(required=False, allow_null=True)
    done_at = serializers.DateTimeField(required=False, allow_null=True)
    contact = RelatedRefField(label_attr="full_name")
    company = RelatedRefField(label_attr="name")
    deal = RelatedRefField(label_attr="name")


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
