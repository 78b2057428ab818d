"""The dashboard: my work first, then the pipeline, wins and losses, new contacts, due work.

A user who owns nothing yet (the first login) would see only empty "my" lists: they see the
team's instead, with a note saying so."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers import selectors
from customers.actors import Actor
from customers.web import charts, common, metrics
from customers.web.templatetags import money


@dataclass
class CurrencyTab:
    """One currency of the pipeline chart: its code, its open total, whether it is shown."""

    code: str
    total: Decimal
    count: int
    selected: bool

    @property
    def short(self) -> str:
        return charts.compact(self.total)

    @property
    def total_text(self) -> str:
        return _deal_value_text(self.total, self.code, self.count)


@common.requires("view_deal")
def dashboard(request: HttpRequest) -> HttpResponse:
    actor = Actor.for_request(request)
    pipeline = selectors.default_pipeline()
    stage_values = metrics.pipeline_value_by_stage(pipeline, actor=actor)
    currencies = metrics.currencies_by_weight(stage_values) or [settings.DEFAULT_CURRENCY]
    currency = request.GET.get("currency", "")
    if currency not in currencies:
        currency = currencies[0]
    months = metrics.won_lost_by_month(actor=actor)
    weeks = metrics.new_contacts_by_week(actor=actor)
    team_fallback = metrics.owns_nothing(request.user, actor=actor)
    mine = None if team_fallback else request.user
    context = {
        "pipeline": pipeline,
        "stage_values": stage_values,
        "currency": currency,
        "currency_tabs": _currency_tabs(stage_values, currencies, currency),
        "pipeline_chart": _pipeline_chart(stage_values, currency),
        "months": months,
        "outcomes_chart": _outcomes_chart(months),
        "weeks": weeks,
        "contacts_chart": _contacts_chart(weeks),
        "team_fallback": team_fallback,
        "my_deals": list(metrics.open_deals(owner=mine, actor=actor)),
        "my_activities": list(metrics.activities_due_now(author=mine, actor=actor)),
        "my_due": metrics.activities_due(author=request.user, actor=actor),
        "team_due": metrics.activities_due(actor=actor),
        "today": metrics.today(),
    }
    shown_due = context["team_due"] if team_fallback else context["my_due"]
    context["due_now"] = shown_due.overdue + shown_due.today
    return render(request, "web/dashboard.html", context)


def _deal_value_text(amount: Decimal, currency: str, count: int) -> str:
    return ngettext(
        "%(amount)s in %(count)d open deal",
        "%(amount)s in %(count)d open deals",
        count,
    ) % {"amount": money(amount, currency), "count": count}


def _currency_tabs(
    stage_values: list[metrics.StageValue], currencies: list[str], selected: str
) -> list[CurrencyTab]:
    """Amounts of different currencies are never added up: each has its own tab."""
    tabs = []
    for code in currencies:
        total = sum((value.amounts.get(code, Decimal("0")) for value in stage_values), Decimal())
        count = sum(value.counts.get(code, 0) for value in stage_values)
        tabs.append(CurrencyTab(code, total, count, code == selected))
    return tabs


def _pipeline_chart(stage_values: list[metrics.StageValue], currency: str) -> charts.Chart:
    amounts = [value.amounts.get(currency, Decimal("0")) for value in stage_values]
    counts = [value.counts.get(currency, 0) for value in stage_values]
    return charts.bar_chart(
        [value.stage.name for value in stage_values],
        [
            (
                "value",
                _("Open value (%(currency)s)") % {"currency": currency},
                amounts,
                [
                    _deal_value_text(amount, currency, count)
                    for amount, count in zip(amounts, counts, strict=True)
                ],
            )
        ],
    )


def _outcomes_chart(months: list[tuple]) -> charts.Chart:
    return charts.bar_chart(
        [date_format(month, "M") for month, _won, _lost in months],
        [
            ("won", _("Won"), [won for _m, won, _l in months], [str(w) for _m, w, _l in months]),
            ("lost", _("Lost"), [lost for _m, _w, lost in months], [str(lo) for *_, lo in months]),
        ],
    )


def _contacts_chart(weeks: list[tuple]) -> charts.Chart:
    return charts.bar_chart(
        [date_format(monday, "n/j") for monday, _count in weeks],
        [
            (
                "new",
                _("New contacts"),
                [count for _w, count in weeks],
                [str(count) for _w, count in weeks],
            )
        ],
    )
