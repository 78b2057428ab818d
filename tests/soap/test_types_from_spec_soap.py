"""The SOAP types are derived from the representation spec, and the derivation keeps the v1
schema partners' zeep clients were generated from: the same elements, in the same order, the
same ones writable."""

import pytest

from customers.representation import entity_spec
from integrations.soap import convert, types

# The record types as published in v1 (element name, XML schema type).
PUBLISHED = {
    "contact": (
        "id:long external_id:string first_name:string last_name:string full_name:string "
        "title:string company_id:long company_name:string email:string phone:string "
        "address:string lifecycle_stage:string source:string owner_id:long "
        "owner_username:string tags:stringArray custom_fields:CustomFieldValueArray "
        "notes:string consent_email:boolean consent_phone:boolean "
        "consent_updated_at:dateTime created_at:dateTime updated_at:dateTime"
    ),
    "company": (
        "id:long external_id:string name:string domain:string industry:string "
        "size_band:string country:string phone:string address:string owner_id:long "
        "owner_username:string tags:stringArray custom_fields:CustomFieldValueArray "
        "created_at:dateTime updated_at:dateTime"
    ),
    "deal": (
        "id:long external_id:string name:string company_id:long company_name:string "
        "primary_contact_id:long amount:decimal currency:string pipeline_id:long "
        "pipeline_name:string stage_id:long stage_name:string status:string "
        "expected_close_date:date closed_at:dateTime owner_id:long owner_username:string "
        "tags:stringArray custom_fields:CustomFieldValueArray created_at:dateTime "
        "updated_at:dateTime"
    ),
}
RECORD_TYPES = {"contact": types.Contact, "company": types.Company, "deal": types.Deal}


@pytest.mark.parametrize("entity", PUBLISHED)
def test_record_types_keep_the_published_elements_in_order(entity):
    members = RECORD_TYPES[entity]._type_info.items()

    published = " ".join(f"{name}:{member.get_type_name()}" for name, member in members)

    assert published == PUBLISHED[entity]


def test_writable_elements_are_the_specs_writable_fields_under_their_soap_names():
    assert convert.WRITABLE["contact"] == [
        "external_id", "first_name", "last_name", "title", "company_id", "email", "phone",
        "address", "lifecycle_stage", "source", "owner_id", "tags", "custom_fields", "notes",
        "consent_email", "consent_phone",
    ]  # fmt: skip
    assert convert.WRITABLE["company"] == [
        "external_id", "name", "domain", "industry", "size_band", "country", "phone",
        "address", "owner_id", "tags", "custom_fields",
    ]  # fmt: skip


def test_a_read_only_field_is_documented_as_ignored_on_input():
    for element in types.elements(entity_spec("deal")):
        member = types.Deal._type_info[element.name]
        read_only = types.READ_ONLY in (member.Annotations.doc or "")
        assert read_only == (not element.writable and element.name != "id"), element.name


def test_a_choice_element_lists_the_models_choices():
    doc = types.Contact._type_info["lifecycle_stage"].Annotations.doc

    assert doc == "lead, prospect, customer or churned."
