"""The pipeline board: a column per stage with its deal count and value, cards to drag."""

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from customers import selectors
from customers.models import Deal, Pipeline
from customers.web import common
from customers.web.templatetags import money

CARDS_PER_COLUMN = 50


def _totals(pipeline: Pipeline) -> dict[int, dict[str, Any]]:
    """Per stage: deal count and value per currency, one grouped query for the pipeline."""
    totals: dict[int, dict[str, Any]] = defaultdict(lambda: {"count": 0, "amounts": {}})
    rows = (
        Deal.objects.filter(stage__pipeline=pipeline)
        .values("stage_id", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    for row in rows:
        entry = totals[row["stage_id"]]
        entry["count"] += row["count"]
        entry["amounts"][row["currency"]] = row["amount"] or Decimal("0")
    return totals


def _total_text(amounts: dict[str, Decimal]) -> str:
    """Each currency's total on its own, the default first: never a sum across currencies (a
    "+" between them read as one)."""
    if not amounts:
        return money(Decimal("0"), settings.DEFAULT_CURRENCY)
    ordered = sorted(
        amounts.items(), key=lambda item: (item[0] != settings.DEFAULT_CURRENCY, item[0])
    )
    return " · ".join(money(amount, currency) for currency, amount in ordered)


def column_totals(pipeline: Pipeline) -> list[dict[str, Any]]:
    totals = _totals(pipeline)
    return [
        {
            "stage": stage.pk,
            "count": totals[stage.pk]["count"],
            "total": _total_text(totals[stage.pk]["amounts"]),
        }
        for stage in pipeline.stages.order_by("position", "id")
    ]


@common.requires("view_deal")
def deal_board(request: HttpRequest) -> HttpResponse:
    pipelines = list(Pipeline.objects.order_by("-is_default", "name"))
    chosen = request.GET.get("pipeline", "")
    pipeline = next((p for p in pipelines if str(p.pk) == chosen), None)
    pipeline = pipeline or selectors.default_pipeline()
    columns = []
    if pipeline is not None:
        totals = _totals(pipeline)
        stages = list(pipeline.stages.order_by("position", "id"))
        cards = (
            Deal.objects.select_related("company", "owner")
            .only(
                "id",
                "name",
                "amount",
                "currency",
                "stage_id",
                "expected_close_date",
                "company__id",
                "company__name",
                "owner__id",
                "owner__username",
            )
            .order_by("-updated_at", "-id")
        )
        # One query per stage, each capped: won and lost columns grow forever.
        for stage in stages:
            columns.append(
                {
                    "stage": stage,
                    "deals": list(cards.filter(stage=stage)[:CARDS_PER_COLUMN]),
                    "count": totals[stage.pk]["count"],
                    "total": _total_text(totals[stage.pk]["amounts"]),
                }
            )
        stage_choices = [(stage.pk, stage.name) for stage in stages]
    else:
        stage_choices = []
    context = {
        "pipeline": pipeline,
        "pipelines": pipelines,
        "columns": columns,
        "stage_choices": stage_choices,
        "cards_per_column": CARDS_PER_COLUMN,
        "can_move": request.user.has_perm("customers.change_deal"),
    }
    return render(request, "web/deals/board.html", context)
