"""Dashboard figures, computed in the database with a fixed number of queries.

Definitions (the issue list behind each figure counts exactly the same issues):
- collected: issues whose collection time falls in the period;
- resolved: issues whose resolution time falls in the period (reopened issues lose it);
- resolution rate: of the issues collected in the period, the share now resolved or revisited;
- on-time rate: of the issues resolved in the period, the share resolved by their due time;
- median time to resolve: the lower median of (resolved − collected) over the issues resolved
  in it, in whole hours below two days and whole days from there on, rounded down;
- open by age: open issues now, by calendar days since collection (0–3, 4–7, 8–30, >30);
- overdue: open issues now whose due time has passed;
- disputes mediated: issues with a mediation dated in the period;
- follow-ups on time: of the visits done in the period, the share done no later than a day
  after they were due; shown with the number of issues they were of (the list's count);
- satisfaction rate: of the visits done in the period, the share satisfied or basically so;
  likewise shown with the number of issues;
- money recovered: the sum recovered on wage-arrears issues resolved in the period;
- workers whose wages were recovered: the sum of the people affected by the same issues;
- patrols: patrols started in the period; hazards: issues logged from a patrol in the period.

Whole districts and subdistricts on PostgreSQL are read from the tallies (`issues.tallies`):
the same figures, without reading the period's issues and visits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypedDict, cast

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Patrol
from issues import tallies
from issues.models import FollowUp, Issue, Mediation

# COUNT(1) rather than COUNT(id): the dashboard's indexes carry no id, and counting a
# constant lets PostgreSQL answer from the index alone.
ONE = Value(1)
OPEN = list(Issue.OPEN_STATUSES)
CLOSED = list(Issue.CLOSED_STATUSES)
AGE_BUCKETS = [("0_3", 0, 3), ("4_7", 4, 7), ("8_30", 8, 30), ("31_", 31, None)]


class Median(Aggregate):
    """The lower median: PERCENTILE_DISC on PostgreSQL; a Python aggregate on SQLite."""

    function = "PERCENTILE_DISC"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            function="grassroots_median",
            template="%(function)s(%(expressions)s)",
            **extra,
        )


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive, as the list's date filters are

    @property
    def range(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tz),
            datetime.combine(self.end, time.max, tz),
        )

    @classmethod
    def named(cls, name: str, today: date) -> Period:
        if name == "week":
            return cls(today - timedelta(days=today.weekday()), today)
        if name == "month":
            return cls(today.replace(day=1), today)
        if name == "year":
            return cls(today.replace(month=1, day=1), today)
        return cls(today - timedelta(days=29), today)


PERIODS = [
    ("week", _("This week")),
    ("month", _("This month")),
    ("30d", _("Last 30 days")),
    ("year", _("This year")),
    ("custom", _("Custom")),
]


class Row(TypedDict, total=False):
    collected: int
    closed: int
    hazards: int
    resolved: int
    on_time: int
    recovered: Decimal
    wage_resolved: int
    wage_people: int
    open: int
    overdue: int
    age_0_3: int
    age_4_7: int
    age_8_30: int
    age_31_: int


def _created(qs: QuerySet[Issue], period: Period, by: list[str]) -> Fold:
    q = qs.filter(created_at__range=period.range).annotate(
        week=TruncWeek("created_at", output_field=DateField())
    )
    aggs = {
        "collected": Count("*"),
        "closed": Count(ONE, filter=Q(status__in=CLOSED)),
        "hazards": Count(ONE, filter=Q(source=Issue.Source.PATROL)),
    }
    return Fold.of(q.order_by().values_list(*by, "week").annotate(**aggs), by, aggs, week=True)


def _resolved(qs: QuerySet[Issue], period: Period, by: list[str], wage_id: int | None) -> Fold:
    q = qs.filter(resolved_at__range=period.range).annotate(
        week=TruncWeek("resolved_at", output_field=DateField())
    )
    aggs = {
        "resolved": Count("*"),
        "on_time": Count(ONE, filter=Q(due_at__isnull=False, resolved_at__lte=F("due_at"))),
        "recovered": Sum("amount_recovered", filter=Q(category_id=wage_id)),
        "wage_resolved": Count(ONE, filter=Q(category_id=wage_id)),
        "wage_people": Sum("people_affected", filter=Q(category_id=wage_id)),
    }
    return Fold.of(q.order_by().values_list(*by, "week").annotate(**aggs), by, aggs, week=True)


def _open(qs: QuerySet[Issue], now: datetime, by: list[str]) -> Fold:
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    aggs: dict[str, Any] = {"open": Count("*"), "overdue": Count(ONE, filter=Q(due_at__lt=now))}
    for name, low, high in AGE_BUCKETS:
        newest = datetime.combine(today - timedelta(days=low), time.max, tz)
        cond = Q(created_at__lte=newest)
        if high is not None:
            cond &= Q(created_at__gte=datetime.combine(today - timedelta(days=high), time.min, tz))
        aggs[f"age_{name}"] = Count(ONE, filter=cond)
    q = qs.filter(status__in=OPEN).order_by().values_list(*by).annotate(**aggs)
    return Fold.of(q, by, aggs, week=False)


@dataclass
class Fold:
    """Fine-grained rows (category × next area × week) summed, in one pass, four ways.

    The rows come as tuples: a district's year is some ten thousand of them, and making a
    dict of each, then summing them once per breakdown, cost more than the query.
    """

    names: list[str]
    by_category: dict[Any, list[Any]] = field(default_factory=dict)
    by_child: dict[Any, list[Any]] = field(default_factory=dict)
    by_week: dict[date, list[Any]] = field(default_factory=dict)
    total: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, rows: Any, by: list[str], aggs: dict[str, Any], *, week: bool) -> Fold:
        if connection.vendor == "postgresql":
            return cls.in_sql(rows, by, list(aggs), week=week)
        names = list(aggs)
        n, keys = len(names), len(by) + (1 if week else 0)
        fold = cls(names=names, total=[0] * n)
        has_child = len(by) > 1
        for row in rows:
            values = [v or 0 for v in row[keys:]]
            targets = [fold.total, fold.by_category.setdefault(row[0], [0] * n)]
            if has_child:
                targets.append(fold.by_child.setdefault(row[1], [0] * n))
            if week:
                targets.append(fold.by_week.setdefault(row[keys - 1], [0] * n))
            for target in targets:
                for i in range(n):
                    target[i] += values[i]
        return fold

    @classmethod
    def in_sql(cls, rows: QuerySet[Any], by: list[str], names: list[str], *, week: bool) -> Fold:
        """The same sums, four ways in one GROUPING SETS query around the grouped one: a
        subdistrict's year is some five thousand fine rows, a few dozen summed."""
        keys = [*by, *(["week"] if week else [])]
        quote = connection.ops.quote_name
        fold = cls(names=names, total=[0] * len(names))
        try:
            sql, params = rows.query.sql_with_params()
        except EmptyResultSet:  # an area with nothing in it
            return fold
        grouping = ", ".join(f"GROUPING({quote(k)})" for k in keys)
        sums = ", ".join(
            f"sum({quote(n)})" + ("" if n == "recovered" else "::bigint") for n in names
        )
        sets = ", ".join(f"({quote(k)})" for k in keys)
        outer = (
            f"SELECT {grouping}, {', '.join(quote(k) for k in keys)}, {sums} "  # noqa: S608
            f"FROM ({sql}) fine GROUP BY GROUPING SETS ({sets}, ())"
        )
        parts = [fold.by_category, fold.by_child if len(by) > 1 else {}, fold.by_week]
        if not week:
            parts = parts[:2]
        with connection.cursor() as cursor:
            cursor.execute(outer, params)
            for row in cursor.fetchall():
                flags, key_values = row[: len(keys)], row[len(keys) : 2 * len(keys)]
                values = [v or 0 for v in row[2 * len(keys) :]]
                if all(flags):
                    fold.total = values
                    continue
                i = flags.index(0)
                parts[i if i < len(by) else 2][key_values[i]] = values
        return fold

    def rows(self, part: dict[Any, list[Any]]) -> dict[Any, Row]:
        # self.names are Row's keys, read back in the order the SQL selected them.
        return {
            key: cast(Row, dict(zip(self.names, values, strict=True)))
            for key, values in part.items()
        }


def _merge(*parts: dict[Any, Row]) -> dict[Any, Row]:
    rows: dict[Any, Row] = {}
    for part in parts:
        for key, row in part.items():
            rows.setdefault(key, {}).update(row)
    return rows


@dataclass
class Dashboard:
    period: Period
    totals: dict[str, Any] = field(default_factory=dict)
    by_category: dict[Any, Row] = field(default_factory=dict)
    by_child: dict[Any, Row] = field(default_factory=dict)
    weeks: list[tuple[date, int, int]] = field(default_factory=list)


def build(
    qs: QuerySet[Issue],
    *,
    period: Period,
    child: str | None,
    wage_id: int | None,
    patrols: QuerySet[Patrol],
    area: Q,
    tallied: tallies.Areas | None = None,
    now: datetime | None = None,
) -> Dashboard:
    """Every figure of one area over one period, in a fixed number of queries at any size.

    `qs` is the area's issues; `area` the same condition on the area columns, which visits
    and mediations carry too, so that they are counted without reading the area's issues.
    `tallied`, for whole districts or subdistricts on PostgreSQL, reads the weekly tallies
    instead of the period's issues and visits (`issues.tallies`); the figures are the same.
    """
    now = now or timezone.now()
    d = Dashboard(period=period)
    # One grouped query per kind of row (collected, resolved, open now), fine enough that the
    # category table, the area table, the weekly trend and the totals are all sums of it.
    by = ["category_id", *([child] if child else [])]
    lo, hi = period.range
    if tallied is not None:
        created, resolved = _tallied_folds(tallied, period, child, wage_id)
        bucket = _tallied_median(tallied, period)
        visits = _tallied_visits(tallied, period)
    else:
        created = _created(qs, period, by)
        resolved = _resolved(qs, period, by, wage_id)
        median = qs.filter(resolved_at__range=(lo, hi)).aggregate(
            m=Median(
                ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
            )
        )["m"]
        bucket = tallies.bucket_of(median.total_seconds()) if median is not None else None
        visits = _visits(area, lo, hi)
    open_now = _open(qs, now, by)
    folds = (created, resolved, open_now)
    d.by_category = _merge(*(f.rows(f.by_category) for f in folds))
    if child:
        d.by_child = _merge(*(f.rows(f.by_child) for f in folds))
    totals: dict[str, Any] = {}
    for f in folds:
        totals.update(zip(f.names, f.total, strict=True))
    for key in Row.__annotations__:
        totals.setdefault(key, 0)
    totals["median_hours"] = totals["median_days"] = None
    if bucket is not None and bucket < tallies.HOUR_BUCKETS:
        totals["median_hours"] = bucket
    elif bucket is not None:
        totals["median_days"] = bucket - tallies.DAY_OFFSET
    totals["mediated"] = Mediation.objects.filter(
        area, mediated_on__range=(period.start, period.end)
    ).aggregate(n=Count("issue", distinct=True))["n"]
    totals.update(visits)
    if tallied is not None:
        counted = tallies.visit_issue_counts(tallied, period.start, period.end)
        totals["visit_issues_on_time"] = counted.get(tallies.ON_TIME, 0)
        totals["visit_issues_satisfied"] = counted.get(tallies.SATISFIED_KIND, 0)
    totals["patrols"] = patrols.filter(started_at__range=(lo, hi)).count()
    totals["resolution_rate"] = rate(totals["closed"], totals["collected"])
    totals["on_time_rate"] = rate(totals["on_time"], totals["resolved"])
    totals["visits_on_time_rate"] = rate(totals["visits_on_time"], totals["visits_done"])
    totals["satisfaction_rate"] = rate(totals["visits_satisfied"], totals["visits_done"])
    d.totals = totals
    d.weeks = _weeks(created, resolved, period)
    return d


VISIT_ON_TIME_Q = Q(done_at__lte=F("due_at") + FollowUp.ON_TIME_GRACE)
VISIT_SATISFIED_Q = Q(satisfaction__in=FollowUp.SATISFIED)


def _visits(area: Q, lo: datetime, hi: datetime) -> dict[str, int]:
    """Visits done in the period, and the issues behind the visit figures (distinct, so
    counted from the visits themselves)."""
    return FollowUp.objects.filter(area, done_at__range=(lo, hi)).aggregate(
        visits_done=Count("*"),
        visits_on_time=Count(ONE, filter=VISIT_ON_TIME_Q),
        visits_satisfied=Count(ONE, filter=VISIT_SATISFIED_Q),
        visit_issues_on_time=Count("issue", filter=VISIT_ON_TIME_Q, distinct=True),
        visit_issues_satisfied=Count("issue", filter=VISIT_SATISFIED_Q, distinct=True),
    )


def _tallied_folds(
    t: tallies.Areas, period: Period, child: str | None, wage_id: int | None
) -> tuple[Fold, Fold]:
    created = Fold(names=["collected", "closed", "hazards"], total=[0, 0, 0])
    resolved = Fold(
        names=["resolved", "on_time", "recovered", "wage_resolved", "wage_people"],
        total=[0, 0, Decimal(0), 0, 0],
    )
    rows = tallies.issue_sums(t, period.start, period.end, child, wage_id)
    for g_cat, g_child, g_week, cat, area_id, week, *values in rows:
        values = [v or 0 for v in values]
        c, r = values[:3], values[3:]
        if g_cat and g_child and g_week:
            created.total, resolved.total = c, r
            continue
        part, key = (
            ("by_category", cat)
            if not g_cat
            else ("by_child", area_id)
            if not g_child
            else ("by_week", week)
        )
        if c[0]:
            getattr(created, part)[key] = c
        if r[0]:
            getattr(resolved, part)[key] = r
    if not child:
        created.by_child, resolved.by_child = {}, {}
    return created, resolved


def _tallied_median(t: tallies.Areas, period: Period) -> int | None:
    """The bucket of the lower median, read off the resolve-time counts."""
    counts = tallies.resolve_time_counts(t, period.start, period.end)
    rank = (sum(n for _, n in counts) + 1) // 2
    seen = 0
    for bucket, n in counts:
        seen += n
        if seen >= rank:
            return bucket
    return None


def _tallied_visits(t: tallies.Areas, period: Period) -> dict[str, int]:
    done, on_time, satisfied = tallies.visit_sums(t, period.start, period.end)
    return {"visits_done": done, "visits_on_time": on_time, "visits_satisfied": satisfied}


def _weeks(created: Fold, resolved: Fold, period: Period) -> list[tuple[date, int, int]]:
    weeks = []
    monday = period.start - timedelta(days=period.start.weekday())
    while monday <= period.end:
        weeks.append(monday)
        monday += timedelta(days=7)
    c = {_as_date(k): v[0] for k, v in created.by_week.items()}
    r = {_as_date(k): v[0] for k, v in resolved.by_week.items()}
    return [(w, c.get(w, 0), r.get(w, 0)) for w in weeks]


def _as_date(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None
