"""Writes for pipelines and their ordered stages.

Each takes the `actor` its door built and reports it to ``observers.notify``.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from customers.actors import Actor
from customers.models import Pipeline, Stage
from customers.services import observers
from customers.services._common import assign, reject_unknown_fields, save, validate

STAGE_FIELDS = frozenset({"name", "win_probability", "outcome", "position"})

DEFAULT_STAGES: tuple[dict[str, Any], ...] = (
    {"name": "Qualification", "win_probability": 10},
    {"name": "Needs analysis", "win_probability": 25},
    {"name": "Proposal", "win_probability": 50},
    {"name": "Negotiation", "win_probability": 75},
    {"name": "Closed won", "win_probability": 100, "outcome": Stage.Outcome.WON},
    {"name": "Closed lost", "win_probability": 0, "outcome": Stage.Outcome.LOST},
)


@transaction.atomic
def pipeline_create(
    *,
    actor: Actor,
    name: str,
    stages: Sequence[Mapping[str, Any]] = DEFAULT_STAGES,
    is_default: bool = False,
) -> Pipeline:
    """Create a pipeline with its stages in the given order."""
    if is_default:
        Pipeline.objects.filter(is_default=True).update(is_default=False)
    pipeline = Pipeline(name=(name or "").strip(), is_default=is_default)
    validate(pipeline)
    save(pipeline)
    observers.notify(actor=actor, entity="pipeline", action="created", records=[pipeline])
    for position, stage_data in enumerate(stages):
        stage_create(actor=actor, pipeline=pipeline, data={"position": position, **stage_data})
    return pipeline


@transaction.atomic
def pipeline_set_default(*, actor: Actor, pipeline: Pipeline) -> Pipeline:
    Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
    pipeline.is_default = True
    save(pipeline)
    observers.notify(actor=actor, entity="pipeline", action="updated", records=[pipeline])
    return pipeline


def stage_create(*, actor: Actor, pipeline: Pipeline, data: Mapping[str, Any]) -> Stage:
    reject_unknown_fields(data, STAGE_FIELDS)
    stage = Stage(pipeline=pipeline)
    if "position" not in data:
        stage.position = pipeline.stages.count()
    assign(stage, data)
    validate(stage)
    save(stage)
    observers.notify(actor=actor, entity="stage", action="created", records=[stage])
    return stage


def stage_update(*, actor: Actor, stage: Stage, data: Mapping[str, Any]) -> Stage:
    """Changing a stage's outcome does not rewrite existing deals' status: that is history."""
    reject_unknown_fields(data, STAGE_FIELDS)
    assign(stage, data)
    validate(stage)
    save(stage)
    observers.notify(actor=actor, entity="stage", action="updated", records=[stage])
    return stage


@transaction.atomic
def stage_delete(*, actor: Actor, stage: Stage, move_deals_to: Stage | None = None) -> None:
    """A stage holding deals can only go once its deals have somewhere else to be."""
    if stage.deals.exists():
        if move_deals_to is None or move_deals_to.pk == stage.pk:
            message = _("Stage %(stage)s still holds deals: choose a stage to move them to.") % {
                "stage": repr(stage.name)
            }
            raise ValidationError({"stage": message})
        from customers.services.deals import deal_move_to_stage

        for deal in stage.deals.all():
            deal_move_to_stage(actor=actor, deal=deal, stage=move_deals_to)
    observers.notify(actor=actor, entity="stage", action="deleted", records=[stage])
    stage.delete()
