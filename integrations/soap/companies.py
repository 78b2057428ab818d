"""SOAP operations on companies (the shared steps are in ``records``)."""

from django.db.models import QuerySet
from spyne import DateTime, ServiceBase, Unicode, rpc

from customers import selectors
from customers.custom_fields.values import active_definitions
from customers.models import Company
from customers.services import companies
from integrations.soap import convert, types
from integrations.soap.auth import Caller
from integrations.soap.common import RequiredId, as_utc
from integrations.soap.records import Records
from integrations.soap.types import Id


def _shape(queryset: QuerySet, offset: int, limit: int, who: Caller) -> list:
    definitions = active_definitions("company")
    return [
        convert.company_out(company, can_view_pii=who.can_view_pii, definitions=definitions)
        for company in queryset[offset : offset + limit]
    ]


COMPANIES = Records(
    entity="company",
    resource="companies",
    model=Company,
    listing=selectors.company_list,
    selector=selectors.company_list,
    get_for_update=selectors.company_get_for_update,
    find_by_external_id=selectors.find_company_by_external_id,
    shape=_shape,
    create=companies.company_create,
    update=lambda company, data, actor: companies.company_update(
        actor=actor, company=company, data=data
    ),
    upsert=lambda data, actor: companies.company_upsert(actor=actor, data=data),
    delete=lambda company, actor: companies.company_delete(actor=actor, company=company),
)


class CompanyService(ServiceBase):
    @rpc(RequiredId, _returns=types.Company)
    def GetCompany(ctx, id):
        """The company with this id. Needs companies:read; PII is masked without pii:read.
        Faults: Client.NotFound."""
        return COMPANIES.get(ctx, id)

    @rpc(Unicode(min_occurs=1, nillable=False), _returns=types.Company)
    def GetCompanyByExternalId(ctx, external_id):
        """The company your system knows by this external id. Needs companies:read.
        Faults: Client.NotFound."""
        return COMPANIES.get_by_external_id(ctx, external_id)

    @rpc(Unicode, Unicode, DateTime, Id, Id, _returns=types.CompanyPage)
    def SearchCompanies(ctx, query, phone, updated_since, offset, limit):
        """Companies matching every criterion given: `query` (in name, domain or industry),
        `phone` (exact, any formatting), `updated_since` (changed at or after, UTC). Ordered
        by name, id; `offset` from 0, `limit` 1-500 (default 50). Needs companies:read;
        `phone` also needs pii:read (and the user's right to read personal data), else
        Client.ValidationError naming `phone`, whether or not any company has that number."""
        criteria = {
            "query": ("search", query),
            "phone": ("phone", phone),
            "updated_since": ("updated_since", as_utc(updated_since)),
        }
        return types.CompanyPage(**COMPANIES.search(ctx, criteria, offset, limit))

    @rpc(types.Company, _returns=types.Company)
    def CreateCompany(ctx, company):
        """Create a company (it needs a name). Needs companies:write.
        Faults: Client.ValidationError naming each invalid field; nothing is written."""
        return COMPANIES.create_from(ctx, company)

    @rpc(types.Company, _returns=types.Company)
    def UpdateCompany(ctx, company):
        """Change the company `company.id`: elements you send are written (nil clears one),
        elements you leave out keep their value. Needs companies:write.
        Faults: Client.NotFound, Client.ValidationError."""
        return COMPANIES.update_from(ctx, company)

    @rpc(Unicode(min_occurs=1, nillable=False), types.Company, _returns=types.CompanyUpsertResult)
    def UpsertCompany(ctx, external_id, company):
        """Create the company with this external id, or update it (only the elements sent).
        Safe to retry. Needs companies:write. Faults: Client.ValidationError."""
        written, created = COMPANIES.upsert_from(ctx, external_id, company)
        return types.CompanyUpsertResult(created=created, company=written)

    @rpc(RequiredId)
    def DeleteCompany(ctx, id):
        """Delete the company; its contacts, deals and activities stay, unlinked. Needs
        companies:write and the user's delete permission. Faults: Client.NotFound."""
        COMPANIES.delete_by_id(ctx, id)
