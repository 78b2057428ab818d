"""One public shape per entity, declared once and read by every door.

Each entity (``contact``, ``company``, ``deal``, ``activity``) lists its public fields in
order, with each field's kind, whether it is personal data, whether a client may write it, its
CSV column and XML element, and how its value is read from a model instance or a plain row.
The REST serializers and CSV columns, the REST list fast path and the export encoders are
derived from these declarations (and SOAP, webhooks, the change feed and the import mappings
may read them too), so adding a field to contacts is one line in ``entities.py`` plus the
migration::

    from customers.representation import entity_spec

    contact = entity_spec("contact")
    contact.names                # ("id", "external_id", "first_name", …)
    contact["email"].pii         # "email": encrypted, masked without the right to read it
    contact.csv_columns()        # ["id", …, "company.id", "company.name", …]
    [f.name for f in contact.writable]

This package is the domain's, not a door's: it imports neither DRF nor ``customers.api``.
"""

from customers.representation.entities import ACTIVITY, COMPANY, CONTACT, DEAL, ENTITIES
from customers.representation.spec import Entity, Field, Kind, Read, Reference

__all__ = [
    "ACTIVITY",
    "COMPANY",
    "CONTACT",
    "DEAL",
    "ENTITIES",
    "Entity",
    "Field",
    "Kind",
    "Read",
    "Reference",
    "entity_spec",
]


def entity_spec(entity: str) -> Entity:
    """The declaration of `entity` (``contact``, ``company``, ``deal`` or ``activity``)."""
    try:
        return ENTITIES[entity]
    except KeyError:
        raise LookupError(f"No entity {entity!r}: use one of {', '.join(ENTITIES)}.") from None
