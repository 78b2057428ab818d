"""Related records an import creates when none matches (the job's ``create_related``): the
companies that contacts and deals name, and the contacts that deals name by email.

A file from another CRM names a contact's company by name (Salesforce's ``Account Name``,
HubSpot's ``Company Name``); without this every such row fails. The missing records are written
by the import's own bulk writer, so they get the same field rules, unique checks and outbox
events as any company or contact the import writes, once per distinct record the chunk names
and before the chunk's rows are resolved: the rows then find them, and so do the next chunk and
a re-run of the same file, which creates none.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache

from django.utils.translation import gettext as _

from customers import crypto
from customers.actors import Actor
from customers.custom_fields.values import definitions_for
from integrations.imports.rows import ChunkLookups, CleanRow, CompanyWanted, clean_own_values
from integrations.imports.writer import write_chunk


@dataclass
class RelatedCreated:
    """What one chunk created: (record id, the first row that named it) per entity, and the
    rows `kept_out` that named a missing record (none was created for them: the writer skips
    them, so their company or contact is not looked for)."""

    companies: list[tuple[int, int]] = field(default_factory=list)
    contacts: list[tuple[int, int]] = field(default_factory=list)
    kept_out: set[int] = field(default_factory=set)


def create_missing_related(
    *,
    resource: str,
    rows: Sequence[CleanRow],
    lookups: ChunkLookups,
    actor: Actor,
    kept_out: Callable[[], set[int]] = set,
) -> RelatedCreated:
    """Create what the chunk's rows name and `lookups` did not find, and add it to `lookups`.
    A row already rejected for its own values or its other references creates nothing, nor
    does one of `kept_out` (the rows the writer will skip for their match key: asked only
    when something is missing); a related record that cannot be created (a name too long)
    fails the rows that named it, with the reason."""
    created = RelatedCreated()
    skipped = cache(kept_out)
    if resource in ("contacts", "deals"):
        _create_companies(rows, lookups, created, skipped, actor)
    if resource == "deals":
        _create_contacts(rows, lookups, created, skipped, actor)
    if skipped.cache_info().currsize:
        created.kept_out = skipped()
    return created


def _create_companies(
    rows: Sequence[CleanRow],
    lookups: ChunkLookups,
    created: RelatedCreated,
    skipped: Callable[[], set[int]],
    actor: Actor,
) -> None:
    planned: list[CompanyWanted] = []
    naming: list[list[CleanRow]] = []  # per planned company, the rows that name it
    by_key: dict[tuple[str, str], int] = {}
    for row in rows:
        wanted = CompanyWanted.of(row.references) if not row.errors else None
        if wanted is None or not wanted.name or lookups.company_for(wanted) is not None:
            continue  # no name to create it with, or it exists
        if row.number in skipped():
            continue
        keys = _company_keys(wanted)
        index = next((by_key[key] for key in keys if key in by_key), None)
        if index is None:
            index = len(planned)
            planned.append(wanted)
            naming.append([])
            for key in keys:
                by_key[key] = index
        naming[index].append(row)
    if not planned:
        return

    def register(index: int, pk: int) -> None:
        wanted = planned[index]
        lookups.companies_by_name.setdefault(wanted.name.lower(), pk)
        if wanted.domain:
            lookups.companies_by_domain.setdefault(wanted.domain, pk)
        if wanted.external_id:
            lookups.companies_by_external_id.setdefault(wanted.external_id, pk)
        created.companies.append((pk, naming[index][0].number))

    _write(
        resource="companies",
        records=[
            {"name": w.name, "domain": w.domain, "external_id": w.external_id or None}
            for w in planned
        ],
        naming=naming,
        register=register,
        label=lambda index: planned[index].name,
        what=_("the company"),
        actor=actor,
    )


def _company_keys(wanted: CompanyWanted) -> list[tuple[str, str]]:
    """How two rows name the same new company: the same external id, domain or name."""
    keys = [("name", wanted.name.lower())]
    if wanted.domain:
        keys.insert(0, ("domain", wanted.domain))
    if wanted.external_id:
        keys.insert(0, ("external_id", wanted.external_id))
    return keys


def _create_contacts(
    rows: Sequence[CleanRow],
    lookups: ChunkLookups,
    created: RelatedCreated,
    skipped: Callable[[], set[int]],
    actor: Actor,
) -> None:
    """Deals' primary contacts by email: an email is all a contact needs."""
    emails: list[str] = []
    naming: list[list[CleanRow]] = []
    by_index: dict[str, int] = {}
    for row in rows:
        email = str(row.references.get("primary_contact_email") or "").strip()
        given_id = str(row.references.get("primary_contact") or "").strip()
        if row.errors or not email or given_id:
            continue
        index_value = crypto.email_index(email)
        if not index_value or index_value in lookups.contacts_by_email_index:
            continue
        if row.number in skipped():
            continue
        if index_value not in by_index:
            by_index[index_value] = len(emails)
            emails.append(email)
            naming.append([])
        naming[by_index[index_value]].append(row)
    if not emails:
        return
    indexes = list(by_index)

    def register(index: int, pk: int) -> None:
        lookups.contacts_by_email_index.setdefault(indexes[index], pk)
        created.contacts.append((pk, naming[index][0].number))

    _write(
        resource="contacts",
        records=[{"email": email} for email in emails],
        naming=naming,
        register=register,
        label=lambda index: "",  # an email is personal data: the message does not quote it
        what=_("the contact"),
        actor=actor,
    )


def _write(
    *,
    resource: str,
    records: list[dict],
    naming: list[list[CleanRow]],
    register: Callable[[int, int], None],
    label: Callable[[int], str],
    what: str,
    actor: Actor,
) -> None:
    """`records` checked and inserted by the bulk writer (numbered by their index); each one
    written is registered, each one refused fails the rows that named it."""
    entity = {"companies": "company", "contacts": "contact"}[resource]
    cleaned = [
        clean_own_values(resource=resource, number=index, mapped=values)
        for index, values in enumerate(records)
    ]
    for row in cleaned:
        if row.values.get("email"):
            row.email_index = crypto.email_index(row.values["email"])
    result = write_chunk(
        resource=resource,
        rows=cleaned,
        mode="insert",
        match_key="email" if resource == "contacts" else "external_id",
        definitions=definitions_for(entity),
        want_ids=True,
        actor=actor,
    )
    for number, pk in result.created_ids.items():
        register(number, pk)
    for problem in result.problems:
        name = label(problem.number)
        reason = (
            _("Could not create %(what)s %(name)s: %(message)s")
            if name
            else _("Could not create %(what)s: %(message)s")
        )
        message = reason % {"what": what, "name": repr(name), "message": problem.message}
        for row in naming[problem.number]:
            row.fail("company" if resource == "companies" else "primary_contact", message)
