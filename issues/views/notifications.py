"""The in-app inbox."""

from __future__ import annotations

from django.http import (
    HttpResponse,
)
from django.shortcuts import redirect, render
from django.urls import reverse
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
            "issue__courtyard", "follow_up"
        )[:100]
    )
    return render(request, "issues/notification_list.html", {"notifications": rows})


@require_POST
def notifications_read(request: AuthedRequest) -> HttpResponse:
    # At most 18 digits: a longer number overflows the database's integer.
    ids = [int(i) for i in request.POST.getlist("id") if is_id(i) and len(i) <= 18]
    services.mark_notifications_read(request.user, ids or None)
    return redirect(safe_back(request.POST.get("next", ""), reverse("issues:notifications")))
