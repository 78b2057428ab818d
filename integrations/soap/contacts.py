"""SOAP operations on contacts (the shared steps are in ``records``)."""

from typing import Any

from django.db.models import QuerySet
from spyne import DateTime, ServiceBase, Unicode, rpc

from customers import selectors
from customers.custom_fields.values import active_definitions
from customers.models import Contact
from customers.representation import list_rows
from customers.services import contacts
from integrations.soap import convert, types
from integrations.soap.auth import Caller
from integrations.soap.common import RequiredId, as_utc
from integrations.soap.records import Records
from integrations.soap.types import Id


def _listing(*, actor: Any = None, filters: Any = None) -> QuerySet:
    """The REST list's own plain rows, narrowed by the selector: one record reads the same
    in both doors by construction."""
    return selectors.contact_list(actor=actor, filters=filters, queryset=list_rows.contact_values())


def _shape(rows: QuerySet, offset: int, limit: int, who: Caller) -> list:
    rows = rows[offset : offset + limit]
    definitions = active_definitions("contact")
    records = list_rows.contact_page(rows, can_view_pii=who.can_view_pii, definitions=definitions)
    return convert.records_out("contact", records, definitions=definitions)


CONTACTS = Records(
    entity="contact",
    resource="contacts",
    model=Contact,
    listing=_listing,
    selector=selectors.contact_list,
    get_for_update=selectors.contact_get_for_update,
    find_by_external_id=selectors.find_contact_by_external_id,
    shape=_shape,
    create=contacts.contact_create,
    update=lambda contact, data, actor: contacts.contact_update(
        actor=actor, contact=contact, data=data
    ),
    upsert=lambda data, actor: contacts.contact_upsert(actor=actor, data=data),
    delete=lambda contact, actor: contacts.contact_delete(actor=actor, contact=contact),
)


class ContactService(ServiceBase):
    @rpc(RequiredId, _returns=types.Contact)
    def GetContact(ctx, id):
        """The contact with this id. Needs contacts:read; PII is masked without pii:read.
        Faults: Client.NotFound."""
        return CONTACTS.get(ctx, id)

    @rpc(Unicode(min_occurs=1, nillable=False), _returns=types.Contact)
    def GetContactByExternalId(ctx, external_id):
        """The contact your system knows by this external id. Needs contacts:read.
        Faults: Client.NotFound."""
        return CONTACTS.get_by_external_id(ctx, external_id)

    @rpc(Unicode, Unicode, DateTime, Id, Id, _returns=types.ContactPage)
    def SearchContacts(ctx, query, email, updated_since, offset, limit):
        """Contacts matching every criterion given: `query` (words in names, title or company
        name), `email` (exact, any letter case), `updated_since` (changed at or after, UTC).
        Ordered by last name, first name, id; `offset` from 0, `limit` 1-500 (default 50).
        Needs contacts:read; `email` also needs pii:read (and the user's right to read
        personal data), else Client.ValidationError naming `email`, whether or not anyone
        has that address."""
        criteria = {
            "query": ("search", query),
            "email": ("email", email),
            "updated_since": ("updated_since", as_utc(updated_since)),
        }
        return types.ContactPage(**CONTACTS.search(ctx, criteria, offset, limit))

    @rpc(types.Contact, _returns=types.Contact)
    def CreateContact(ctx, contact):
        """Create a contact (it needs a name, an email or a phone). Needs contacts:write.
        Faults: Client.ValidationError naming each invalid field; nothing is written."""
        return CONTACTS.create_from(ctx, contact)

    @rpc(types.Contact, _returns=types.Contact)
    def UpdateContact(ctx, contact):
        """Change the contact `contact.id`: elements you send are written (nil clears one),
        elements you leave out keep their value. Needs contacts:write.
        Faults: Client.NotFound, Client.ValidationError."""
        return CONTACTS.update_from(ctx, contact)

    @rpc(Unicode(min_occurs=1, nillable=False), types.Contact, _returns=types.ContactUpsertResult)
    def UpsertContact(ctx, external_id, contact):
        """Create the contact with this external id, or update it (only the elements sent).
        Safe to retry. Needs contacts:write. Faults: Client.ValidationError."""
        written, created = CONTACTS.upsert_from(ctx, external_id, contact)
        return types.ContactUpsertResult(created=created, contact=written)

    @rpc(RequiredId)
    def DeleteContact(ctx, id):
        """Delete the contact; its activities stay, moved to its company. Needs
        contacts:write and the user's delete permission. Faults: Client.NotFound."""
        CONTACTS.delete_by_id(ctx, id)
