"""Follow-up visits: the assignee's list, due first, and recording a visit."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.http import AuthedRequest
from issues import services
from issues.forms import (
    FollowUpForm,
)
from issues.models import (
    FollowUp,
)
from issues.services import TransitionRefused
from issues.views.lookup import safe_back


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
    back = safe_back(request.POST.get("next", ""), reverse("issues:followups"))
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
                f" {' '.join(map(str, errors))}".strip(),
            )
    return redirect(back)
