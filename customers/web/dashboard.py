"""The dashboard: my work first, then the pipeline, wins and losses, new contacts, due work."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from customers import selectors
from customers.web import charts, common, metrics
from customers.web.templatetags import money


@common.requires("view_deal")
def dashboard(request: HttpRequest) -> HttpResponse:
    pipeline = selectors.default_pipeline()
    stage_values = metrics.pipeline_value_by_stage(pipeline)
    currency = settings.DEFAULT_CURRENCY
    pipeline_chart = charts.bar_chart(
        [value.stage.name for value in stage_values],
        [
            (
                "value",
                _("Open value (%(currency)s)") % {"currency": currency},
                [value.amount for value in stage_values],
                [money(value.amount, currency) for value in stage_values],
            )
        ],
    )
    months = metrics.won_lost_by_month()
    outcomes_chart = charts.bar_chart(
        [date_format(month, "M") for month, _won, _lost in months],
        [
            ("won", _("Won"), [won for _m, won, _l in months], [str(w) for _m, w, _l in months]),
            ("lost", _("Lost"), [lost for _m, _w, lost in months], [str(lo) for *_, lo in months]),
        ],
    )
    weeks = metrics.new_contacts_by_week()
    contacts_chart = charts.bar_chart(
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
    context = {
        "pipeline": pipeline,
        "stage_values": stage_values,
        "currency": currency,
        "pipeline_chart": pipeline_chart,
        "months": months,
        "outcomes_chart": outcomes_chart,
        "weeks": weeks,
        "contacts_chart": contacts_chart,
        "my_deals": list(metrics.my_open_deals(request.user)),
        "my_activities": list(metrics.my_activities_due_today(request.user)),
        "my_due": metrics.activities_due(author=request.user),
        "team_due": metrics.activities_due(),
        "today": metrics.today(),
    }
    return render(request, "web/dashboard.html", context)
