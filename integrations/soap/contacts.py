"""SOAP operations on contacts. Each authorises, calls one selector or service, shapes."""

from spyne import DateTime, Integer, ServiceBase, Unicode, rpc

from customers import selectors
from customers.api import list_rows
from customers.custom_fields.values import active_definitions
from customers.models import Contact
from customers.services import contacts
from integrations.soap import convert, types
from integrations.soap.common import RequiredId, as_utc, caller, page_bounds
from integrations.soap.faults import InvalidRequest, NotFound

RESOURCE = "contacts"


def _authorised(ctx, action: str):
    who = caller(ctx)
    who.require(resource=RESOURCE, action=action, model=Contact)
    return who


def _page(ctx, queryset, offset: int = 0, limit: int = 1) -> list[types.Contact]:
    rows = list_rows.contact_values(queryset)[offset : offset + limit]
    return convert.contacts_out(
        rows, can_view_pii=caller(ctx).can_view_pii, definitions=active_definitions("contact")
    )


def _out(ctx, contact_id: int) -> types.Contact:
    found = _page(ctx, selectors.contact_list().filter(pk=contact_id))
    if not found:
        raise NotFound("contact", contact_id)
    return found[0]


def _locked(contact_id: int | None) -> Contact:
    """The contact to write, locked until the call's transaction ends (as REST locks it)."""
    contact = selectors.contact_get_for_update(contact_id) if contact_id is not None else None
    if contact is None:
        raise NotFound("contact", contact_id)
    return contact


def _input(ctx, contact: types.Contact, *, instance: Contact | None) -> dict:
    if contact is None:
        raise InvalidRequest({"contact": "A contact element is required."})
    return convert.record_input(
        contact,
        entity="contact",
        sent=convert.sent_elements(ctx.in_body_doc, "contact"),
        definitions=active_definitions("contact"),
        can_view_pii=caller(ctx).can_view_pii,
        instance=instance,
    )


class ContactService(ServiceBase):
    @rpc(RequiredId, _returns=types.Contact)
    def GetContact(ctx, id):
        """The contact with this id. Needs contacts:read; PII is masked without pii:read.
        Faults: Client.NotFound."""
        _authorised(ctx, "read")
        return _out(ctx, id)

    @rpc(Unicode(min_occurs=1, nillable=False), _returns=types.Contact)
    def GetContactByExternalId(ctx, external_id):
        """The contact your system knows by this external id. Needs contacts:read.
        Faults: Client.NotFound."""
        _authorised(ctx, "read")
        found = selectors.find_contact_by_external_id(external_id)
        if found is None:
            raise NotFound("contact", external_id)
        return _out(ctx, found.pk)

    @rpc(Unicode, Unicode, DateTime, Integer, Integer, _returns=types.ContactPage)
    def SearchContacts(ctx, query, email, updated_since, offset, limit):
        """Contacts matching every criterion given: `query` (words in names, title or company
        name), `email` (exact, any letter case), `updated_since` (changed at or after, UTC).
        Ordered by last name, first name, id; `offset` from 0, `limit` 1-500 (default 50).
        Needs contacts:read."""
        _authorised(ctx, "read")
        offset, limit = page_bounds(offset, limit)
        queryset = selectors.contact_list(
            filters={"search": query, "email": email, "updated_since": as_utc(updated_since)}
        )
        return types.ContactPage(
            total=queryset.count(),
            offset=offset,
            limit=limit,
            items=_page(ctx, queryset, offset, limit),
        )

    @rpc(types.Contact, _returns=types.Contact)
    def CreateContact(ctx, contact):
        """Create a contact (it needs a name, an email or a phone). Needs contacts:write.
        Faults: Client.ValidationError naming each invalid field; nothing is written."""
        _authorised(ctx, "create")
        created = contacts.contact_create(**_input(ctx, contact, instance=None))
        return _out(ctx, created.pk)

    @rpc(types.Contact, _returns=types.Contact)
    def UpdateContact(ctx, contact):
        """Change the contact `contact.id`: elements you send are written (nil clears one),
        elements you leave out keep their value. Needs contacts:write.
        Faults: Client.NotFound, Client.ValidationError."""
        _authorised(ctx, "update")
        if contact is None or contact.id is None:
            raise InvalidRequest({"id": "UpdateContact needs the contact's id."})
        existing = _locked(contact.id)
        contacts.contact_update(contact=existing, data=_input(ctx, contact, instance=existing))
        return _out(ctx, existing.pk)

    @rpc(Unicode(min_occurs=1, nillable=False), types.Contact, _returns=types.ContactUpsertResult)
    def UpsertContact(ctx, external_id, contact):
        """Create the contact with this external id, or update it (only the elements sent).
        Safe to retry. Needs contacts:write. Faults: Client.ValidationError."""
        _authorised(ctx, "update")
        existing = selectors.find_contact_by_external_id(external_id)
        data = _input(ctx, contact, instance=existing)
        data["external_id"] = external_id
        written, created = contacts.contact_upsert(data=data)
        return types.ContactUpsertResult(created=created, contact=_out(ctx, written.pk))

    @rpc(RequiredId)
    def DeleteContact(ctx, id):
        """Delete the contact; its activities stay, moved to its company. Needs
        contacts:write and the user's delete permission. Faults: Client.NotFound."""
        _authorised(ctx, "delete")
        contacts.contact_delete(contact=_locked(id))
