"""The public fields of contacts, companies, deals and activities, each declared once, in the
order every door shows them (JSON keys, XML elements, CSV columns, SOAP elements).

To add a field: declare it here (and add the model field and its migration); the serializers,
the CSV columns, the list and export fast paths and the other doors derive from this.
"""

from customers.models import Activity, Company, Contact, Deal
from customers.representation.spec import (
    Entity,
    boolean,
    choice,
    custom_values,
    date,
    datetime,
    decimal,
    email,
    full_name,
    key,
    phone,
    ref,
    tags,
    text,
    timestamps,
)


def _owner(name: str = "owner", *, writable: bool = True):
    return ref(name, entity="user", label="username", writable=writable)


CONTACT = Entity(
    name="contact",
    model=Contact,
    fields=(
        key(),
        text("external_id"),
        text("first_name"),
        text("last_name"),
        full_name(),
        text("title"),
        ref("company", entity="company", label="name"),
        email("email"),
        phone("phone"),
        text("address", pii="address"),
        choice("lifecycle_stage"),
        text("source"),
        _owner(),
        tags(),
        custom_values(),
        text("notes"),
        boolean("consent_email"),
        boolean("consent_phone"),
        datetime("consent_updated_at", writable=False),
        *timestamps(),
    ),
)

COMPANY = Entity(
    name="company",
    model=Company,
    fields=(
        key(),
        text("external_id"),
        text("name"),
        text("domain"),
        text("industry"),
        choice("size_band"),
        text("country"),
        phone("phone"),
        text("address", pii="address"),
        _owner(),
        tags(),
        custom_values(),
        *timestamps(),
    ),
)

DEAL = Entity(
    name="deal",
    model=Deal,
    fields=(
        key(),
        text("external_id"),
        text("name"),
        ref("company", entity="company", label="name"),
        ref("primary_contact", entity="contact", label="full_name"),
        decimal("amount"),
        text("currency"),
        ref("pipeline", entity="pipeline", label="name", through="stage", writable=False),
        ref("stage", entity="stage", label="name"),
        choice("status"),
        date("expected_close_date"),
        datetime("closed_at", writable=False),
        _owner(),
        tags(),
        custom_values(),
        *timestamps(),
    ),
)

ACTIVITY = Entity(
    name="activity",
    model=Activity,
    fields=(
        key(),
        text("external_id"),
        choice("kind"),
        text("subject"),
        text("body"),
        datetime("due_at"),
        datetime("done_at"),
        ref("contact", entity="contact", label="full_name"),
        ref("company", entity="company", label="name"),
        ref("deal", entity="deal", label="name"),
        _owner("author", writable=False),
        *timestamps(),
    ),
)

ENTITIES: dict[str, Entity] = {entity.name: entity for entity in (CONTACT, COMPANY, DEAL, ACTIVITY)}
