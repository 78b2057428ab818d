"""Batch writes over REST: up to 1,000 records, one outcome each, in input order.

Each record runs in its own savepoint, so a bad record never leaves half of itself behind. With
``atomic=true`` any failure rolls the whole batch back; otherwise good records commit and bad
ones are reported.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request

from customers.actors import Actor
from customers.api.errors import NON_FIELD, django_errors_as_dict, field_errors
from customers.services import companies
from integrations.api_auth import request_actor
from integrations.models import ApiKey
from integrations.scopes import has_scope, required_scope

MAX_BATCH_RECORDS = 1000
MODES = ("create", "update", "upsert")


def _as_bool(value: Any, *, field: str) -> bool:
    if isinstance(value, bool):
        return value
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no", ""):
        return False
    raise serializers.ValidationError(
        {field: [_("Expected true or false, got %(value)s.") % {"value": repr(value)}]}
    )


@dataclass
class BatchOptions:
    records: list[Any]
    mode: str
    atomic: bool
    create_related: bool = False

    @classmethod
    def from_request(cls, request: Request) -> "BatchOptions":
        """Records come as a list body (JSON array, XML list-items, CSV rows) or as
        ``{"records": [...], "mode": ..., "atomic": ...}``; query parameters win."""
        body = request.data
        body_options: Mapping[str, Any] = {}
        if isinstance(body, Mapping) and "records" in body:
            body_options, records = body, body["records"]
        else:
            records = body
        if records == "":
            records = []  # an empty XML <records/> element
        if not isinstance(records, list):
            raise serializers.ValidationError(
                {"records": [_('Send a list of records, or {"records": [...]}.')]}
            )
        if len(records) > MAX_BATCH_RECORDS:
            message = _("At most %(limit)d records per batch, got %(count)d.") % {
                "limit": MAX_BATCH_RECORDS,
                "count": len(records),
            }
            raise serializers.ValidationError({"records": [message]})
        mode = request.query_params.get("mode") or body_options.get("mode") or "create"
        if mode not in MODES:
            message = _("Use one of %(choices)s.") % {"choices": ", ".join(MODES)}
            raise serializers.ValidationError({"mode": [message]})
        atomic = request.query_params.get("atomic", body_options.get("atomic", False))
        create_related = _as_bool(
            request.query_params.get("create_related", body_options.get("create_related", False)),
            field="create_related",
        )
        view = (request.parser_context or {}).get("view")
        if getattr(view, "basename", "") in _WITH_COMPANY:
            actor = request_actor(request)
            records = [
                _company_by_name(record, create=create_related, actor=actor) for record in records
            ]
            if create_related and any(isinstance(r, _NamingCompany) for r in records):
                _check_may_create_companies(request)
        return cls(
            records=records,
            mode=mode,
            atomic=_as_bool(atomic, field="atomic"),
            create_related=create_related,
        )


# Records that belong to a company, which a batch entry may name: {"company": {"name": …}}.
_WITH_COMPANY = {"contact", "deal"}


class _NamingCompany(dict):
    """A batch entry naming its company by name rather than id. The company is looked up (or
    created) only when the entry is written, inside its own savepoint: a record that fails,
    or an atomic batch that rolls back, leaves no company behind."""

    name: str
    create: bool
    actor: Actor

    def resolved(self) -> dict[str, Any]:
        try:
            company, _created = companies.company_for_name(
                actor=self.actor, name=self.name, create=self.create
            )
        except DjangoValidationError as error:  # the company's own field, not the record's
            message = _("Could not create %(what)s: %(message)s") % {
                "what": _("the company"),
                "message": " ".join(error.messages),
            }
            raise _RecordError({"company": [message]}) from None
        if company is None:
            message = _("No company is named %(name)s; send create_related=true to create it.") % {
                "name": repr(self.name)
            }
            raise _RecordError({"company": [message]})
        return {**self, "company": company.pk}


def _check_may_create_companies(request: Request) -> None:
    """`create_related` writes companies: it needs what ``POST /companies/`` needs (the key's
    companies scope and the user's permission), not only the contacts' or deals' ones."""
    scope = required_scope("companies", "POST")
    if isinstance(request.auth, ApiKey) and not has_scope(request.auth.scopes, scope):
        raise exceptions.PermissionDenied(
            _("create_related creates companies: this API key lacks the %(scope)s scope.")
            % {"scope": repr(scope)}
        )
    if not request.user.has_perm("customers.add_company"):
        raise exceptions.PermissionDenied(
            _("create_related creates companies: your user may not add companies.")
        )


def _company_by_name(record: Any, *, create: bool, actor: Actor) -> Any:
    """Without this, an object without an id would be read as no company at all."""
    company = record.get("company") if isinstance(record, Mapping) else None
    if not isinstance(company, Mapping) or company.get("id") not in (None, ""):
        return record
    name = company.get("name")
    if not isinstance(name, str) or not name.strip():
        return record
    naming = _NamingCompany(record)
    naming.name, naming.create, naming.actor = name, create, actor
    return naming


@dataclass
class BatchOutcome:
    results: list[dict[str, Any]]
    committed: bool

    @property
    def http_status(self) -> int:
        return status.HTTP_200_OK if self.committed else status.HTTP_400_BAD_REQUEST

    def as_dict(self) -> dict[str, Any]:
        counts = {"created": 0, "updated": 0, "error": 0, "rolled_back": 0}
        for result in self.results:
            counts[result["status"]] += 1
        body = {"committed": self.committed, **counts, "results": self.results}
        if not self.committed:
            # The uniform error shape first; the per-record outcomes stay beside it.
            errors = {
                f"records.{result['index']}.{field}": messages
                for result in self.results
                if result["status"] == "error"
                for field, messages in result["errors"].items()
            }
            body = {
                "code": "batch_rolled_back",
                "message": _(
                    "Nothing was written: %(failed)d of %(total)d records are invalid "
                    "(atomic=true)."
                )
                % {"failed": counts["error"], "total": len(self.results)},
                "errors": errors,
                **body,
            }
        return body


class _RecordError(Exception):
    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors


def run(
    *,
    records: list[Any],
    mode: str,
    atomic: bool,
    parse: Callable[[Any, models.Model | None], dict[str, Any]],
    find: Callable[[Any], models.Model | None],
    create: Callable[[dict[str, Any]], models.Model],
    update: Callable[[models.Model, dict[str, Any]], models.Model],
    upsert: Callable[[dict[str, Any]], tuple[models.Model, bool]],
) -> BatchOutcome:
    results: list[dict[str, Any]] = []
    with transaction.atomic():
        for index, record in enumerate(records):
            try:
                with transaction.atomic():
                    instance, outcome = _write_one(
                        record, mode, parse, find, create, update, upsert
                    )
                results.append({"index": index, "status": outcome, "id": instance.pk})
            except _RecordError as error:
                results.append({"index": index, "status": "error", "errors": error.errors})
        failed = any(result["status"] == "error" for result in results)
        if atomic and failed:
            transaction.set_rollback(True)
            for result in results:
                if result["status"] != "error":
                    result["status"] = "rolled_back"
                    result.pop("id", None)
            return BatchOutcome(results=results, committed=False)
    return BatchOutcome(results=results, committed=True)


def _write_one(record, mode, parse, find, create, update, upsert) -> tuple[models.Model, str]:
    try:
        if not isinstance(record, Mapping):
            raise _RecordError({NON_FIELD: [_("Each record must be an object.")]})
        if isinstance(record, _NamingCompany):
            record = record.resolved()
        if mode == "create":
            return create(parse(record, None)), "created"
        existing = find(record)
        if mode == "update":
            if existing is None:
                raise _RecordError({NON_FIELD: [_("No record with this id or external_id.")]})
            return update(existing, parse(record, existing)), "updated"
        data = parse(record, existing)
        if existing is not None and not data.get("external_id"):
            return update(existing, data), "updated"
        instance, created = upsert(data)
        return instance, "created" if created else "updated"
    except serializers.ValidationError as error:
        raise _RecordError(field_errors(error.detail)) from None
    except DjangoValidationError as error:
        raise _RecordError(django_errors_as_dict(error)) from None
