"""The grid worker's home: their grids' issues in folding groups, most pressing first."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Case, Count, Q, When
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grassroots.http import AuthedRequest
from issues.models import FollowUp, Issue

# The grid worker's home, most pressing first; the closed groups start folded.
MY_GROUPS = [
    ("todo", _("To be handled"), (Issue.Status.COLLECTED, Issue.Status.LISTED), True),
    ("in_progress", _("In progress"), (Issue.Status.IN_PROGRESS,), True),
    ("resolved", _("Resolved, awaiting follow-up"), (Issue.Status.RESOLVED,), False),
    # Closed without resolving (a duplicate, referred, not accepted) ends here too.
    (
        "revisited",
        _("Revisited or closed"),
        (Issue.Status.REVISITED, Issue.Status.CLOSED),
        False,
    ),
]


def _pressing_first(issues: list[Issue], is_open: bool) -> list[Issue]:
    """Overdue, then urgent, before the rest of an open group; a closed one by latest activity."""
    if not is_open:
        return issues
    return sorted(issues, key=lambda i: (not i.is_overdue, not i.is_urgent))


def my_issues(request: AuthedRequest) -> HttpResponse:
    """The grid worker's home: their grids' open issues by state, then the recently closed."""
    user = request.user
    now = timezone.now()
    q, search_error = "", None
    try:
        # As the list's search box: at most 100 characters, no NUL (which the database refuses).
        q = forms.CharField(max_length=100, required=False).clean(request.GET.get("q", ""))
    except ValidationError as e:
        search_error = e.messages[0]
    qs = (
        Issue.objects.visible_to(user)
        .filter(Q(status__in=Issue.OPEN_STATUSES) | Q(last_activity_at__gte=now - timedelta(30)))
        .search(q, user=user)
    )
    counts = qs.aggregate(**{s: Count("pk", filter=Q(status=s)) for s in Issue.Status.values})
    # Open issues first, so that a long closed tail never pushes one off the page.
    issues = list(
        qs.for_list().order_by(
            Case(When(status__in=Issue.OPEN_STATUSES, then=0), default=1), "-last_activity_at"
        )[:200]
    )
    groups = [
        {
            "key": key,
            "label": label,
            "statuses": statuses,
            "issues": _pressing_first([i for i in issues if i.status in statuses], is_open),
            "count": sum(counts[s] for s in statuses),
            "open": is_open or bool(q),
        }
        for key, label, statuses, is_open in MY_GROUPS
    ]
    due_visits = (
        FollowUp.objects.visible_to(user)
        .filter(assignee=user, done_at__isnull=True, due_at__lte=now + timedelta(days=1))
        .count()
    )
    return render(
        request,
        "issues/my_issues.html",
        {
            "groups": groups,
            "due_visits": due_visits,
            "now": now,
            "q": q,
            "search_error": search_error,
            "total": sum(counts.values()),
            "open_count": sum(counts[s] for s in Issue.OPEN_STATUSES),
        },
        status=400 if search_error else 200,
    )
