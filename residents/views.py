"""The residents' public pages: the report page behind a card's QR code, and tracking.

No login; they speak Chinese or Tibetan; a fixed number of queries whatever the data.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.http import require_GET, require_http_methods

from issues import services
from issues.models import Issue, IssueEvent
from residents import states, throttle
from residents.forms import ReportForm, TrackForm
from residents.models import CourtyardLink

SENT_SALT = "residents.sent"


def public(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """No login, and Chinese or Tibetan: a staff member's English falls back to Chinese."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if translation.get_language() not in settings.RESIDENT_LANGUAGES:
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = settings.LANGUAGE_CODE
        return view(request, *args, **kwargs)

    return login_not_required(wrapper)


def refused(request: HttpRequest, reason: str, status: int) -> HttpResponse:
    return render(request, "residents/refused.html", {"reason": reason}, status=status)


@public
@require_http_methods(["GET", "POST"])
def report(request: HttpRequest, token: str) -> HttpResponse:
    """The page behind a courtyard's QR code: a concern without an account."""
    link = (
        CourtyardLink.objects.select_related("courtyard__grid__community")
        .filter(token=token)
        .first()
    )
    if link is None:
        raise Http404
    if not link.is_current:
        return render(request, "residents/link_replaced.html", status=410)
    courtyard = link.courtyard
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if form.is_from_a_program:
            return refused(request, "program", 400)
        if form.is_valid():
            data = form.cleaned_data
            done = Issue.objects.filter(submission_token=data["token"]).first()
            if done is None:
                if not throttle.allow_report(request, courtyard.pk):
                    return refused(request, "limit", 429)
                words = " ".join(data["description"].split())
                done, _created = services.create_issue(
                    by=None,
                    courtyard=courtyard,
                    category=data["category"],
                    title=words[:40] + ("…" if len(words) > 40 else ""),
                    description=data["description"],
                    source=Issue.Source.QR,
                    resident_name=data["name"],
                    resident_phone=data["phone"],
                    photos=data["photos"],
                    submission_token=data["token"],
                    resident_language=translation.get_language(),
                )
            signed = signing.dumps(done.reference, salt=SENT_SALT)
            return redirect("residents:sent", signed=signed)
    context = {
        "courtyard": courtyard,
        "community": courtyard.grid.community,
        "numbers": list(courtyard.grid.community.service_numbers.all()),
        "form": form,
    }
    return render(request, "residents/report.html", context, status=400 if form.errors else 200)


@public
@require_GET
def sent(request: HttpRequest, signed: str) -> HttpResponse:
    """The reference in large type. Signed, so that this page is no way to try references."""
    try:
        reference = signing.loads(signed, salt=SENT_SALT, max_age=7 * 24 * 3600)
    except signing.BadSignature:
        raise Http404 from None
    return render(request, "residents/sent.html", {"reference": reference})


@public
@require_GET
def track_lookup(request: HttpRequest) -> HttpResponse:
    form = TrackForm(request.GET or None)
    if form.is_valid():
        return redirect("residents:track", reference=form.cleaned_data["reference"])
    return render(request, "residents/track_lookup.html", {"form": form})


@public
@require_GET
def track(request: HttpRequest, reference: str) -> HttpResponse:
    """The matter's state in plain words, its dates and the community's public replies; no
    name, phone, internal note, assignee or photo (issues/privacy.py)."""
    if not throttle.allow_lookup(request):
        return refused(request, "lookups", 429)
    issue = (
        Issue.objects.select_related(
            "category", "courtyard", "duplicate_of__category", "duplicate_of__courtyard"
        )
        .filter(reference=reference.upper())
        .first()
    )
    if issue is None:
        form = TrackForm(initial={"reference": reference})
        return render(
            request, "residents/track_lookup.html", {"form": form, "missing": True}, status=404
        )
    # A duplicate follows the issue it joined: its state, its dates, its replies and its own.
    shown = states.followed(issue)
    replies = list(
        IssueEvent.objects.filter(
            issue_id__in={issue.pk, shown.pk}, action__in=IssueEvent.PUBLIC_ACTIONS
        ).only("note", "created_at")
    )
    # 多少位居民反映: the original and the reports merged into it (a plain count of duplicates).
    reporters = 1 + Issue.objects.filter(duplicate_of=shown).count()
    steps = [
        (states.PLAIN_STATES[status], getattr(shown, column)) for status, column in states.STEPS
    ]
    context = {
        "issue": issue,
        "shown": shown,
        "state": states.plain_state(shown),
        "steps": steps,
        "replies": replies,
        "reporters": reporters,
    }
    return render(request, "residents/track.html", context)
