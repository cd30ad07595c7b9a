"""The issue list's filters: every one a GET parameter, so a link shares the exact view."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import django_filters as df
from django import forms
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.models import Community, Courtyard, District, Grid, Subdistrict
from issues.forms import assignable_users, person_name
from issues.models import Category, FollowUp, Issue, Mediation, Urgency

if TYPE_CHECKING:
    from django.contrib.auth.models import User

OPEN = "open"
ALL = "all"
STATUS_TABS = [(OPEN, _("Open")), *Issue.Status.choices, (ALL, _("All"))]

VISIT_ON_TIME = timedelta(days=1)
VISIT_CHOICES = [("on_time", _("Done on time")), ("satisfied", _("Resident satisfied")),
                 ("unsatisfied", _("Resident unsatisfied"))]

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


class AssigneeField(forms.ChoiceField):
    """"unassigned", "me", or a user id from the community's people."""

    def valid_value(self, value: str) -> bool:
        return value in ("unassigned", "me") or (value.isdigit() and len(value) < 12)


class AssigneeFilter(df.Filter):
    field_class = AssigneeField


class IssueFilter(df.FilterSet):
    status = df.MultipleChoiceFilter(
        choices=STATUS_TABS, method="filter_status", label=_("Status"),
        widget=forms.CheckboxSelectMultiple)
    category = df.ModelChoiceFilter(queryset=Category.objects.all(), label=_("Category"),
                                    empty_label=_("All categories"))
    urgency = df.ChoiceFilter(choices=Urgency.choices, label=_("Urgency"),
                              empty_label=_("Any urgency"))
    source = df.ChoiceFilter(choices=Issue.Source.choices, label=_("Source"),
                             empty_label=_("Any source"))
    district = df.ModelChoiceFilter(queryset=District.objects.none(), label=_("District/county"),
                                    empty_label=_("All"))
    subdistrict = df.ModelChoiceFilter(queryset=Subdistrict.objects.none(),
                                       label=_("Subdistrict/township"), empty_label=_("All"))
    community = df.ModelChoiceFilter(queryset=Community.objects.none(),
                                     label=_("Community/village"), empty_label=_("All"))
    grid = df.ModelChoiceFilter(queryset=Grid.objects.none(), label=_("Grid"),
                                empty_label=_("All grids"))
    courtyard = df.ModelChoiceFilter(queryset=Courtyard.objects.none(), label=_("Courtyard"),
                                     empty_label=_("All courtyards"))
    assignee = AssigneeFilter(method="filter_assignee",
                         label=_("Assignee"))
    overdue = df.BooleanFilter(method="filter_overdue", label=_("Overdue only"),
                               widget=forms.CheckboxInput)
    created = df.DateFromToRangeFilter(
        field_name="created_at", label=_("Collected between"),
        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}))
    resolved = df.DateFromToRangeFilter(field_name="resolved_at", label=_("Resolved between"),
                                        widget=df.widgets.DateRangeWidget(attrs={"type": "date"}))
    on_time = df.BooleanFilter(method="filter_on_time", label=_("Resolved on time"),
                               widget=forms.CheckboxInput)
    mediated = df.DateFromToRangeFilter(method="filter_mediated", label=_("Mediated between"))
    visited = df.DateFromToRangeFilter(method="filter_visited",
                                       label=_("Follow-up visit done between"))
    visit = df.ChoiceFilter(choices=VISIT_CHOICES, method="filter_visit_kind",
                            label=_("Follow-up visit"))
    q = df.CharFilter(method="filter_search", label=_("Search"), max_length=100)
    sort = df.ChoiceFilter(choices=SORT_CHOICES, method="filter_sort", label=_("Sort"),
                           empty_label=None)

    class Meta:
        model = Issue
        fields: list[str] = []

    def __init__(self, data: Any = None, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(data, *args, **kwargs)
        self.user = user
        f = self.filters
        f["district"].queryset = District.objects.visible_to(user)
        f["subdistrict"].queryset = Subdistrict.objects.visible_to(user)
        f["community"].queryset = Community.objects.visible_to(user)
        f["grid"].queryset = Grid.objects.visible_to(user).select_related("community")
        f["courtyard"].queryset = Courtyard.objects.visible_to(user)
        self.form.fields["assignee"].choices = [
            ("", _("Anyone")), ("unassigned", _("Unassigned")), ("me", _("Assigned to me"))]

    # --- methods -------------------------------------------------------------------------------

    def filter_status(self, qs: QuerySet[Issue], name: str, value: list[str]) -> QuerySet[Issue]:
        return qs.filter(status__in=statuses_for(value)) if ALL not in value else qs

    def filter_assignee(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        if value == "unassigned":
            return qs.filter(assignee__isnull=True)
        if value == "me":
            return qs.filter(assignee=self.user)
        return qs.filter(assignee_id=int(value)) if value else qs

    def filter_overdue(self, qs: QuerySet[Issue], name: str, value: bool) -> QuerySet[Issue]:
        return qs.overdue(timezone.now()) if value else qs

    def filter_on_time(self, qs: QuerySet[Issue], name: str, value: bool) -> QuerySet[Issue]:
        if value is None:
            return qs
        on_time = Q(due_at__isnull=False, resolved_at__isnull=False,
                    resolved_at__lte=F("due_at"))
        return qs.filter(on_time) if value else qs.filter(resolved_at__isnull=False).exclude(
            on_time)

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
        if not value or (value.start is None and value.stop is None):
            return qs
        cond = Q(done_at__isnull=False)
        if value.start is not None:
            cond &= Q(done_at__gte=value.start)
        if value.stop is not None:
            cond &= Q(done_at__lte=value.stop)
        kind = self.form.cleaned_data.get("visit")
        if kind == "on_time":
            cond &= Q(done_at__lte=F("due_at") + VISIT_ON_TIME)
        elif kind == "satisfied":
            cond &= Q(satisfaction__in=[FollowUp.Satisfaction.SATISFIED,
                                        FollowUp.Satisfaction.BASICALLY])
        elif kind == "unsatisfied":
            cond &= Q(satisfaction=FollowUp.Satisfaction.UNSATISFIED)
        return qs.filter(Exists(FollowUp.objects.filter(cond, issue=OuterRef("pk"))))

    def filter_visit_kind(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        return qs  # applied together with the visit dates in `filter_visited`

    def filter_search(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        return qs.search(value)

    def filter_sort(self, qs: QuerySet[Issue], name: str, value: str) -> QuerySet[Issue]:
        return qs  # applied last, in `filter_queryset`, so that it also holds by default

    def filter_queryset(self, queryset: QuerySet[Issue]) -> QuerySet[Issue]:
        data = self.form.cleaned_data
        if not data.get("status"):
            queryset = queryset.filter(status__in=Issue.OPEN_STATUSES)
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*SORTS[data.get("sort") or "urgency"])

    @property
    def without_status(self) -> QuerySet[Issue]:
        """The filtered issues of every status: what the tab counts count."""
        data = {k: v for k, v in self.form.cleaned_data.items() if k not in ("status", "sort")}
        qs = self.queryset
        for name, value in data.items():
            if value not in (None, "", [], ()) and not (
                    isinstance(value, slice) and value.start is None and value.stop is None):
                qs = self.filters[name].filter(qs, value)
        return qs

    def assignee_choices_for(self, community_id: int) -> None:
        """Named people in the assignee filter: only for one community's list."""
        people = [(str(u.pk), person_name(u))
                  for u in assignable_users(community_id)]
        self.form.fields["assignee"].choices = [*self.form.fields["assignee"].choices, *people]


def statuses_for(value: list[str]) -> list[str]:
    statuses: set[str] = set()
    for v in value:
        statuses.update(Issue.OPEN_STATUSES if v == OPEN else [v])
    return sorted(statuses)

