"""The issue page: its timeline, the actions the user may take, and the forms that act."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grassroots.http import AuthedRequest
from issues import replies, services
from issues.forms import (
    AssignForm,
    CommentForm,
    FollowUpForm,
    MediationForm,
    ReplyForm,
    TransitionForm,
)
from issues.models import (
    Attachment,
    Issue,
    Reporter,
)
from issues.privacy import reporter_views, resident_view
from issues.services import TransitionRefused
from issues.views.lookup import acting_issue, visible_issue
from issues.workflow import DONE, Actor


def detail_context(
    request: AuthedRequest, issue: Issue, forms: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the issue page shows, in a fixed number of queries."""
    user = request.user
    actors = services.actors_for(user, issue)
    forms = forms or {}
    actions = services.available_actions(user, issue)
    events = list(issue.events.select_related("actor"))
    seen = {"seen_status": issue.status, "seen_version": services.state_version(events)}
    action_forms = [
        (action, forms.get(action) or TransitionForm(action=action, issue=issue, initial=seen))
        for action in actions
    ]
    contributor = services.can_contribute(user, issue)
    reporters = list(issue.reporters.all())
    # The count with_reporter_count() annotates on list rows: the further residents read here,
    # and the reports merged into this one as duplicates.
    issue.further_reporters = len(reporters) + issue.duplicates.count()  # type: ignore[attr-defined]
    follow_ups = list(issue.follow_ups.select_related("assignee", "done_by"))
    return {
        "issue": issue,
        "events": events,
        "attachments": list(issue.attachments.all()),
        "mediations": list(issue.mediations.select_related("mediator")),
        "follow_ups": follow_ups,
        **residents_context(user, issue, reporters=reporters),
        "action_forms": action_forms,
        # Urgent work is offered first on the page, above the photos and the timeline.
        "handle_now_form": dict(action_forms).get("handle_now"),
        # Reassigning is for listed and started issues; a collected one is listed with an assignee.
        "assign_form": forms.get("assign")
        or (
            AssignForm(issue=issue)
            if Actor.STAFF in actors
            and issue.status in (Issue.Status.LISTED, Issue.Status.IN_PROGRESS)
            else None
        ),
        "comment_form": forms.get("comment") or (CommentForm() if contributor else None),
        "reply_form": forms.get("reply")
        or (ReplyForm() if replies.may_reply(user, issue) else None),
        "mediation_form": forms.get("mediation")
        or (MediationForm() if services.may_record_mediation(user, issue) else None),
        "visit_forms": {
            v.pk: FollowUpForm(prefix=f"visit-{v.pk}")
            for v in follow_ups
            if v.done_at is None and (v.assignee_id == user.pk or Actor.STAFF in actors)
        },
        "now": timezone.now(),
    }


def issue_detail(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = visible_issue(request, reference)
    return render(request, "issues/issue_detail.html", detail_context(request, issue))


def after_action(
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
                detail_context(request, visible_issue(request, issue.reference)),
            )
        return redirect(issue)
    issue = visible_issue(request, issue.reference)
    context = detail_context(request, issue, forms)
    shown = {id(f) for _a, f in context["action_forms"]} | {
        id(context[k])
        for k in ("assign_form", "comment_form", "mediation_form", "reply_form")
        if context[k]
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
    issue = acting_issue(request, reference)
    if action not in ("list", "handle_now", "start", "resolve", "reopen", "close"):
        raise Http404
    form = TransitionForm(request.POST, action=action, issue=issue)
    if form.is_valid():
        try:
            services.perform(issue, action, by=request.user, **form.service_kwargs())
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return after_action(
        request,
        issue,
        {action: form},
        str(DONE[action]),
    )


@require_POST
def issue_assign(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = acting_issue(request, reference)
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
    return after_action(request, issue, {"assign": form}, _("Assigned."))


@require_POST
def issue_comment(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = acting_issue(request, reference)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.comment_on_issue(issue, by=request.user, note=form.cleaned_data["note"])
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return after_action(request, issue, {"comment": form}, _("Comment added."))


@require_POST
def issue_mediation(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = acting_issue(request, reference)
    form = MediationForm(request.POST)
    if form.is_valid():
        try:
            services.record_mediation(issue, by=request.user, **form.cleaned_data)
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return after_action(request, issue, {"mediation": form}, _("Mediation recorded."))


@require_POST
def reveal_phone(request: AuthedRequest, reference: str) -> HttpResponse:
    """An official asks to see the resident's phone: shown once, and the view is logged."""
    issue = visible_issue(request, reference)
    services.log_phone_reveal(issue, by=request.user)
    return render(
        request,
        "issues/issue_detail.html#phone",
        {"issue": issue, **residents_context(request.user, issue, revealed=True)},
    )


def residents_context(
    user: Any, issue: Issue, *, revealed: bool = False, reporters: list[Reporter] | None = None
) -> dict[str, Any]:
    """The issue's residents as the user may see them; whether a reveal would show more."""
    reporters = list(issue.reporters.all()) if reporters is None else reporters
    first = resident_view(user, issue, revealed=revealed)
    further = reporter_views(user, issue, reporters, revealed=revealed)
    return {
        "resident": first,
        "reporters": further,
        "contacts_masked": first.is_masked or any(r.is_masked for r in further),
    }


@require_GET
def photo(request: AuthedRequest, reference: str, pk: int, size: str) -> FileResponse:
    """Photos are personal data: served only through the issue's scope, never as static files."""
    issue = visible_issue(request, reference)
    attachment = get_object_or_404(Attachment, pk=pk, issue=issue)
    field = attachment.thumbnail if size == "thumb" and attachment.thumbnail else attachment.image
    # Personal data: not kept by the browser after the session (a shared phone's next user).
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
