"""Logging a concern on a phone: the form, the saved screen, the duplicate hint, and
a further resident's report added to an issue already logged."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from grassroots.http import AuthedRequest
from grids.access import Scope
from issues import services
from issues.forms import (
    MAX_PHOTOS,
    CaptureForm,
    TransitionForm,
    queryset_of,
)
from issues.models import (
    Issue,
)
from issues.services import TransitionRefused
from issues.views.lookup import acting_issue, is_id


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
    return capture_page(request, form)


def capture_page(request: AuthedRequest, form: CaptureForm) -> HttpResponse:
    """The capture form, redisplayed with what was typed when it has errors."""
    return render(
        request,
        "issues/issue_new.html",
        {
            "form": form,
            "patrol": queryset_of(form.fields["patrol"]).first(),
            "category_urgency": {
                str(c.pk): c.default_urgency for c in queryset_of(form.fields["category"])
            },
            "max_photos": MAX_PHOTOS,
            "max_photo_mb": settings.MAX_PHOTO_BYTES // (1024 * 1024),
        },
        status=400 if form.errors else 200,
    )


def issue_created(request: AuthedRequest, reference: str) -> HttpResponse:
    issue = get_object_or_404(
        Issue.objects.visible_to(request.user).select_related("courtyard", "category"),
        reference=reference,
    )
    handle_now = None
    if "handle_now" in services.available_actions(request.user, issue):
        handle_now = TransitionForm(
            action="handle_now", issue=issue, initial={"seen_status": issue.status}
        )
    return render(
        request, "issues/issue_created.html", {"issue": issue, "handle_now_form": handle_now}
    )


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


@require_POST
def issue_add_report(request: AuthedRequest, reference: str) -> HttpResponse:
    """The whole capture form, posted to an open issue it duplicates: the resident's name,
    phone, photos and words join that issue; on a refusal the form comes back as typed."""
    issue = acting_issue(request, reference)
    form = CaptureForm(request.POST, request.FILES, user=request.user, adding=True)
    if form.is_valid():
        data = form.cleaned_data
        try:
            _event, _created = services.add_reporter_to_issue(
                issue,
                by=request.user,
                name=data["resident_name"],
                phone=data["resident_phone"],
                words=form.residents_words(),
                photos=data["photos"],
                source=data["source"] or Issue.Source.VISIT,
                submission_token=data["token"],
            )
        except TransitionRefused as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _added_message(issue, len(data["photos"])))
            return redirect("issues:created", reference=issue.reference)
    return capture_page(request, form)


def _added_message(issue: Issue, photos: int) -> str:
    if photos:
        return ngettext(
            "The resident's report was added to %(ref)s, with %(n)d photo.",
            "The resident's report was added to %(ref)s, with %(n)d photos.",
            photos,
        ) % {"ref": issue.reference, "n": photos}
    return _("The resident's report was added to %(ref)s.") % {"ref": issue.reference}
