"""What every SOAP record operation does, once for contacts and companies (the SOAP twin of
REST's ``ServiceViewSet``): authorise, call one selector or service, shape the reply.

spyne needs each operation declared with its own types, so ``contacts.py`` and
``companies.py`` declare them and delegate here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from customers import filters as entity_filters
from customers.actors import Actor
from customers.custom_fields.values import active_definitions
from integrations.soap import convert
from integrations.soap.auth import Caller
from integrations.soap.common import caller, page_bounds
from integrations.soap.faults import InvalidRequest, NotFound


@dataclass(frozen=True)
class Records:
    entity: str  # "contact": custom-field entity, element name and noun in messages
    resource: str  # "contacts": the API scope's resource
    model: type[models.Model]
    listing: Callable[..., QuerySet]  # listing(actor=…, filters=…): what `shape` reads
    selector: Callable[..., QuerySet]  # selectors.contact_list(actor=…, filters=…): counted
    get_for_update: Callable[[int], models.Model | None]
    find_by_external_id: Callable[[str], models.Model | None]
    # (queryset, offset, limit, caller) -> that slice of records in their SOAP shape
    shape: Callable[[QuerySet, int, int, Caller], list]
    # the services, each given the caller's actor: create(actor=…, **data),
    # update(record, data, actor), upsert(data, actor), delete(record, actor)
    create: Callable[..., models.Model]
    update: Callable[[models.Model, Mapping[str, Any], Actor], models.Model]
    upsert: Callable[[Mapping[str, Any], Actor], tuple[models.Model, bool]]
    delete: Callable[[models.Model, Actor], None]

    def authorise(self, ctx, action: str) -> Caller:
        who = caller(ctx)
        who.require(resource=self.resource, action=action, model=self.model)
        return who

    def get(self, ctx, record_id: int) -> Any:
        self.authorise(ctx, "read")
        return self._out(ctx, record_id)

    def get_by_external_id(self, ctx, external_id: str) -> Any:
        self.authorise(ctx, "read")
        found = self.find_by_external_id(external_id)
        if found is None:
            raise NotFound(self.entity, external_id)
        return self._out(ctx, found.pk)

    def search(
        self, ctx, criteria: Mapping[str, Any], offset: int | None, limit: int | None
    ) -> dict[str, Any]:
        """A page's fields: total, offset, limit, items. `criteria`: the operation's
        element name → the filter it is (``customers.filters``) and its value."""
        who = self.authorise(ctx, "read")
        offset, limit = page_bounds(offset, limit)
        filters = parse_criteria(self.entity, criteria, actor=who.actor)
        items = self.shape(self.listing(actor=who.actor, filters=filters), offset, limit, who)
        # counted on the model's own table: the listing's joins would make COUNT walk them all
        total = self.selector(actor=who.actor, filters=filters).count()
        return {"total": total, "offset": offset, "limit": limit, "items": items}

    def create_from(self, ctx, record: Any) -> Any:
        who = self.authorise(ctx, "create")
        created = self.create(actor=who.actor, **self._input(ctx, record, instance=None))
        return self._out(ctx, created.pk)

    def update_from(self, ctx, record: Any) -> Any:
        who = self.authorise(ctx, "update")
        if record is None or record.id is None:
            raise InvalidRequest(
                {"id": _("An update needs the %(entity)s's id.") % {"entity": self.entity}}
            )
        existing = self._locked(record.id)
        self.update(existing, self._input(ctx, record, instance=existing), who.actor)
        return self._out(ctx, existing.pk)

    def upsert_from(self, ctx, external_id: str, record: Any) -> tuple[Any, bool]:
        who = self.authorise(ctx, "update")  # as REST's PUT by external id
        existing = self.find_by_external_id(external_id)
        data = self._input(ctx, record, instance=existing)
        data["external_id"] = external_id
        written, created = self.upsert(data, who.actor)
        return self._out(ctx, written.pk), created

    def delete_by_id(self, ctx, record_id: int) -> None:
        who = self.authorise(ctx, "delete")
        self.delete(self._locked(record_id), who.actor)

    def _out(self, ctx, record_id: int) -> Any:
        found = self.shape(self.listing().filter(pk=record_id), 0, 1, caller(ctx))
        if not found:
            raise NotFound(self.entity, record_id)
        return found[0]

    def _locked(self, record_id: int) -> models.Model:
        """The record to write, locked until the call's transaction ends (as REST locks it)."""
        record = self.get_for_update(record_id)
        if record is None:
            raise NotFound(self.entity, record_id)
        return record

    def _input(self, ctx, record: Any, *, instance: models.Model | None) -> dict[str, Any]:
        if record is None:
            raise InvalidRequest(
                {self.entity: _("A %(entity)s element is required.") % {"entity": self.entity}}
            )
        return convert.record_input(
            record,
            entity=self.entity,
            sent=convert.sent_elements(ctx.in_body_doc, self.entity),
            definitions=active_definitions(self.entity),
            can_view_pii=caller(ctx).can_view_pii,
            instance=instance,
        )


def parse_criteria(
    entity: str, criteria: Mapping[str, tuple[str, Any]], *, actor: Any
) -> entity_filters.Filters:
    """A Search operation's criteria (element name → (filter name, value)) as the entity's
    filters; a refused one is a Client.ValidationError naming the element the caller sent
    (``query``, not the filter's ``search``)."""
    element_of = {name: element for element, (name, _value) in criteria.items()}
    params = {name: value for name, value in criteria.values()}
    try:
        return entity_filters.parse(entity, params, actor=actor)
    except ValidationError as error:
        raise ValidationError(
            {element_of.get(name, name): messages for name, messages in error.message_dict.items()}
        ) from None
