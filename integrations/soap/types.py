"""The SOAP service's complex types, as published in the WSDL's XML schema.

Element names follow the REST field names, so a record reads the same through both doors.
Related records travel as ``<x>_id`` (input and output) plus a read-only label. Elements a
client leaves out of an update keep their value; ``xsi:nil="true"`` clears one.
"""

from spyne import Array, Boolean, ComplexModel, Date, DateTime, Decimal, Integer, Integer64, Unicode

# Ids and offsets are 64-bit (xs:long): a larger number is refused by the schema as the
# client's mistake instead of overflowing in the database.
Id = Integer64

TNS = "urn:crm:soap:v1"
TYPES_NS = "urn:crm:soap:v1:types"

READ_ONLY = "Read-only: ignored on input."


def _text(doc: str = "") -> type[Unicode]:
    return Unicode(doc=doc) if doc else Unicode


class _DocFromDocstring(ComplexModel.Annotations):
    """Publish each type's docstring as its <xs:documentation>."""

    __use_parent_doc__ = True


def _read_only(model: type, doc: str = "") -> type:
    return model(doc=f"{doc} {READ_ONLY}".strip())


class CustomFieldValue(ComplexModel):
    """One custom field on a record. `type` is the definition's type (text, long_text,
    integer, decimal, date, datetime, boolean, choice, multi_choice, email, phone, url).
    Values are written as text: integers "42", decimals "12.50", dates "2026-01-31", datetimes
    ISO 8601 in UTC ("2026-01-31T09:30:00Z"), booleans "true"/"false". A multi_choice field
    uses `items` instead of `value`. A nil value clears the field; on output every active
    field is listed, nil when unset, and personal data is masked without pii:read."""

    __namespace__ = TYPES_NS
    Annotations = _DocFromDocstring
    name = Unicode(min_occurs=1, nillable=False, doc="The field's name, e.g. loyalty_tier.")
    type = Unicode(doc="The field's type; optional on input (checked when given).")
    value = Unicode(doc="The value as text; nil when unset.")
    items = Array(Unicode(doc="One chosen value."), doc="multi_choice values.")


CustomFields = Array(CustomFieldValue, doc="Custom fields: name, type and value entries.")
Tags = Array(Unicode(doc="A tag name."), doc="Tag names; an empty list removes every tag.")


class Contact(ComplexModel):
    """A contact. email, phone and address are personal data: masked (z***@example.com)
    unless the API key has pii:read and its user may view personal data."""

    __namespace__ = TYPES_NS
    Annotations = _DocFromDocstring
    id = Id(doc="Required by UpdateContact, ignored by Create/Upsert.")
    external_id = _text("Your system's id for this contact; unique when set.")
    first_name = Unicode
    last_name = Unicode
    full_name = _read_only(Unicode, "Family name first for CJK names.")
    title = Unicode
    company_id = Id(doc="The company's id.")
    company_name = _read_only(Unicode)
    email = Unicode
    phone = Unicode
    address = Unicode
    lifecycle_stage = _text("lead, prospect, customer or churned.")
    source = Unicode
    owner_id = Id(doc="The owning user's id.")
    owner_username = _read_only(Unicode)
    tags = Tags
    custom_fields = CustomFields
    notes = Unicode
    consent_email = Boolean
    consent_phone = Boolean
    consent_updated_at = _read_only(DateTime)
    created_at = _read_only(DateTime)
    updated_at = _read_only(DateTime)


class Company(ComplexModel):
    """A company. phone and address are personal data, masked without pii:read."""

    __namespace__ = TYPES_NS
    Annotations = _DocFromDocstring
    id = Id(doc="Required by UpdateCompany, ignored by Create/Upsert.")
    external_id = _text("Your system's id for this company; unique when set.")
    name = Unicode
    domain = Unicode
    industry = Unicode
    size_band = _text("1-10, 11-50, 51-200, 201-1000, 1001-5000 or 5001+.")
    country = _text("ISO 3166 two-letter code, e.g. CN.")
    phone = Unicode
    address = Unicode
    owner_id = Id(doc="The owning user's id.")
    owner_username = _read_only(Unicode)
    tags = Tags
    custom_fields = CustomFields
    created_at = _read_only(DateTime)
    updated_at = _read_only(DateTime)


class Deal(ComplexModel):
    """A deal in a pipeline stage; its status follows the stage."""

    __namespace__ = TYPES_NS
    Annotations = _DocFromDocstring
    id = Id
    external_id = Unicode
    name = Unicode
    company_id = Id
    company_name = _read_only(Unicode)
    primary_contact_id = Id
    amount = Decimal(doc="Non-negative, two decimal places.")
    currency = _text("ISO 4217 code, e.g. CNY.")
    pipeline_id = _read_only(Id)
    pipeline_name = _read_only(Unicode)
    stage_id = Id
    stage_name = _read_only(Unicode)
    status = _text("open, won or lost.")
    expected_close_date = Date
    closed_at = _read_only(DateTime)
    owner_id = Id
    owner_username = _read_only(Unicode)
    tags = Tags
    custom_fields = CustomFields
    created_at = _read_only(DateTime)
    updated_at = _read_only(DateTime)


def _page_of(item: type) -> type:
    """ContactPage and the like: one page of a search."""
    name = f"{item.__name__}Page"
    return type(ComplexModel)(
        name,
        (ComplexModel,),
        {
            "__module__": __name__,
            "__doc__": "One page of a search: `total` matches in all, `items` from `offset`.",
            "__namespace__": TYPES_NS,
            "Annotations": _DocFromDocstring,
            "total": Integer(min_occurs=1, nillable=False),
            "offset": Id(min_occurs=1, nillable=False),
            "limit": Integer(min_occurs=1, nillable=False),
            "items": item.customize(max_occurs="unbounded"),
        },
    )


ContactPage = _page_of(Contact)
CompanyPage = _page_of(Company)
DealPage = _page_of(Deal)


class ContactUpsertResult(ComplexModel):
    """The contact an upsert wrote, and whether it created it (else it updated it)."""

    __namespace__ = TYPES_NS
    Annotations = _DocFromDocstring
    created = Boolean(min_occurs=1, nillable=False)
    contact = Contact


class CompanyUpsertResult(ComplexModel):
    """The company an upsert wrote, and whether it created it (else it updated it)."""

    __namespace__ = TYPES_NS
    Annotations = _DocFromDocstring
    created = Boolean(min_occurs=1, nillable=False)
    company = Company
