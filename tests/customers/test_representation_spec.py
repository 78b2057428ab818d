"""The entity declarations are the record shape: they agree with the models they describe, and
what every door derives from them (CSV columns, writable fields, row columns) follows."""

import ast
import importlib
import inspect
from pathlib import Path

import pytest
from django.db import models

from customers.representation import ENTITIES, Kind, Read, entity_spec

PACKAGE = Path(__file__).resolve().parents[2] / "customers" / "representation"


@pytest.mark.parametrize("entity", ENTITIES.values(), ids=list(ENTITIES))
def test_every_attribute_field_is_a_column_of_its_model(entity):
    for spec in entity:
        if spec.read is Read.ATTRIBUTE:
            field = entity.model._meta.get_field(spec.name)
            assert field.concrete and not field.is_relation, spec.name


@pytest.mark.parametrize("entity", ENTITIES.values(), ids=list(ENTITIES))
def test_every_reference_is_a_foreign_key_with_its_label(entity):
    for spec in entity:
        if spec.kind is not Kind.REFERENCE:
            continue
        model = entity.model
        for step in spec.reference.attribute.split("."):
            field = model._meta.get_field(step)
            assert isinstance(field, models.ForeignKey), spec.name
            model = field.related_model
        if not spec.reference.label_is_full_name:
            model._meta.get_field(spec.reference.label)
        # every path a plain row reads resolves (values() would raise otherwise)
        entity.model.objects.values(*spec.columns).query.sql_with_params()


def test_choice_fields_are_the_models_choice_fields():
    for entity in ENTITIES.values():
        for spec in entity:
            if spec.read is not Read.ATTRIBUTE:
                continue
            has_choices = bool(getattr(entity.model_field(spec.name), "choices", None))
            assert has_choices == (spec.kind is Kind.CHOICE), f"{entity.name}.{spec.name}"


def test_contact_shape_in_order():
    contact = entity_spec("contact")
    assert contact.names == (
        "id", "external_id", "first_name", "last_name", "full_name", "title", "company",
        "email", "phone", "address", "lifecycle_stage", "source", "owner", "tags",
        "custom_fields", "notes", "consent_email", "consent_phone", "consent_updated_at",
        "created_at", "updated_at",
    )  # fmt: skip
    assert [spec.name for spec in contact.pii_fields] == ["email", "phone", "address"]
    assert contact.read_only_names == (
        "id", "full_name", "consent_updated_at", "created_at", "updated_at"
    )  # fmt: skip


def test_csv_columns_expand_references_and_append_custom_fields():
    class Definition:
        def __init__(self, name, archived=False):
            self.name, self.is_archived = name, archived

    columns = entity_spec("deal").csv_columns([Definition("region"), Definition("old", True)])
    assert columns[:7] == [
        "id", "external_id", "name", "company.id", "company.name",
        "primary_contact.id", "primary_contact.full_name",
    ]  # fmt: skip
    assert "pipeline.name" in columns and "custom_fields" not in columns
    assert columns[-1] == ("custom_fields.region", "region")


def test_a_computed_field_has_no_csv_column_and_is_read_only():
    contact = entity_spec("contact")
    assert contact["full_name"].csv_columns == ()
    assert not contact["full_name"].writable
    assert "full_name" not in contact.row_columns


def test_activity_carries_no_tags_nor_custom_fields():
    activity = entity_spec("activity")
    assert not activity.has_tags and not activity.has_custom_fields
    assert activity.csv_list_columns == frozenset()
    assert entity_spec("contact").csv_list_columns == {"tags"}


def test_unknown_entity_is_a_clear_error():
    with pytest.raises(LookupError, match="use one of contact, company, deal, activity"):
        entity_spec("lead")


def test_the_package_imports_no_door():
    """Nor anything of the integrations app but its pure codecs (the export encoders write
    CSV cells and XML elements by their rules)."""
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        imported = [
            node.module if isinstance(node, ast.ImportFrom) else alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
        ]
        for name in filter(None, imported):
            if name.startswith("integrations.formats."):
                continue
            assert not name.startswith(("rest_framework", "customers.api", "customers.web",
                                        "integrations")), f"{path.name} imports {name}"  # fmt: skip


@pytest.mark.parametrize(
    ("entity", "create"),
    [
        ("contact", "customers.services.contacts.contact_create"),
        ("company", "customers.services.companies.company_create"),
        ("deal", "customers.services.deals.deal_create"),
        ("activity", "customers.services.activities.activity_create"),
    ],
)
def test_every_writable_field_is_a_keyword_of_the_create_service(entity, create):
    """The services' typed keyword signatures are the one place besides the declaration that
    names each writable field: a field declared without its keyword fails here, not in a
    door (REST, SOAP and the import pass every writable field by name)."""
    module, _, name = create.rpartition(".")
    parameters = inspect.signature(getattr(importlib.import_module(module), name)).parameters
    missing = [f.name for f in entity_spec(entity).writable if f.name not in parameters]
    assert missing == []
