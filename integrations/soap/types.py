"""The SOAP service's complex types, as published in the WSDL's XML schema, derived from the
entities' representation (``customers.representation``).

Element names follow the REST field names, so a record reads the same through both doors.
Related records travel as ``<x>_id`` (input and output) plus a read-only ``<x>_<label>``.
Elements a client leaves out of an update keep their value; ``xsi:nil="true"`` clears one.
"""

from dataclasses import dataclass

from spyne import Array, Boolean, ComplexModel, Date, DateTime, Decimal, Integer, Integer64, Unicode

from customers.representation import Entity, Field, Kind, entity_spec

# Ids and offsets are 64-bit (xs:long): a larger number is refused by the schema as the
# client's mistake instead of overflowing in the database.
Id = Integer64

TNS = "urn:crm:soap:v1"
TYPES_NS = "urn:crm:soap:v1:types"

READ_ONLY = "Read-only: ignored on input."

# The published v1 schema has no element for these related labels. zeep validates responses
# strictly against the WSDL a client loaded, so a new element would break existing clients.
UNPUBLISHED = frozenset({"deal.primary_contact_full_name"})

# What the declarations cannot say, as each element's documentation.
_NOTES = {
    "full_name": "Family name first for CJK names.",
    "country": "ISO 3166 two-letter code, e.g. CN.",
    "currency": "ISO 4217 code, e.g. CNY.",
}


class _DocFromDocstring(ComplexModel.Annotations):
    """Publish each type's docstring as its <xs:documentation>."""

    __use_parent_doc__ = True


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


@dataclass(frozen=True)
class Element:
    """One element of a record type: `field`'s value, or for a reference its ``id`` or its
    label (`part`). `writable`: a client may send it (the service argument is the field's
    name)."""

    name: str
    field: Field
    part: str  # "value", "id" or "label"

    @property
    def writable(self) -> bool:
        return self.field.writable and self.part != "label"


def elements(entity: Entity) -> tuple[Element, ...]:
    """`entity`'s elements in the order the WSDL publishes them (the declaration's)."""
    found: list[Element] = []
    for spec in entity:
        if spec.reference is None:
            found.append(Element(spec.name, spec, "value"))
            continue
        found.append(Element(f"{spec.name}_id", spec, "id"))
        label = Element(f"{spec.name}_{spec.reference.label}", spec, "label")
        if f"{entity.name}.{label.name}" not in UNPUBLISHED:
            found.append(label)
    return tuple(found)


_SCALARS = {
    Kind.TEXT: Unicode,
    Kind.EMAIL: Unicode,
    Kind.PHONE: Unicode,
    Kind.CHOICE: Unicode,
    Kind.INT: Id,
    Kind.DECIMAL: Decimal,
    Kind.BOOL: Boolean,
    Kind.DATE: Date,
    Kind.DATETIME: DateTime,
}


def _element_type(entity: Entity, element: Element) -> type:
    spec = element.field
    if spec.kind is Kind.TAGS:
        return Tags
    if spec.kind is Kind.CUSTOM:
        return CustomFields
    if element.part == "id":
        base: type = Id
    elif element.part == "label":
        base = Unicode
    else:
        base = _SCALARS[spec.kind]
    doc = _doc(entity, element)
    if not element.writable and spec.name != "id":
        doc = f"{doc} {READ_ONLY}".strip()
    return base(doc=doc) if doc else base


def _doc(entity: Entity, element: Element) -> str:
    spec = element.field
    if spec.name == "id":
        return "Required by an update, ignored by create and upsert."
    if spec.name == "external_id":
        return f"Your system's id for this {entity.name}; unique when set."
    if element.part == "id":
        return f"The {spec.name.replace('_', ' ')}'s id."
    if element.part == "label":
        return ""
    if spec.kind is Kind.CHOICE:
        values = [str(value) for value, _label in entity.model_field(spec.name).choices]
        return f"{', '.join(values[:-1])} or {values[-1]}."
    if spec.kind is Kind.DECIMAL:
        return f"{entity.model_field(spec.name).decimal_places} decimal places."
    return _NOTES.get(spec.name, "")


def _record_type(entity_name: str, doc: str) -> type:
    """Contact and the like: one element per ``elements()`` entry, in order."""
    entity = entity_spec(entity_name)
    members = {element.name: _element_type(entity, element) for element in elements(entity)}
    return type(ComplexModel)(
        entity_name.capitalize(),
        (ComplexModel,),
        {
            "__module__": __name__,
            "__doc__": doc,
            "__namespace__": TYPES_NS,
            "Annotations": _DocFromDocstring,
            **members,
        },
    )


Contact = _record_type(
    "contact",
    """A contact. email, phone and address are personal data: masked (z***@example.com)
    unless the API key has pii:read and its user may view personal data.""",
)
Company = _record_type(
    "company", "A company. phone and address are personal data, masked without pii:read."
)
Deal = _record_type("deal", "A deal in a pipeline stage; its status follows the stage.")


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
