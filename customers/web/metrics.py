"""The dashboard's numbers, each one grouped query over indexed columns.

Each reads for an `actor` (the person looking): a report may come from a read replica
(``customers.read_routing``), unless that person has just written."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone

from customers import read_routing
from customers.actors import Actor
from customers.models import Activity, Company, Contact, Deal, Pipeline, Stage


def _read(model: type, actor: Actor | None) -> QuerySet:
    return read_routing.routed(model.objects.all(), actor)


def _start_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def today() -> date:
    return timezone.localdate()


@dataclass
class StageValue:
    """Open deals of one stage: how many, and their value per currency (never summed across
    currencies: there is no exchange rate to do it honestly)."""

    stage: Stage
    count: int = 0
    amounts: dict[str, Decimal] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def amount(self) -> Decimal:
        """The value in the default currency."""
        return self.amounts.get(settings.DEFAULT_CURRENCY, Decimal("0"))

    @property
    def other_currencies(self) -> dict[str, Decimal]:
        return {
            code: amount
            for code, amount in self.amounts.items()
            if code != settings.DEFAULT_CURRENCY
        }


def pipeline_value_by_stage(
    pipeline: Pipeline | None, *, actor: Actor | None = None
) -> list[StageValue]:
    """Open deals' value per open stage of the pipeline, per currency."""
    if pipeline is None:
        return []
    stages = list(
        _read(Stage, actor)
        .filter(pipeline=pipeline, outcome=Stage.Outcome.OPEN)
        .order_by("position", "id")
    )
    rows = (
        _read(Deal, actor)
        .filter(stage__in=stages, status=Deal.Status.OPEN)
        .values("stage_id", "currency")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by()
    )
    result = {stage.pk: StageValue(stage) for stage in stages}
    for row in rows:
        entry = result[row["stage_id"]]
        entry.count += row["count"]
        entry.amounts[row["currency"]] = row["amount"] or Decimal("0")
        entry.counts[row["currency"]] = row["count"]
    return list(result.values())


def currencies_by_weight(stage_values: list[StageValue]) -> list[str]:
    """The currencies open deals are in: the default first, then by number of deals."""
    counts: dict[str, int] = {}
    for value in stage_values:
        for code, count in value.counts.items():
            counts[code] = counts.get(code, 0) + count
    return sorted(counts, key=lambda code: (code != settings.DEFAULT_CURRENCY, -counts[code], code))


def month_starts(count: int) -> list[date]:
    first = today().replace(day=1)
    months = []
    for _ in range(count):
        months.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(months))


def won_lost_by_month(
    months: int = 12, *, actor: Actor | None = None
) -> list[tuple[date, int, int]]:
    """(first day of month, won, lost) for the last `months` months, by close date."""
    starts = month_starts(months)
    rows = (
        _read(Deal, actor)
        .filter(
            status__in=(Deal.Status.WON, Deal.Status.LOST),
            closed_at__gte=_start_of_day(starts[0]),
        )
        .annotate(month=TruncMonth("closed_at"))
        .values("month", "status")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = {(start, status): 0 for start in starts for status in ("won", "lost")}
    for row in rows:
        month = _as_date(row["month"])
        counts[(month, row["status"])] = counts.get((month, row["status"]), 0) + row["count"]
    return [(start, counts[(start, "won")], counts[(start, "lost")]) for start in starts]


def new_contacts_by_week(weeks: int = 12, *, actor: Actor | None = None) -> list[tuple[date, int]]:
    """(Monday of the week, contacts created) for the last `weeks` weeks."""
    monday = today() - timedelta(days=today().weekday())
    starts = [monday - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]
    rows = (
        _read(Contact, actor)
        .filter(created_at__gte=_start_of_day(starts[0]))
        .annotate(week=TruncWeek("created_at"))
        .values("week")
        .annotate(count=Count("id"))
        .order_by()
    )
    counts = {start: 0 for start in starts}
    for row in rows:
        week = _as_date(row["week"])
        counts[week] = counts.get(week, 0) + row["count"]
    return [(start, counts[start]) for start in starts]


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


@dataclass
class DueCounts:
    overdue: int
    today: int
    next_seven_days: int


def activities_due(*, author=None, actor: Actor | None = None) -> DueCounts:
    start = _start_of_day(today())
    tomorrow = start + timedelta(days=1)
    week = start + timedelta(days=8)
    queryset = _read(Activity, actor).filter(done_at__isnull=True, due_at__isnull=False)
    if author is not None:
        queryset = queryset.filter(author=author)
    counts = queryset.aggregate(
        overdue=Count("id", filter=Q(due_at__lt=start)),
        today=Count("id", filter=Q(due_at__gte=start, due_at__lt=tomorrow)),
        next_seven_days=Count("id", filter=Q(due_at__gte=tomorrow, due_at__lt=week)),
    )
    return DueCounts(**counts)


def owns_nothing(user, *, actor: Actor | None = None) -> bool:
    """True when no deal, contact or company is the user's and no activity was logged by them:
    a first login, before any work of their own. Four indexed EXISTS queries."""
    return not (
        _read(Deal, actor).filter(owner=user).exists()
        or _read(Activity, actor).filter(author=user).exists()
        or _read(Contact, actor).filter(owner=user).exists()
        or _read(Company, actor).filter(owner=user).exists()
    )


def open_deals(*, owner=None, limit: int = 10, actor: Actor | None = None) -> QuerySet[Deal]:
    """Open deals closing soonest (of `owner`, or everyone's)."""
    queryset = _read(Deal, actor).filter(status=Deal.Status.OPEN)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return queryset.select_related("stage", "company").order_by(
        F("expected_close_date").asc(nulls_last=True), "-amount", "id"
    )[:limit]


def activities_due_now(
    *, author=None, limit: int = 8, actor: Actor | None = None
) -> QuerySet[Activity]:
    """Due today or overdue and not done (of `author`, or everyone's): what to do now."""
    tomorrow = _start_of_day(today()) + timedelta(days=1)
    queryset = _read(Activity, actor).filter(done_at__isnull=True, due_at__lt=tomorrow)
    if author is not None:
        queryset = queryset.filter(author=author)
    return queryset.select_related("contact", "company", "deal", "author").order_by("due_at", "id")[
        :limit
    ]
