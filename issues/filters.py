"""The issue list's filters: every one a GET parameter, so a link shares the exact view."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import django_filters as df
from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connections
from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.http import QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.choices import BaseChoiceIterator
from django.utils.formats import date_format
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from grassroots.widgets import IsoDateRangeWidget
from grids.access import Role, Scope
from grids.models import Community, Courtyard, District, Grid, Subdistrict
from issues.forms import assignable_users
from issues.models import Category, FollowUp, Issue, IssueQuerySet, Mediation, Urgency

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

OPEN = "open"
ALL = "all"
STATUS_TABS = [(OPEN, _("Open")), *Issue.Status.choices, (ALL, _("All"))]

VISIT_CHOICES = [
    ("on_time", _("Done on time")),
    ("satisfied", _("Resident satisfied")),
    ("unsatisfied", _("Resident unsatisfied")),
]

SORTS = {
    "urgency": [F("urgency").desc(), F("due_at").asc(nulls_last=True), F("created_at").desc()],
    "created": [F("created_at").desc(), F("pk").desc()],
    "activity": [F("last_activity_at").desc(), F("pk").desc()],
    "due": [F("due_at").asc(nulls_last=True), F("pk").asc()],
}
SORT_CHOICES = [
    ("urgency", _("Urgency, then due date")),
    ("created", _("Newest first")),
    ("activity", _("Latest activity")),
    ("due", _("Due soonest")),
]


SEARCH_COUNT_CAP = 1000


def _capped_counts(qs: QuerySet[Issue], cap: int) -> dict[str, int]:
    """Per status, the number of rows up to cap + 1, all in one statement."""
    parts: list[str] = []
    params: list[Any] = []
    for status in Issue.Status.values:
        sql, p = qs.filter(status=status).order_by().values("pk")[: cap + 1].query.sql_with_params()
        # The SQL is the ORM's own compilation; values travel as parameters.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS capped)")  # noqa: S608
        params.extend(p)
    with connections[qs.db].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(Issue.Status.values, row, strict=True))


class AssigneeField(forms.ChoiceField):
    """ "unassigned", "me", or a user id from the community's people."""

    def valid_value(self, value: str) -> bool:
        # ASCII digits only: str.isdigit() also takes "²", which int() refuses (a 500).
        return value in ("unassigned", "me") or (
            value.isascii() and value.isdigit() and len(value) < 12
        )


class AssigneeFilter(df.Filter):
    field_class = AssigneeField


# Days a database can hold once shifted to UTC (0001-01-01 00:00 in Lhasa is in year 0 there).
EARLIEST, LATEST = date(1900, 1, 1), date(9000, 12, 31)


class DateRangeField(df.fields.DateRangeField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields:
            field.validators += [MinValueValidator(EARLIEST), MaxValueValidator(LATEST)]


class DateRange(df.DateFromToRangeFilter):
    """Two days, both included; a day out of any real range is an invalid filter, not a 500."""

    field_class = DateRangeField


# The area selects the list shows each role (as issue_list.html draws them).
AREA_SELECTS = {
    Role.ADMIN: ("subdistrict", "community"),
    Role.OFFICIAL: ("subdistrict", "community"),
    Role.STAFF: ("grid", "courtyard"),
    Role.GRID_WORKER: ("grid", "courtyard"),
}


class Options(BaseChoiceIterator):
    """A select's options, taken from the one query that reads every select's options."""

    def __init__(
        self, field: forms.ModelChoiceField, options: Callable[[], list[tuple[int | str, str]]]
    ) -> None:
        self.field, self.options = field, options

    def __iter__(self) -> Iterator[tuple[Any, StrOrPromise]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        yield from self.options()

    def __len__(self) -> int:
        return len(self.options()) + (self.field.empty_label is not None)


class IssueFilter(df.FilterSet):
    status = df.MultipleChoiceFilter(
        choices=STATUS_TABS,
        method="filter_status",
        label=_("Status"),
        widget=forms.CheckboxSelectMultiple,
    )
    category = df.ModelChoiceFilter(
        queryset=Category.objects.all(), label=_("Category"), empty_label=_("All categories")
    )
    urgency = df.ChoiceFilter(
        choices=Urgency.choices, label=_("Urgency"), empty_label=_("Any urgency")
    )
    source = df.ChoiceFilter(
        choices=Issue.Source.choices, label=_("Source"), empty_label=_("Any source")
    )
    district = df.ModelChoiceFilter(
        queryset=District.objects.none(), label=_("District/county"), empty_label=_("All")
    )
    subdistrict = df.ModelChoiceFilter(
        queryset=Subdistrict.objects.none(), label=_("Subdistrict/township"), empty_label=_("All")
    )
    community = df.ModelChoiceFilter(
        queryset=Community.objects.none(), label=_("Community/village"), empty_label=_("All")
    )
    grid = df.ModelChoiceFilter(
        queryset=Grid.objects.none(), label=_("Grid"), empty_label=_("All grids")
    )
    courtyard = df.ModelChoiceFilter(
        queryset=Courtyard.objects.none(), label=_("Courtyard"), empty_label=_("All courtyards")
    )
    assignee = AssigneeFilter(method="filter_assignee", label=_("Assignee"))
    overdue = df.BooleanFilter(
        method="filter_overdue", label=_("Overdue only"), widget=forms.CheckboxInput
    )
    created = DateRange(
        field_name="created_at",
        label=_("Collected between"),
        widget=IsoDateRangeWidget(),
    )
    resolved = DateRange(
        field_name="resolved_at",
        label=_("Resolved between"),
        widget=IsoDateRangeWidget(),
    )
    on_time = df.BooleanFilter(
        method="filter_on_time", label=_("Resolved on time"), widget=forms.CheckboxInput
    )
    mediated = DateRange(
        method="filter_mediated", label=_("Mediated between"), widget=IsoDateRangeWidget()
    )
    visited = DateRange(
        method="filter_visited",
        label=_("Follow-up visit done between"),
        widget=IsoDateRangeWidget(),
    )
    visit = df.ChoiceFilter(
        choices=VISIT_CHOICES, method="filter_visit_kind", label=_("Follow-up visit")
    )
    q = df.CharFilter(method="filter_search", label=_("Search"), max_length=100)
    sort = df.ChoiceFilter(
        choices=SORT_CHOICES, method="filter_sort", label=_("Sort"), empty_label=None
    )

    class Meta:
        model = Issue
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.filters["q"].extra["min_length"] = settings.SEARCH_MIN_LENGTH  # before the form
        self.user = user
        f = self.filters
        f["district"].queryset = District.objects.visible_to(user)
        f["subdistrict"].queryset = Subdistrict.objects.visible_to(user)
        f["community"].queryset = Community.objects.visible_to(user)
        f["grid"].queryset = Grid.objects.visible_to(user).select_related("community")
        f["courtyard"].queryset = Courtyard.objects.visible_to(user)
        self.form.fields["assignee"].choices = [
            ("", _("Anyone")),
            ("unassigned", _("Unassigned")),
            ("me", _("Assigned to me")),
        ]
        self.people_of: int | None = None
        # Validation still looks a chosen value up in its queryset; drawing the selects reads
        # them all in one query (`options`), and only when the form is drawn.
        for name in ("category", *AREA_SELECTS.get(Scope.for_user(user).role, ())):
            field = cast(forms.ModelChoiceField, self.form.fields[name])
            # mypy cannot infer a lambda with a default (which binds the loop's name).
            field.widget.choices = Options(field, lambda name=name: self.options[name])  # type: ignore[misc]

    # --- methods -------------------------------------------------------------------------------

    def filter_status(self, qs: QuerySet[Issue], name: str, value: list[str]) -> QuerySet[Issue]:
        return qs.filter(status__in=statuses_for(value)) if ALL not in value else qs

    def filter_assignee(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        if value == "unassigned":
            return qs.filter(assignee__isnull=True)
        if value == "me":
            return qs.filter(assignee=self.user)
        return qs.filter(assignee_id=int(value)) if value else qs

    def filter_overdue(self, qs: IssueQuerySet, name: str, value: bool) -> QuerySet[Issue]:
        return qs.overdue(timezone.now()) if value else qs

    def filter_on_time(self, qs: QuerySet[Issue], name: str, value: bool) -> QuerySet[Issue]:
        # A checkbox: unticked (False, as an absent parameter also reads) filters nothing.
        if not value:
            return qs
        return qs.filter(
            due_at__isnull=False, resolved_at__isnull=False, resolved_at__lte=F("due_at")
        )

    def filter_mediated(self, qs: QuerySet[Issue], name: str, value: slice) -> QuerySet[Issue]:
        if not value or (value.start is None and value.stop is None):
            return qs
        cond = Q()
        if value.start is not None:
            cond &= Q(mediated_on__gte=timezone.localtime(value.start).date())
        if value.stop is not None:
            cond &= Q(mediated_on__lte=timezone.localtime(value.stop).date())
        return qs.filter(Exists(Mediation.objects.filter(cond, issue=OuterRef("pk"))))

    def filter_visited(self, qs: QuerySet[Issue], name: str, value: slice) -> QuerySet[Issue]:
        if not is_range(value):
            return qs
        return self._with_visit(qs, value)

    def _with_visit(self, qs: QuerySet[Issue], value: slice) -> QuerySet[Issue]:
        """Issues with a visit done between the dates (either may be open) of the chosen kind."""
        cond = Q(done_at__isnull=False)
        if value.start is not None:
            cond &= Q(done_at__gte=value.start)
        if value.stop is not None:
            cond &= Q(done_at__lte=value.stop)
        kind = self.form.cleaned_data.get("visit")
        if kind == "on_time":
            cond &= Q(done_at__lte=F("due_at") + FollowUp.ON_TIME_GRACE)
        elif kind == "satisfied":
            cond &= Q(satisfaction__in=FollowUp.SATISFIED)
        elif kind == "unsatisfied":
            cond &= Q(satisfaction=FollowUp.Satisfaction.UNSATISFIED)
        return qs.filter(Exists(FollowUp.objects.filter(cond, issue=OuterRef("pk"))))

    def filter_visit_kind(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        # With the visits' dates it is applied in `filter_visited`; alone, over any visit done
        # (its chip says "回访满意的问题", and the list must hold just those).
        if not value or is_range(self.form.cleaned_data.get("visited")):
            return qs
        return self._with_visit(qs, slice(None, None))

    def filter_search(self, qs: IssueQuerySet, name: str, value: str) -> QuerySet[Issue]:
        return qs.search(value, user=self.user)

    def filter_sort(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        return qs  # applied last, in `filter_queryset`, so that it also holds by default

    def filter_queryset(self, queryset: QuerySet[Issue]) -> QuerySet[Issue]:
        data = self.form.cleaned_data
        if not data.get("status"):
            queryset = queryset.filter(status__in=Issue.OPEN_STATUSES)
        queryset = super().filter_queryset(queryset)
        # Search results come newest first unless asked otherwise: that order walks an index
        # and stops at a page, where sorting every match by urgency would read them all.
        default = "created" if data.get("q") else "urgency"
        return queryset.order_by(*SORTS[data.get("sort") or default])

    @property
    def without_status(self) -> QuerySet[Issue]:
        """The filtered issues of every status: what the tab counts count."""
        data = {k: v for k, v in self.form.cleaned_data.items() if k not in ("status", "sort")}
        qs = self.queryset
        for name, value in data.items():
            if value not in (None, "", [], ()) and not (
                isinstance(value, slice) and value.start is None and value.stop is None
            ):
                qs = self.filters[name].filter(qs, value)
        return qs

    def tab_counts(self) -> dict[str, int]:
        """Every status tab's count in one query, plus "open" and "all" summed from them.

        A search for a common word matches tens of thousands of issues, and counting them all
        costs a second: with a search each tab counts at most SEARCH_COUNT_CAP + 1 rows, and
        `capped` names the tabs whose number is a lower bound ("1,000+").
        """
        base = self.without_status
        if self.form.cleaned_data.get("q"):
            counts = _capped_counts(base, SEARCH_COUNT_CAP)
            self.capped = {s for s, n in counts.items() if n > SEARCH_COUNT_CAP}
        else:
            counts = base.aggregate(
                **{s: Count("pk", filter=Q(status=s)) for s in Issue.Status.values}
            )
            self.capped = set()
        counts[OPEN] = sum(counts[s] for s in Issue.OPEN_STATUSES)
        counts[ALL] = sum(counts[s] for s in Issue.Status.values)
        if self.capped & set(Issue.OPEN_STATUSES):
            self.capped.add(OPEN)
        if self.capped:
            self.capped.add(ALL)
        return counts

    def chips(self) -> list[Chip]:
        """Every active filter as a plain sentence and the list's address without it.

        Also the filters a dashboard figure sets that the form has no field for (visits,
        mediations, resolution dates, on time, areas above or below the role's selects). Names
        come from the rows the form validated, so drawing the chips adds no query.
        """
        data = self.form.cleaned_data
        today = timezone.localdate()
        chips: list[Chip] = []

        def add(names: tuple[str, ...], text: str) -> None:
            chips.append(Chip(text, self._list_without(*names)))

        def when(value: Any) -> str | None:
            return describe_period(value, today) if is_range(value) else None

        if data.get("q"):
            add(("q",), _("Containing “%(q)s”") % {"q": data["q"]})
        for name in ("district", "subdistrict", "community", "grid", "courtyard"):
            if data.get(name) is not None:
                add((name,), _("Area: %(area)s") % {"area": data[name]})
        if data.get("category") is not None:
            add(("category",), _("Category: %(name)s") % {"name": data["category"].display_name})
        if data.get("urgency"):
            add(("urgency",), _("Urgency: %(u)s") % {"u": Urgency(data["urgency"]).label})
        if data.get("source"):
            add(("source",), _("Source: %(s)s") % {"s": Issue.Source(data["source"]).label})
        if data.get("assignee"):
            add(("assignee",), self._assignee_sentence(data["assignee"]))
        if data.get("overdue"):
            add(("overdue",), str(_("Overdue issues")))
        for name, what in (
            ("created", _("issues collected")),
            ("resolved", _("issues resolved")),
            ("mediated", _("issues mediated")),
        ):
            period = when(data.get(name))
            if period:
                add((f"{name}_after", f"{name}_before"), f"{period} · {what}")
        if data.get("on_time"):
            add(("on_time",), str(_("Issues resolved on time")))
        # The kind of visit counts only with the visits' dates: one filter, one chip.
        kind, period = data.get("visit"), when(data.get("visited"))
        if kind or period:
            sentence = str(dict(VISIT_SENTENCES)[kind or ""])
            add(
                ("visit", "visited_after", "visited_before"),
                f"{period} · {sentence}" if period else sentence,
            )
        return chips

    def _assignee_sentence(self, value: str) -> str:
        if value == "unassigned":
            return str(_("Unassigned"))
        if value == "me":
            return str(_("Assigned to me"))
        # The community's people are among the options the list draws anyway (one query).
        people = dict(self.options["person"]) if self.people_of is not None else {}
        return _("Assignee: %(name)s") % {"name": people.get(value) or _("someone else")}

    def _list_without(self, *names: str) -> str:
        """The list's address with these parameters (and the page) left out."""
        params = QueryDict(mutable=True)
        params.update(self.data or {})
        for name in (*names, "page"):
            params.pop(name, None)
        query = params.urlencode()
        return reverse("issues:list") + (f"?{query}" if query else "")

    def assignee_choices_for(self, community_id: int) -> None:
        """Named people in the assignee filter: only for one community's list."""
        self.people_of = community_id
        fixed = list(self.form.fields["assignee"].choices)
        self.form.fields["assignee"].choices = lambda: [*fixed, *self.options["person"]]

    @cached_property
    def options(self) -> dict[str, list[tuple[int | str, str]]]:
        """The options of every select the list draws, read in one query (UNION ALL)."""
        user, blank, zero = self.user, Value(""), Value(0)
        # Each part: kind, pk, name, second name, sort text, sort number.
        parts: list[QuerySet[Any, Any]] = [
            Category.objects.values_list(
                Value("category"), "pk", "name", "name_en", "code", "sort_order"
            )
        ]
        areas = {
            "subdistrict": Subdistrict.objects.visible_to(user).values_list(
                Value("subdistrict"), "pk", "name", blank, blank, zero
            ),
            "community": Community.objects.visible_to(user).values_list(
                Value("community"), "pk", "name", blank, blank, zero
            ),
            "grid": Grid.objects.visible_to(user).values_list(
                Value("grid"), "pk", "name", "community__name", blank, zero
            ),
            "courtyard": Courtyard.objects.visible_to(user).values_list(
                Value("courtyard"), "pk", "name", blank, blank, zero
            ),
        }
        parts += [areas[name] for name in AREA_SELECTS.get(Scope.for_user(user).role, ())]
        if self.people_of is not None:
            parts.append(
                assignable_users(self.people_of).values_list(
                    Value("person"), "pk", "first_name", "last_name", "username", zero
                )
            )
        parts = [p.order_by() for p in parts]
        # Categories by their order and code, areas by name, people by name and username.
        rows = sorted(
            parts[0].union(*parts[1:], all=True),
            key=lambda r: (r[0], r[5], r[4] if r[0] == "category" else r[2], r[4]),
        )
        english = (get_language() or "").startswith("en")
        options: dict[str, list[tuple[int | str, str]]] = {
            "category": [],
            "person": [],
            **{name: [] for name in areas},
        }
        for kind, pk, name, second, third, _order in rows:
            if kind == "category":
                label = second if english else name
            elif kind == "grid":
                label = f"{second} · {name}"  # as Grid.__str__
            elif kind == "person":
                label = f"{name} {second}".strip() or third  # as User.get_full_name
                pk = str(pk)  # the assignee field's values are strings ("me", "unassigned")
            else:
                label = name
            options[kind].append((pk, label))
        return options


class Chip(NamedTuple):
    text: str
    url: str  # the list without this filter


# How a visit filter reads on its chip, by its kind ("": any visit done).
VISIT_SENTENCES = [
    ("", _("issues with a follow-up visit done")),
    ("on_time", _("issues visited on time")),
    ("satisfied", _("issues whose resident was satisfied at the visit")),
    ("unsatisfied", _("issues whose resident was unsatisfied at the visit")),
]


def is_range(value: Any) -> bool:
    return isinstance(value, slice) and (value.start is not None or value.stop is not None)


def describe_period(value: slice, today: date) -> str:
    """Two days of a date filter in plain words: "本年度", "近30天", "2026年", "2026-11-01至…"."""
    # The dashboard's periods: the names its figures were shown under.
    from issues.dashboard import PERIODS, Period

    start = timezone.localtime(value.start).date() if value.start is not None else None
    end = timezone.localtime(value.stop).date() if value.stop is not None else None
    labels = dict(PERIODS)
    for name in ("year", "month", "week", "30d"):
        named = Period.named(name, today)
        if (named.start, named.end) == (start, end):
            return str(labels[name])
    if start is None:
        return _("until %(end)s") % {"end": f"{end:%Y-%m-%d}"}
    if end is None:
        return _("from %(start)s") % {"start": f"{start:%Y-%m-%d}"}
    if start == end:
        return f"{start:%Y-%m-%d}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return _("the year %(year)d") % {"year": start.year}
    if (
        start.day == 1
        and (end + timedelta(days=1)).day == 1
        and start.replace(day=1) == end.replace(day=1)
    ):
        return date_format(start, "YEAR_MONTH_FORMAT")
    return _("%(start)s to %(end)s") % {"start": f"{start:%Y-%m-%d}", "end": f"{end:%Y-%m-%d}"}


def statuses_for(value: list[str]) -> list[str]:
    statuses: set[str] = set()
    for v in value:
        statuses.update(Issue.OPEN_STATUSES if v == OPEN else [v])
    return sorted(statuses)
