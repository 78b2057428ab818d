"""SOAP operations on deals (read-only: get and search)."""

from spyne import DateTime, ServiceBase, Unicode, rpc

from customers import selectors
from customers.custom_fields.values import active_definitions
from customers.models import Deal
from integrations.soap import convert, types
from integrations.soap.common import RequiredId, as_utc, caller, page_bounds
from integrations.soap.faults import NotFound
from integrations.soap.records import parse_criteria
from integrations.soap.types import Id

RESOURCE = "deals"


class DealService(ServiceBase):
    @rpc(RequiredId, _returns=types.Deal)
    def GetDeal(ctx, id):
        """The deal with this id, with its pipeline and stage. Needs deals:read.
        Faults: Client.NotFound."""
        who = caller(ctx)
        who.require(resource=RESOURCE, action="read", model=Deal)
        deal = selectors.deal_get(id)
        if deal is None:
            raise NotFound("deal", id)
        return convert.deal_out(
            deal, can_view_pii=who.can_view_pii, definitions=active_definitions("deal")
        )

    @rpc(Unicode, Unicode, Id, DateTime, Id, Id, _returns=types.DealPage)
    def SearchDeals(ctx, query, status, company_id, updated_since, offset, limit):
        """Deals matching every criterion given: `query` (in the name), `status` (open, won
        or lost), `company_id`, `updated_since` (changed at or after, UTC). Newest first;
        `offset` from 0, `limit` 1-500 (default 50). Needs deals:read. Faults:
        Client.ValidationError naming a criterion the deal filters refuse (an unknown status
        or company), as REST's ``?status=`` and ``?company=`` are refused."""
        who = caller(ctx)
        who.require(resource=RESOURCE, action="read", model=Deal)
        offset, limit = page_bounds(offset, limit)
        criteria = {
            "query": ("search", query),
            "status": ("status", status),
            "company_id": ("company", company_id),
            "updated_since": ("updated_since", as_utc(updated_since)),
        }
        filters = parse_criteria("deal", criteria, actor=who.actor)
        queryset = selectors.deal_list(actor=who.actor, filters=filters)
        definitions = active_definitions("deal")
        return types.DealPage(
            total=queryset.count(),
            offset=offset,
            limit=limit,
            items=[
                convert.deal_out(d, can_view_pii=who.can_view_pii, definitions=definitions)
                for d in queryset[offset : offset + limit]
            ],
        )
