"""Staff pages of the residents' side: the service cards, replacing a card's code, and the
reply to the resident from the issue page."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grassroots.http import AuthedRequest
from grids.access import Scope
from grids.models import Community, Courtyard, GridWorker
from issues import replies
from issues.forms import ReplyForm
from issues.services import TransitionRefused
from issues.views.issue_page import after_action
from issues.views.lookup import acting_issue
from residents import services
from residents.qr import qr_svg

# A6 cards, four to an A4 sheet.
CARDS_PER_SHEET = 4


def _printable(request: AuthedRequest, community_id: int) -> None:
    """Inside the user's area but not theirs to print: 403, as for a read-only role."""
    if not Scope.for_user(request.user).may_print_cards(community_id):
        raise PermissionDenied(_("Only the community's staff print its service cards."))


def _cards(courtyards: list[Courtyard], community: Community) -> list[dict[str, object]]:
    """What each card shows: a fixed number of queries for any number of courtyards."""
    links = services.current_links(courtyards)
    workers: dict[int, list[GridWorker]] = {}
    for row in (
        GridWorker.grids.through.objects.filter(
            grid_id__in={c.grid_id for c in courtyards},
            gridworker__is_active=True,
            gridworker__user__is_active=True,
        )
        .select_related("gridworker__user")
        .order_by("gridworker__user__first_name", "gridworker_id")
    ):
        workers.setdefault(row.grid_id, []).append(row.gridworker)
    numbers = list(community.service_numbers.all())
    return [
        {
            "courtyard": c,
            "link": links[c.pk],
            "qr": qr_svg(links[c.pk].public_url),
            "workers": workers.get(c.grid_id, []),
            "numbers": numbers,
        }
        for c in courtyards
    ]


def card(request: AuthedRequest, pk: int) -> HttpResponse:
    """One courtyard's service card, to print."""
    courtyard = get_object_or_404(
        Courtyard.objects.visible_to(request.user).select_related("grid__community"), pk=pk
    )
    community = courtyard.grid.community
    _printable(request, community.pk)
    cards = _cards([courtyard], community)
    return render(
        request,
        "residents/cards.html",
        {"community": community, "sheets": [cards], "single": courtyard},
    )


def community_cards(request: AuthedRequest, pk: int) -> HttpResponse:
    """All the community's courtyards' cards, four A6 cards to each A4 sheet."""
    community = get_object_or_404(Community.objects.visible_to(request.user), pk=pk)
    _printable(request, community.pk)
    courtyards = list(
        Courtyard.objects.filter(grid__community=community)
        .select_related("grid__community")
        .order_by("grid__name", "name")
    )
    cards = _cards(courtyards, community)
    return render(
        request,
        "residents/cards.html",
        {
            "community": community,
            "sheets": [
                cards[i : i + CARDS_PER_SHEET] for i in range(0, len(cards), CARDS_PER_SHEET)
            ],
        },
    )


@require_http_methods(["GET", "POST"])
def replace_link(request: AuthedRequest, pk: int) -> HttpResponse:
    """Confirm, then give the courtyard's card a new code; the old one stops working."""
    courtyard = get_object_or_404(
        Courtyard.objects.visible_to(request.user).select_related("grid__community"), pk=pk
    )
    _printable(request, courtyard.grid.community_id)
    if request.method == "POST":
        services.replace_link(courtyard, by=request.user)
        messages.success(
            request,
            _(
                "The card of %(courtyard)s has a new code: print it and put it up "
                "in the old one's place."
            )
            % {"courtyard": courtyard.name},
        )
        return redirect("residents:card", pk=courtyard.pk)
    return render(request, "residents/replace_link.html", {"courtyard": courtyard})


@require_POST
def reply(request: AuthedRequest, reference: str) -> HttpResponse:
    """A reply to the resident (答复) from the issue page: public, unlike every other entry."""
    issue = acting_issue(request, reference)
    form = ReplyForm(request.POST)
    if form.is_valid():
        try:
            replies.reply_to_resident(issue, by=request.user, text=form.cleaned_data["text"])
        except TransitionRefused as e:
            form.add_error(None, str(e))
    return after_action(request, issue, {"reply": form}, _("Reply sent to the resident."))
