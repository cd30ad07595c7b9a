from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
    QueryDict,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from openpyxl import Workbook

from grassroots.http import AuthedRequest
from grassroots.paginator import KnownCountPaginator
from grids.access import Role, Scope
from grids.models import Community, District, Grid, Patrol, Subdistrict
from issues import dashboard, exports, services, tallies
from issues.filters import (
    ALL,
    EARLIEST,
    LATEST,
    OPEN,
    SEARCH_COUNT_CAP,
    STATUS_TABS,
    IssueFilter,
    statuses_for,
)
from issues.forms import (
    AssignForm,
    CaptureForm,
    CommentForm,
    FollowUpForm,
    MediationForm,
    TransitionForm,
    due_at_from_date,
)
from issues.models import Attachment, Category, FollowUp, Issue, Notification
from issues.privacy import resident_view
from issues.services import TransitionRefused
from issues.workflow import DONE, Actor, allowed_actions
from wishes.dashboard import wish_figures

# --- The list -----------------------------------------------------------------------------------


def is_id(value: str) -> bool:
    """Digits a database id can be made of: ASCII only ("²".isdigit() is true, int() fails)."""
    return value.isascii() and value.isdigit()


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
    paginator = KnownCountPaginator(f.qs, 50, count=total)
    page = paginator.get_page(request.GET.get("page"))
    page.object_list = page_rows(f.qs, page.start_index() - 1 if total else 0, 50)
    context = {
        "filter": f,
        "page": page,
        "counts": counts,
        "total": total,
        "tabs": [(value, label, counts[value], value in f.capped) for value, label in STATUS_TABS],
        "search_cap": SEARCH_COUNT_CAP,
        "total_capped": any(s in f.capped for s in chosen) or (ALL in chosen and f.capped),
        "chosen": chosen,
        "role": scope.role,
        "now": timezone.now(),
        "query_without_page": _query_without(request, "page"),
        "query_without_status": _query_without(request, "status", "page"),
    }
    if request.htmx and not request.htmx.boosted:
        return render(request, "issues/issue_list.html#results", context)
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


def my_issues(request: AuthedRequest) -> HttpResponse:
    """The grid worker's home: their grids' open issues by state, then the recently closed."""
    user = request.user
    now = timezone.now()
    issues = list(
        Issue.objects.visible_to(user)
        .filter(Q(status__in=Issue.OPEN_STATUSES) | Q(last_activity_at__gte=now - timedelta(30)))
        .for_list()
        .order_by("-last_activity_at")[:200]
    )
    groups = [
        (status, label, [i for i in issues if i.status == status])
        for status, label in Issue.Status.choices
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
            "open_count": sum(1 for i in issues if i.is_open),
        },
    )


# --- Capture -------------------------------------------------------------------------------------


def issue_new(request: AuthedRequest) -> HttpResponse:
    """Log a concern; a resent form (same token) lands on the issue it already created."""
    user = request.user
    scope = Scope.for_user(user)
    if not (scope.is_all or scope.grid_ids or scope.community_ids):
        raise PermissionDenied(_("Your role can read issues but not log them."))
    form = CaptureForm(
        request.POST or None,
        request.FILES or None,
        user=user,
        initial={"patrol": request.GET.get("patrol")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issue, _created = services.create_issue(
                by=user,
                courtyard=data["courtyard"],
                category=data["category"],
                title=data["title"],
                description=data["description"],
                urgency=data["urgency"],
                source=data["source"],
                resident_name=data["resident_name"],
                resident_phone=data["resident_phone"],
                patrol=data["patrol"],
                photos=data["photos"],
                submission_token=data["token"],
                people_affected=data["people_affected"],
                amount_owed=data["amount_owed"],
            )
        except TransitionRefused as e:
            form.add_error(None, str(e))
        else:
            return redirect("issues:created", reference=issue.reference)
    patrol = form.fields["patrol"].queryset.first()
    return render(
        request,
        "issues/issue_new.html",
        {
            "form": form,
            "patrol": patrol,
            "category_urgency": {
                str(c.pk): c.default_urgency for c in form.fields["category"].queryset
            },
        },
        status=400 if form.errors else 200,
    )


def issue_created(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = get_object_or_404(
        Issue.objects.visible_to(request.user).select_related("courtyard", "category"),
        reference=reference,
    )
    return render(request, "issues/issue_created.html", {"issue": issue})


@require_GET
def duplicates(request: AuthedRequest) -> HttpResponse:
    """The open issues of one courtyard in one category, offered before a second ticket."""
    courtyard, category = request.GET.get("courtyard", ""), request.GET.get("category", "")
    issues: list[Issue] = []
    # At most 18 digits: a longer number overflows the database's integer (a 500, not a hint).
    if is_id(courtyard) and is_id(category) and max(len(courtyard), len(category)) <= 18:
        issues = list(
            Issue.objects.visible_to(request.user)
            .open()
            .filter(courtyard_id=int(courtyard), category_id=int(category))
            .order_by("-created_at")[:5]
        )
    return render(request, "issues/issue_new.html#duplicates", {"duplicates": issues})


# --- The issue page ------------------------------------------------------------------------------


def _visible_issue(request: AuthedRequest, reference: str) -> Issue:
    return get_object_or_404(
        Issue.objects.visible_to(request.user).select_related(
            "category", "courtyard", "grid", "community", "assignee", "created_by", "patrol"
        ),
        reference=reference.upper(),
    )


def _acting_issue(request: AuthedRequest, reference: str) -> Issue:
    """The issue for a change: 404 outside the scope, 403 for read-only roles inside it."""
    issue = _visible_issue(request, reference)
    if not services.can_contribute(request.user, issue):
        raise PermissionDenied(_("Your role can read this issue but not change it."))
    return issue


def detail_context(
    request: AuthedRequest, issue: Issue, forms: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the issue page shows, in a fixed number of queries."""
    user = request.user
    actors = services.actors_for(user, issue)
    forms = forms or {}
    actions = allowed_actions(actors, issue.status)
    if "handle_now" in actions and not issue.is_urgent:
        actions.remove("handle_now")
    action_forms = [
        (
            action,
            forms.get(action)
            or TransitionForm(action=action, issue=issue, initial={"seen_status": issue.status}),
        )
        for action in actions
    ]
    contributor = services.can_contribute(user, issue)
    events = list(issue.events.select_related("actor"))
    follow_ups = list(issue.follow_ups.select_related("assignee", "done_by"))
    return {
        "issue": issue,
        "events": events,
        "attachments": list(issue.attachments.all()),
        "mediations": list(issue.mediations.select_related("mediator")),
        "follow_ups": follow_ups,
        "resident": resident_view(user, issue),
        "action_forms": action_forms,
        # Reassigning is for listed and started issues; a collected one is listed with an assignee.
        "assign_form": forms.get("assign")
        or (
            AssignForm(issue=issue)
            if Actor.STAFF in actors
            and issue.status in (Issue.Status.LISTED, Issue.Status.IN_PROGRESS)
            else None
        ),
        "comment_form": forms.get("comment") or (CommentForm() if contributor else None),
        "mediation_form": forms.get("mediation")
        or (
            MediationForm() if contributor and issue.is_open and issue.category.is_dispute else None
        ),
        "visit_forms": {
            v.pk: FollowUpForm(prefix=f"visit-{v.pk}")
            for v in follow_ups
            if v.done_at is None and (v.assignee_id == user.pk or Actor.STAFF in actors)
        },
        "now": timezone.now(),
    }


def issue_detail(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = _visible_issue(request, reference)
    return render(request, "issues/issue_detail.html", detail_context(request, issue))


def _after_action(
    request: AuthedRequest, issue: Issue, forms: dict[str, Any], ok_message: str | None
) -> HttpResponse:
    """Redirect on success; on refusal redisplay the page with the typed text kept."""
    failed = any(form.errors for form in forms.values())
    if not failed:
        if ok_message:
            messages.success(request, ok_message)
        if request.htmx:
            issue.refresh_from_db()
            return render(
                request,
                "issues/issue_detail.html#main",
                detail_context(request, _visible_issue(request, issue.reference)),
            )
        return redirect(issue)
    issue = _visible_issue(request, issue.reference)
    context = detail_context(request, issue, forms)
    shown = {id(f) for _a, f in context["action_forms"]} | {
        id(context[k]) for k in ("assign_form", "comment_form", "mediation_form") if context[k]
    }
    # A refused form that the new state no longer offers still gives back what was typed.
    context["kept"] = [
        (field.label, value)
        for form in forms.values()
        if id(form) not in shown
        for name, field in form.fields.items()
        if (value := form.data.get(form.add_prefix(name), "").strip())
        and not field.widget.is_hidden
        and isinstance(value, str)
    ]
    context["refusals"] = [e for form in forms.values() for e in form.non_field_errors()]
    if request.htmx:
        return render(request, "issues/issue_detail.html#main", context, status=409)
    return render(request, "issues/issue_detail.html", context, status=409)


@require_POST
def issue_transition(request: AuthedRequest, reference: str, action: str) -> HttpResponse:
    issue = _acting_issue(request, reference)
    if action not in ("list", "handle_now", "start", "resolve", "reopen"):
        raise Http404
    form = TransitionForm(request.POST, action=action, issue=issue)
    if form.is_valid():
        try:
            services.perform(issue, action, by=request.user, **form.service_kwargs())
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return _after_action(
        request,
        issue,
        {action: form},
        str(DONE[action]),
    )


@require_POST
def issue_assign(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = _acting_issue(request, reference)
    form = AssignForm(request.POST, issue=issue)
    if form.is_valid():
        try:
            services.assign_issue(
                issue,
                by=request.user,
                assignee=form.cleaned_data["assignee"],
                seen_assignee_id=form.cleaned_data["seen_assignee"],
            )
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return _after_action(request, issue, {"assign": form}, _("Assigned."))


@require_POST
def issue_comment(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = _acting_issue(request, reference)
    data = request.POST.copy()
    if data.get("next") == "created" and not data.get("note"):
        # From the capture form's duplicate hint: the resident's words become the comment.
        data["note"] = duplicate_note(data)
    form = CommentForm(data)
    if form.is_valid():
        try:
            services.comment_on_issue(issue, by=request.user, note=form.cleaned_data["note"])
        except TransitionRefused as e:
            form.add_error(None, str(e))
    if request.POST.get("next") == "created" and not form.errors:
        messages.success(
            request, _("The resident's words were added to %(ref)s.") % {"ref": issue.reference}
        )
        return redirect("issues:created", reference=issue.reference)
    return _after_action(request, issue, {"comment": form}, _("Comment added."))


def duplicate_note(data: QueryDict) -> str:
    """The resident's words without their name or phone, which the timeline shows to all."""
    words = data.get("description", "").strip() or data.get("title", "").strip()
    return _("Raised again by a resident: %(words)s") % {"words": words} if words else ""


@require_POST
def issue_mediation(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = _acting_issue(request, reference)
    form = MediationForm(request.POST)
    if form.is_valid():
        try:
            services.record_mediation(issue, by=request.user, **form.cleaned_data)
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return _after_action(request, issue, {"mediation": form}, _("Mediation recorded."))


@require_POST
def reveal_phone(request: AuthedRequest, reference: str) -> HttpResponse:
    """An official asks to see the resident's phone: shown once, and the view is logged."""
    issue = _visible_issue(request, reference)
    services.log_phone_reveal(issue, by=request.user)
    return render(
        request,
        "issues/issue_detail.html#phone",
        {"issue": issue, "resident": resident_view(request.user, issue, revealed=True)},
    )


@require_GET
def photo(request: AuthedRequest, reference: str, pk: int, size: str) -> FileResponse:
    """Photos are personal data: served only through the issue's scope, never as static files."""
    issue = _visible_issue(request, reference)
    attachment = get_object_or_404(Attachment, pk=pk, issue=issue)
    field = attachment.thumbnail if size == "thumb" and attachment.thumbnail else attachment.image
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


# --- Follow-up visits ----------------------------------------------------------------------------


def follow_up_list(request: AuthedRequest) -> HttpResponse:
    """My visits, due first; the done ones of the last month below."""
    now = timezone.now()
    # Only inside the user's area: a visit left behind in an area they no longer serve would
    # show an issue they cannot open, and recording it answers 404.
    visits = (
        FollowUp.objects.visible_to(request.user)
        .filter(assignee=request.user)
        .select_related("issue__courtyard", "issue__category")
    )
    pending = list(visits.filter(done_at__isnull=True).order_by("due_at")[:200])
    done = list(visits.filter(done_at__gte=now - timedelta(days=30)).order_by("-done_at")[:50])
    return render(
        request,
        "issues/follow_up_list.html",
        {
            "pending": pending,
            "done": done,
            "now": now,
            "forms": {v.pk: FollowUpForm(prefix=f"visit-{v.pk}") for v in pending},
        },
    )


@require_POST
def follow_up_record(request: AuthedRequest, pk: int) -> HttpResponse:
    visit = get_object_or_404(
        FollowUp.objects.visible_to(request.user).select_related(
            "issue__category", "issue__community"
        ),
        pk=pk,
    )
    if not services.can_contribute(request.user, visit.issue):
        raise PermissionDenied(_("Your role can read this issue but not change it."))
    form = FollowUpForm(request.POST, prefix=f"visit-{visit.pk}")
    back = _back(request.POST.get("next", ""), reverse("issues:followups"))
    if form.is_valid():
        try:
            services.record_follow_up(visit, by=request.user, **form.cleaned_data)
        except TransitionRefused as e:
            messages.error(request, str(e))
        else:
            messages.success(request, _("Visit recorded."))
            return redirect(back)
    else:
        for field, errors in form.errors.items():
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''}"
                f" {' '.join(errors)}".strip(),
            )
    return redirect(back)


# --- Notifications -------------------------------------------------------------------------------


def notification_list(request: AuthedRequest) -> HttpResponse:
    rows = list(
        Notification.objects.listed_for(request.user).select_related(
            "issue__courtyard", "follow_up", "wish"
        )[:100]
    )
    return render(request, "issues/notification_list.html", {"notifications": rows})


@require_POST
def notifications_read(request: AuthedRequest) -> HttpResponse:
    # At most 18 digits: a longer number overflows the database's integer.
    ids = [int(i) for i in request.POST.getlist("id") if is_id(i) and len(i) <= 18]
    services.mark_notifications_read(request.user, ids or None)
    return redirect(_back(request.POST.get("next", ""), reverse("issues:notifications")))


def _back(url: str, default: str) -> str:
    """A path on this site to go back to, else `default`: "//host" and "/\\host" leave it."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return default


# --- Bulk actions and exports --------------------------------------------------------------------


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
    back = _back(request.POST.get("next", ""), reverse("issues:list"))
    if not refs or action not in ("list", "assign"):
        messages.error(request, _("Select at least one issue and an action."))
        return redirect(back)
    issues = {
        i.reference: i
        for i in Issue.objects.visible_to(user)
        .filter(reference__in=refs)
        .select_related("category")
    }
    assignee_id = request.POST.get("assignee", "")
    assignee = None
    if is_id(assignee_id):
        assignee = get_user_model().objects.filter(pk=int(assignee_id), is_active=True).first()
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
            refused.append((ref, _("Not found in your area.")))
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


def _export_name(ext: str) -> str:
    return f"issues-{timezone.localtime():%Y%m%d-%H%M}.{ext}"


@require_GET
def export_csv(request: AuthedRequest) -> HttpResponse:
    f = IssueFilter(request.GET, queryset=Issue.objects.visible_to(request.user), user=request.user)
    if not f.is_valid():
        return HttpResponse(_("Some filters are not valid."), status=400)
    response = StreamingHttpResponse(
        exports.csv_stream(request.user, f.qs), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{_export_name("csv")}"'
    return response


@require_GET
def export_xlsx(request: AuthedRequest) -> HttpResponse:
    f = IssueFilter(request.GET, queryset=Issue.objects.visible_to(request.user), user=request.user)
    if not f.is_valid():
        return HttpResponse(_("Some filters are not valid."), status=400)
    return FileResponse(
        exports.xlsx_file(request.user, f.qs),
        as_attachment=True,
        filename=_export_name("xlsx"),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


# --- Dashboard ----------------------------------------------------------------------------------

LEVELS = ["district", "subdistrict", "community", "grid"]
PATROL_AREA = {
    "district": "grid__community__subdistrict__district_id",
    "subdistrict": "grid__community__subdistrict_id",
    "community": "grid__community_id",
    "grid": "grid_id",
}
AREA_MODELS = {
    "district": District,
    "subdistrict": Subdistrict,
    "community": Community,
    "grid": Grid,
}


def _dashboard_area(request: AuthedRequest) -> tuple[str | None, Any]:
    """The area asked for (404 outside the scope), or the user's own when it is one area."""
    user = request.user
    for level in reversed(LEVELS):
        value = request.GET.get(level, "")
        if value:
            if not is_id(value):
                raise Http404
            return level, get_object_or_404(
                AREA_MODELS[level].objects.visible_to(user), pk=int(value)
            )
    scope = Scope.for_user(user)
    for level in LEVELS:
        ids = getattr(scope, f"{level}_ids")
        if len(ids) == 1 and not any(
            getattr(scope, f"{lv}_ids") for lv in LEVELS[: LEVELS.index(level)]
        ):
            return level, AREA_MODELS[level].objects.get(pk=next(iter(ids)))
    return None, None


def _dashboard_period(request: AuthedRequest) -> tuple[str, dashboard.Period, str | None]:
    name = request.GET.get("period", "30d")
    today = timezone.localdate()
    if name == "custom":
        try:
            start = forms.DateField().clean(request.GET.get("from", ""))
            end = forms.DateField().clean(request.GET.get("to", ""))
        except ValidationError:
            return (
                "30d",
                dashboard.Period.named("30d", today),
                _("Give both dates of the custom period; showing the last 30 days."),
            )
        if start > end or (end - start).days > 3660 or start < EARLIEST or end > LATEST:
            return (
                "30d",
                dashboard.Period.named("30d", today),
                _("The custom period is not valid; showing the last 30 days."),
            )
        return name, dashboard.Period(start, end), None
    if name not in dict(dashboard.PERIODS):
        name = "30d"
    return name, dashboard.Period.named(name, today), None


def dashboard_view(request: AuthedRequest) -> HttpResponse:
    """An area's figures over a period, each linked to the issues behind it."""
    user = request.user
    level, area = _dashboard_area(request)
    period_name, period, period_error = _dashboard_period(request)
    # One condition on the four area columns serves the issues, their visits and mediations.
    area_q = Scope.for_user(user).issue_q()
    patrols = Patrol.objects.visible_to(user)
    area_param = ""
    if area is not None:
        area_q &= Q(**{f"{level}_id": area.pk})
        patrols = patrols.filter(**{PATROL_AREA[level]: area.pk})
        area_param = f"{level}={area.pk}"
    child = _child_level(level, user)
    categories = {c.pk: c for c in Category.objects.all()}
    wage = next((pk for pk, c in categories.items() if c.code == "wage_arrears"), None)
    d = dashboard.build(
        Issue.objects.filter(area_q),
        period=period,
        child=f"{child}_id" if child else None,
        wage_id=wage,
        patrols=patrols,
        area=area_q,
        tallied=_tallied(user, level, area, child),
    )
    children = (
        {
            a.pk: a
            for a in AREA_MODELS[child].objects.visible_to(user).filter(pk__in=list(d.by_child))
        }
        if child
        else {}
    )
    period_params = f"created_after={period.start:%Y-%m-%d}&created_before={period.end:%Y-%m-%d}"
    resolved_params = (
        f"resolved_after={period.start:%Y-%m-%d}&resolved_before={period.end:%Y-%m-%d}"
    )
    context = {
        "level": level,
        "area": area,
        "crumbs": _crumbs(level, area, Scope.for_user(user)),
        "child": child,
        "d": d,
        "t": d.totals,
        "period_name": period_name,
        "period": period,
        "periods": dashboard.PERIODS,
        "period_error": period_error,
        "area_param": area_param,
        "period_params": period_params,
        "resolved_params": resolved_params,
        "categories": sorted(
            ((categories[k], r) for k, r in d.by_category.items() if k in categories),
            key=lambda cr: cr[0].sort_order,
        ),
        "child_rows": _sorted_children(d.by_child, children, request.GET.get("sort", "")),
        "ages": _age_links(),
        "chart": _chart(d.weeks),
        "sort": request.GET.get("sort", ""),
        "wage_category_id": wage or "",
        "area_columns": [
            ("name", _("Area")),
            ("collected", _("Collected")),
            ("resolved", _("Resolved")),
            ("resolution_rate", _("Resolution rate")),
            ("on_time_rate", _("On-time rate")),
            ("open", _("Open")),
            ("overdue", _("Overdue")),
        ],
    }
    if request.GET.get("format") in ("csv", "xlsx"):
        return _dashboard_download(request, context)
    context["wish_figures"] = wish_figures(user, area_q, period, level=level, area=area)
    return render(request, "issues/dashboard.html", context)


def _tallied(user: Any, level: str | None, area: Any, child: str | None) -> Any:
    """Whole districts (by subdistrict) and whole subdistricts (by community) read the
    tallies; smaller or partly covered areas count their issues."""
    if not tallies.enabled():
        return None
    scope = Scope.for_user(user)
    by_subdistrict = child in ("subdistrict", "district")
    if area is not None:
        if level == "district" and by_subdistrict:
            whole = scope.is_all or area.pk in scope.district_ids
            return tallies.Areas("district", [area.pk]) if whole else None
        if level == "subdistrict" and child == "community":
            whole = (
                scope.is_all
                or area.pk in scope.subdistrict_ids
                or area.district_id in scope.district_ids
            )
            return tallies.Areas("subdistrict", [area.pk]) if whole else None
        return None
    if scope.community_ids or scope.grid_ids:
        return None
    if scope.is_all and by_subdistrict:
        return tallies.Areas("district", None)
    if by_subdistrict and scope.district_ids and not scope.subdistrict_ids:
        return tallies.Areas("district", sorted(scope.district_ids))
    if child == "community" and scope.subdistrict_ids and not scope.district_ids:
        return tallies.Areas("subdistrict", sorted(scope.subdistrict_ids))
    return None


def _child_level(level: str | None, user: Any) -> str | None:
    """The next level down; for a user over several areas, the level of their assignments."""
    if level is not None:
        i = LEVELS.index(level)
        return LEVELS[i + 1] if i + 1 < len(LEVELS) else None
    scope = Scope.for_user(user)
    if scope.is_all:
        return "district"
    for lv in LEVELS:
        if getattr(scope, f"{lv}_ids"):
            return lv
    return None


def _crumbs(level: str | None, area: Any, scope: Scope) -> list[tuple[str, str]]:
    """The way back up, as far as the user's own area: (label, query string) pairs."""
    if area is None:
        return []
    chain = []
    node, lv = area, level
    while node is not None and lv is not None:
        chain.append((node.name, f"{lv}={node.pk}"))
        if not scope.is_all and node.pk in getattr(scope, f"{lv}_ids"):
            break  # the user's own assignment: above it is outside their scope
        parent = {"grid": "community", "community": "subdistrict", "subdistrict": "district"}.get(
            lv
        )
        node = getattr(node, parent) if parent else None
        lv = parent
    return list(reversed(chain))


CHILD_SORTS = {
    "collected",
    "resolved",
    "resolution_rate",
    "on_time_rate",
    "open",
    "overdue",
    "name",
}


def _sorted_children(
    rows: dict[Any, Any], areas: dict[int, Any], sort: str
) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    for pk, area in areas.items():
        r = dict(rows.get(pk, {}))
        for key in ("collected", "closed", "resolved", "on_time", "open", "overdue"):
            r[key] = r.get(key) or 0
        r["resolution_rate"] = dashboard.rate(r["closed"], r["collected"])
        r["on_time_rate"] = dashboard.rate(r["on_time"], r["resolved"])
        out.append((area, r))
    key = sort.lstrip("-")
    if key not in CHILD_SORTS:
        key, sort = "overdue", "-overdue"
    desc = sort.startswith("-")
    if key == "name":
        return sorted(out, key=lambda ar: ar[0].name, reverse=desc)
    # Areas without a rate (nothing to divide) go last either way; the weakest stand out first.
    present = sorted(
        (ar for ar in out if ar[1][key] is not None), key=lambda ar: ar[1][key], reverse=desc
    )
    return present + [ar for ar in out if ar[1][key] is None]


def _age_links() -> list[tuple[str, str, str]]:
    """(bucket, label, created_after/created_before params) for the open-by-age figures."""
    today = timezone.localdate()
    out = []
    labels = {
        "0_3": _("0–3 days"),
        "4_7": _("4–7 days"),
        "8_30": _("8–30 days"),
        "31_": _("over 30 days"),
    }
    for name, low, high in dashboard.AGE_BUCKETS:
        params = f"created_before={today - timedelta(days=low):%Y-%m-%d}"
        if high is not None:
            params += f"&created_after={today - timedelta(days=high):%Y-%m-%d}"
        out.append((name, labels[name], params))
    return out


def _chart(weeks: list[tuple[Any, int, int]]) -> dict[str, Any]:
    """Bar pairs for a server-drawn SVG 600 units wide: collected against resolved, per week."""
    top = max([max(c, r) for _w, c, r in weeks] + [1])
    step = 600 / max(len(weeks), 1)
    bar = round(min(step * 0.38, 24), 1)
    label_every = max(1, round(len(weeks) / 8))
    bars = []
    for i, (week, c, r) in enumerate(weeks):
        x = round(i * step + step * 0.1, 1)
        bars.append(
            {
                "week": week,
                "collected": c,
                "resolved": r,
                "x": x,
                "xr": round(x + bar, 1),
                "w": bar,
                "label": i % label_every == 0,
                "hc": round(140 * c / top, 1),
                "hr": round(140 * r / top, 1),
                "yc": round(150 - 140 * c / top, 1),
                "yr": round(150 - 140 * r / top, 1),
            }
        )
    # Drawn here rather than in the template: a year is 53 pairs of bars, and the template
    # engine took longer over them than the database over the whole dashboard.
    collected, resolved = _("collected"), _("resolved")
    svg = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#0b5cad"><title>{}: {} {}</title></rect>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#1f7a3a"><title>{}: {} {}</title></rect>'
        "{}",
        (
            (
                b["x"],
                b["yc"],
                b["w"],
                b["hc"],
                f"{b['week']:%m-%d}",
                collected,
                b["collected"],
                b["xr"],
                b["yr"],
                b["w"],
                b["hr"],
                f"{b['week']:%m-%d}",
                resolved,
                b["resolved"],
                format_html(
                    '<text x="{}" y="165" font-size="9" fill="#5d6677">{}</text>',
                    b["x"],
                    f"{b['week']:%m-%d}",
                )
                if b["label"]
                else "",
            )
            for b in bars
        ),
    )
    return {"bars": bars, "svg": svg, "width": 600, "top": top}


def _dashboard_download(request: AuthedRequest, context: dict[str, Any]) -> HttpResponse:
    """The breakdown table (next level of areas, then categories) as CSV or Excel."""
    head = [
        _("Area"),
        _("Collected"),
        _("Resolved"),
        _("Resolution rate (%)"),
        _("On-time rate (%)"),
        _("Open"),
        _("Overdue"),
    ]
    rows = [
        [
            a.name,
            r["collected"],
            r["resolved"],
            r["resolution_rate"],
            r["on_time_rate"],
            r["open"],
            r["overdue"],
        ]
        for a, r in context["child_rows"]
    ]
    rows += [
        [
            c.display_name,
            r.get("collected") or 0,
            r.get("resolved") or 0,
            dashboard.rate(r.get("closed") or 0, r.get("collected") or 0),
            dashboard.rate(r.get("on_time") or 0, r.get("resolved") or 0),
            r.get("open") or 0,
            r.get("overdue") or 0,
        ]
        for c, r in context["categories"]
    ]
    name = f"dashboard-{timezone.localdate():%Y%m%d}"
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(head)
        writer.writerows([[exports.neutralise(v) for v in row] for row in rows])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Dashboard"))
    ws.append(head)
    for row in rows:
        ws.append([exports.neutralise(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"{name}.xlsx")
