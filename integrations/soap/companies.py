"""SOAP operations on companies. Each authorises, calls one selector or service, shapes."""

from spyne import DateTime, Integer, ServiceBase, Unicode, rpc

from customers import selectors
from customers.custom_fields.values import active_definitions
from customers.models import Company
from customers.services import companies
from integrations.soap import convert, types
from integrations.soap.common import RequiredId, as_utc, caller, page_bounds
from integrations.soap.faults import InvalidRequest, NotFound

RESOURCE = "companies"


def _authorised(ctx, action: str):
    who = caller(ctx)
    who.require(resource=RESOURCE, action=action, model=Company)
    return who


def _out(ctx, company: Company) -> types.Company:
    who = caller(ctx)
    return convert.company_out(
        company, can_view_pii=who.can_view_pii, definitions=active_definitions("company")
    )


def _found(company_id: int) -> Company:
    company = selectors.company_get(company_id)
    if company is None:
        raise NotFound("company", company_id)
    return company


def _locked(company_id: int | None) -> Company:
    """The company to write, locked until the call's transaction ends (as REST locks it)."""
    company = selectors.company_get_for_update(company_id) if company_id is not None else None
    if company is None:
        raise NotFound("company", company_id)
    return company


def _input(ctx, company: types.Company, *, instance: Company | None) -> dict:
    if company is None:
        raise InvalidRequest({"company": "A company element is required."})
    return convert.record_input(
        company,
        entity="company",
        sent=convert.sent_elements(ctx.in_body_doc, "company"),
        definitions=active_definitions("company"),
        can_view_pii=caller(ctx).can_view_pii,
        instance=instance,
    )


class CompanyService(ServiceBase):
    @rpc(RequiredId, _returns=types.Company)
    def GetCompany(ctx, id):
        """The company with this id. Needs companies:read; PII is masked without pii:read.
        Faults: Client.NotFound."""
        _authorised(ctx, "read")
        return _out(ctx, _found(id))

    @rpc(Unicode(min_occurs=1, nillable=False), _returns=types.Company)
    def GetCompanyByExternalId(ctx, external_id):
        """The company your system knows by this external id. Needs companies:read.
        Faults: Client.NotFound."""
        _authorised(ctx, "read")
        found = selectors.find_company_by_external_id(external_id)
        if found is None:
            raise NotFound("company", external_id)
        return _out(ctx, _found(found.pk))

    @rpc(Unicode, Unicode, DateTime, Integer, Integer, _returns=types.CompanyPage)
    def SearchCompanies(ctx, query, phone, updated_since, offset, limit):
        """Companies matching every criterion given: `query` (in name, domain or industry),
        `phone` (exact, any formatting), `updated_since` (changed at or after, UTC). Ordered
        by name, id; `offset` from 0, `limit` 1-500 (default 50). Needs companies:read."""
        _authorised(ctx, "read")
        offset, limit = page_bounds(offset, limit)
        queryset = selectors.company_list(
            filters={"search": query, "phone": phone, "updated_since": as_utc(updated_since)}
        )
        definitions = active_definitions("company")
        can_view_pii = caller(ctx).can_view_pii
        return types.CompanyPage(
            total=queryset.count(),
            offset=offset,
            limit=limit,
            items=[
                convert.company_out(c, can_view_pii=can_view_pii, definitions=definitions)
                for c in queryset[offset : offset + limit]
            ],
        )

    @rpc(types.Company, _returns=types.Company)
    def CreateCompany(ctx, company):
        """Create a company (it needs a name). Needs companies:write.
        Faults: Client.ValidationError naming each invalid field; nothing is written."""
        _authorised(ctx, "create")
        created = companies.company_create(**_input(ctx, company, instance=None))
        return _out(ctx, _found(created.pk))

    @rpc(types.Company, _returns=types.Company)
    def UpdateCompany(ctx, company):
        """Change the company `company.id`: elements you send are written (nil clears one),
        elements you leave out keep their value. Needs companies:write.
        Faults: Client.NotFound, Client.ValidationError."""
        _authorised(ctx, "update")
        if company is None or company.id is None:
            raise InvalidRequest({"id": "UpdateCompany needs the company's id."})
        existing = _locked(company.id)
        companies.company_update(company=existing, data=_input(ctx, company, instance=existing))
        return _out(ctx, _found(existing.pk))

    @rpc(Unicode(min_occurs=1, nillable=False), types.Company, _returns=types.CompanyUpsertResult)
    def UpsertCompany(ctx, external_id, company):
        """Create the company with this external id, or update it (only the elements sent).
        Safe to retry. Needs companies:write. Faults: Client.ValidationError."""
        _authorised(ctx, "update")
        existing = selectors.find_company_by_external_id(external_id)
        data = _input(ctx, company, instance=existing)
        data["external_id"] = external_id
        written, created = companies.company_upsert(data=data)
        return types.CompanyUpsertResult(created=created, company=_out(ctx, _found(written.pk)))

    @rpc(RequiredId)
    def DeleteCompany(ctx, id):
        """Delete the company; its contacts, deals and activities stay, unlinked. Needs
        companies:write and the user's delete permission. Faults: Client.NotFound."""
        _authorised(ctx, "delete")
        companies.company_delete(company=_locked(id))
