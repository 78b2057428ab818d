"""The record rules every write obeys, whichever door it came through.

The per-record services (``contact_create`` …) and the bulk import writer both call these, so a
rule and its words exist once (``custom_fields.values.CustomValuesApplier`` is the pattern: a
rule object built once, applied to one record or to a whole chunk). Lookups a rule needs come
from a source the caller chooses: the services ask the database for the one record in hand,
the import loads what a chunk needs in one query (``StageTable``), never one per row.

Every message is translated when raised, in the language active then: the request's for the
services, the language of the user who started the job for an import (see
``integrations.imports.services``).
"""

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext as _

from customers import selectors
from customers.models import Contact, Deal, Stage, Tag

Errors = dict[str, list]
TAG_NAME_LENGTH = Tag._meta.get_field("name").max_length


# References


def unknown_reference(model: type[models.Model], value: Any) -> str:
    """ "Unknown user 42." for a reference nothing matches. An id read from a file cell ("42")
    is named as the number a JSON door would have sent, so both say the same."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return _("Unknown %(model)s %(value)s.") % {
        "model": model._meta.verbose_name,
        "value": repr(value),
    }


# Tags


def is_list_of_names(names: Any) -> bool:
    """A list (or other collection) of names; a bare string is not (it would iterate letters)."""
    return isinstance(names, Iterable) and not isinstance(names, (str, bytes, Mapping))


def tag_names_by_key(names: Iterable[Any]) -> dict[str, str]:
    """Each distinct tag name (trimmed) under its case-insensitive key, first spelling kept.
    A name longer than a tag can be is refused, never cut: two long names sharing their first
    64 characters would otherwise become one tag."""
    if not is_list_of_names(names):
        raise ValidationError({"tags": _("Tags must be a list of names.")})
    wanted: dict[str, str] = {}
    for raw in names:
        name = raw.strip() if isinstance(raw, str) else raw
        if not isinstance(name, str) or not name:
            raise ValidationError({"tags": _("Tag names must be non-empty text.")})
        if len(name) > TAG_NAME_LENGTH:
            message = _("Tag %(name)s… is longer than 64 characters.") % {"name": repr(name[:20])}
            raise ValidationError({"tags": message})
        wanted.setdefault(Tag.key_for(name), name)
    return wanted


# Required values


class RequiredValues:
    """The text fields a record cannot be saved blank (a company's or a deal's name, a
    contact's lifecycle stage), checked on the values as set, with the model field's own
    (translated) message. The services get the same check from ``full_clean``; the import,
    which does not run it, from here."""

    def __init__(self, model: type[models.Model]) -> None:
        self.fields = [
            (field.attname, field.error_messages["blank"])
            for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField))
            and not field.blank
            and field.editable
        ]

    def check(self, instance: models.Model, errors: Errors) -> None:
        state = instance.__dict__
        for attname, message in self.fields:
            value = state.get(attname)
            if value is None or value == "":
                errors.setdefault(attname, []).append(str(message))


# Contacts


def _constraint_message(model: type[models.Model], name: str) -> str:
    constraint = next(c for c in model._meta.constraints if c.name == name)
    return constraint.violation_error_message


CONTACT_IDENTIFIABLE = _constraint_message(Contact, "contact_identifiable")


def check_contact_identifiable(contact: Contact, errors: Errors) -> None:
    """A contact needs a name, an email or a phone (the ``contact_identifiable`` constraint),
    reported record-wide as ``full_clean`` reports the constraint for the services."""
    if not (contact.first_name or contact.last_name or contact.email_index or contact.phone_index):
        errors.setdefault(NON_FIELD_ERRORS, []).append(str(CONTACT_IDENTIFIABLE))


# Deals: the status follows the stage


class Stages(Protocol):
    """What the deal status rule needs to know about stages."""

    def outcome(self, stage_id: int) -> str: ...
    def name(self, stage_id: int) -> str: ...
    def pipeline_name(self, stage_id: int) -> str: ...
    def first_with_outcome(self, stage_id: int, outcome: str) -> int | None: ...


class StageTable:
    """Every stage in memory (a CRM has tens), loaded with one query: for a chunk of deals."""

    def __init__(self, stages: list[Stage]) -> None:
        self.outcomes = {stage.pk: stage.outcome for stage in stages}
        self.names = {stage.pk: stage.name for stage in stages}
        self.pipelines = {stage.pk: stage.pipeline_id for stage in stages}
        self.pipeline_names = {stage.pipeline_id: stage.pipeline.name for stage in stages}
        self.ordered = sorted(stages, key=lambda stage: (stage.position, stage.pk))
        pipeline = selectors.default_pipeline()
        first = selectors.first_stage(pipeline=pipeline) if pipeline else None
        self.default_open = first.pk if first else None

    @classmethod
    def load(cls) -> "StageTable":
        return cls(list(Stage.objects.select_related("pipeline")))

    def outcome(self, stage_id: int) -> str:
        return self.outcomes[stage_id]

    def name(self, stage_id: int) -> str:
        return self.names[stage_id]

    def pipeline_name(self, stage_id: int) -> str:
        return self.pipeline_names[self.pipelines[stage_id]]

    def first_with_outcome(self, stage_id: int, outcome: str) -> int | None:
        pipeline = self.pipelines[stage_id]
        return next(
            (s.pk for s in self.ordered if s.pipeline_id == pipeline and s.outcome == outcome),
            None,
        )


class StagesOfOneDeal:
    """The stages one deal's write needs, asked for only when the rule needs them: for the
    services, which hold the deal's stage already."""

    def __init__(self, stage: Stage) -> None:
        self.stage = stage
        self.found: dict[int, Stage] = {}  # stages looked up, for the caller to keep

    def outcome(self, stage_id: int) -> str:
        return self.stage.outcome

    def name(self, stage_id: int) -> str:
        return self.stage.name

    def pipeline_name(self, stage_id: int) -> str:
        return self.stage.pipeline.name

    def first_with_outcome(self, stage_id: int, outcome: str) -> int | None:
        target = selectors.first_stage(pipeline=self.stage.pipeline, outcome=outcome)
        if target is None:
            return None
        self.found[target.pk] = target
        return target.pk


def check_deal_status(status: Any) -> None:
    """A status must be one of a deal's statuses; the import checks a file's cell with this
    before anything else, so a refused row's report names it with its other mistakes."""
    if status not in Deal.Status.values:
        message = _("%(status)s is not one of %(choices)s.") % {
            "status": repr(status),
            "choices": Deal.Status.values,
        }
        raise ValidationError({"status": message})


def apply_deal_status(
    deal: Deal, *, requested: str | None, stage_given: bool, stages: Stages
) -> None:
    """Set the deal's status from its stage. A status asked for must agree with a stage given
    with it (an open stage with ``won`` is refused, never silently moved); a status alone moves
    the deal to the first stage of its pipeline with that outcome."""
    outcome = stages.outcome(deal.stage_id)
    if requested is None or requested == outcome:
        deal.status = outcome
        return
    check_deal_status(requested)
    if stage_given:
        message = _("Stage %(stage)s is %(outcome)s, not %(status)s.") % {
            "stage": repr(stages.name(deal.stage_id)),
            "outcome": outcome,
            "status": requested,
        }
        raise ValidationError({"status": message})
    target = stages.first_with_outcome(deal.stage_id, requested)
    if target is None:
        message = _("Pipeline %(pipeline)s has no %(status)s stage.") % {
            "pipeline": repr(stages.pipeline_name(deal.stage_id)),
            "status": requested,
        }
        raise ValidationError({"status": message})
    deal.stage_id = target
    deal.status = requested


def no_default_stage() -> ValidationError:
    return ValidationError({"stage": _("No stage given and no pipeline with an open stage.")})
