"""The staff's and officials' issue list, and the bulk actions taken from it."""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import (
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.http import AuthedRequest
from grassroots.paginator import KnownCountPaginator
from grids.access import Role, Scope
from issues import services
from issues.filters import (
    ALL,
    OPEN,
    SEARCH_COUNT_CAP,
    STATUS_TABS,
    IssueFilter,
    statuses_for,
)
from issues.forms import (
    due_at_from_date,
)
from issues.models import (
    REFERENCE_PATTERN,
    Issue,
)
from issues.services import TransitionRefused
from issues.views.lookup import is_id, safe_back


def issue_list(request: AuthedRequest) -> HttpResponse:
    """The filtered, sorted, paged list; htmx swaps only the results."""
    user = request.user
    scope = Scope.for_user(user)
    f = IssueFilter(request.GET, queryset=Issue.objects.visible_to(user), user=user)
    if len(scope.community_ids) == 1 and scope.role == Role.STAFF:
        f.assignee_choices_for(next(iter(scope.community_ids)))
    if not f.is_valid():
        # htmx swaps a 400 into #results too, so it gets the results part, not a whole page.
        partial = "#results" if request.htmx and not request.htmx.boosted else ""
        return render(
            request, f"issues/issue_list.html{partial}", {"filter": f, "invalid": True}, status=400
        )
    chosen = f.form.cleaned_data.get("status") or [OPEN]
    # One query counts every tab; the pager's total is the sum of the chosen tabs.
    counts = f.tab_counts()
    total = counts[ALL] if ALL in chosen else sum(counts[s] for s in statuses_for(chosen))
    size = settings.ISSUES_PER_PAGE
    paginator = KnownCountPaginator(f.qs, size, count=total)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = page_rows(f.qs, page.start_index() - 1 if total else 0, size)
    context = {
        "filter": f,
        "page": page,
        "counts": counts,
        "total": total,
        "tabs": [(value, label, counts[value], value in f.capped) for value, label in STATUS_TABS],
        "chips": f.chips(),
        "search_cap": SEARCH_COUNT_CAP,
        "total_capped": any(s in f.capped for s in chosen) or (ALL in chosen and f.capped),
        "chosen": chosen,
        "role": scope.role,
        "now": timezone.now(),
        "query_without_page": _query_without(request, "page"),
        "query_without_status": _query_without(request, "status", "page"),
    }
    if request.htmx and not request.htmx.boosted:
        # The chips sit above the form, outside the results: they come along out of band.
        return render(request, "issues/issue_list.html#results", {**context, "chips_oob": True})
    return render(request, "issues/issue_list.html", context)


def page_rows(qs: QuerySet[Issue], offset: int, size: int) -> list[Issue]:
    """One page of a sorted list: pick the page's ids first, then join only those rows.

    Joining before the limit made PostgreSQL hash every courtyard, grid and user to sort a
    few hundred issues; picking fifty ids walks the index and the joins go by primary key.
    """
    ids = qs.values("pk")[offset : offset + size]
    return list(Issue.objects.filter(pk__in=ids).for_list().order_by(*qs.query.order_by))


def _query_without(request: AuthedRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()


@require_POST
def issue_bulk(request: AuthedRequest) -> HttpResponse:
    """List or reassign several issues; each goes through the same service as the issue page."""
    user = request.user
    scope = Scope.for_user(user)
    if not (scope.is_all or scope.community_ids):
        # Listing and reassigning are the staff's; the list offers no other role these actions.
        raise PermissionDenied(_("Only the community's staff can assign issues."))
    refs = [r.upper() for r in request.POST.getlist("issue")][:200]
    action = request.POST.get("action")
    back = safe_back(request.POST.get("next", ""), reverse("issues:list"))
    if not refs or action not in ("list", "assign"):
        messages.error(request, _("Select at least one issue and an action."))
        return redirect(back)
    issues = {
        i.reference: i
        for i in Issue.objects.visible_to(user)
        # Only references are looked up: a forged one (a NUL would fail the query) is not found.
        .filter(reference__in=[r for r in refs if re.fullmatch(REFERENCE_PATTERN, r)])
        .select_related("category")
    }
    assignee_id = request.POST.get("assignee", "")
    assignee = None
    if is_id(assignee_id) and len(assignee_id) <= 18:
        assignee = get_user_model().objects.filter(pk=int(assignee_id), is_active=True).first()
    if assignee_id and assignee is None:
        # Listing with "nobody" is not what was asked for: nothing is done.
        messages.error(request, _("Choose the assignee from the list."))
        return redirect(back)
    due_at = None
    if request.POST.get("due_date"):
        try:
            due_at = due_at_from_date(forms.DateField().clean(request.POST["due_date"]))
        except ValidationError:
            messages.error(request, _("The due date is not a valid date."))
            return redirect(back)
    done, refused = [], []
    for ref in refs:
        issue = issues.get(ref)
        if issue is None:
            shown = "".join(c for c in ref if c.isprintable())
            refused.append((shown, _("Not found in your area.")))
            continue
        try:
            if action == "list":
                services.list_issue(
                    issue, by=user, seen_status=issue.status, assignee=assignee, due_at=due_at
                )
            else:
                if assignee is None:
                    raise TransitionRefused(_("Choose the assignee."))
                services.assign_issue(
                    issue,
                    by=user,
                    assignee=assignee,
                    seen_assignee_id=issue.assignee_id,
                    due_at=due_at,
                )
            done.append(ref)
        except TransitionRefused as e:
            refused.append((ref, str(e)))
    if done:
        messages.success(
            request, _("Done for %(n)d: %(refs)s.") % {"n": len(done), "refs": ", ".join(done)}
        )
    for ref, reason in refused:
        messages.error(request, f"{ref}: {reason}")
    return redirect(back)
