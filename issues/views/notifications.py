"""The in-app inbox."""

from __future__ import annotations

from django.contrib import messages
from django.http import (
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.http import AuthedRequest
from issues import services
from issues.models import (
    Notification,
)
from issues.views.lookup import is_id, safe_back


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
    back = safe_back(request.POST.get("next", ""), reverse("issues:notifications"))
    posted = request.POST.getlist("id")
    if not all(is_id(i) and len(i) <= 18 for i in posted):
        # Not "mark all": a damaged id marks nothing.
        messages.error(request, _("That notification was not found."))
        return redirect(back)
    services.mark_notifications_read(request.user, [int(i) for i in posted] or None)
    return redirect(back)
