"""HTTP in and out for micro-wishes; every lookup goes through `visible_to`."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.http import AuthedRequest
from grassroots.paginator import CappedPaginator
from issues.privacy import wish_beneficiary_view
from wishes import services, workflow
from wishes.dashboard import OFFER_AREA
from wishes.forms import ActionForm, DispatchForm, WishFilter, WishForm
from wishes.models import Dispatch, Offer, Wish, WishPhoto
from wishes.services import WishRefused

MORE_FILTERS = [
    "status",
    "source",
    "stage",
    "created_after",
    "created_before",
    "done_after",
    "done_before",
]


def _visible_wish(request: AuthedRequest, reference: str) -> Wish:
    return get_object_or_404(
        Wish.objects.visible_to(request.user).select_related("kind", "courtyard", "grid"),
        reference=reference,
    )


def _acting_wish(request: AuthedRequest, reference: str) -> Wish:
    """The wish for a change: 404 outside the scope, 403 for read-only roles inside it."""
    wish = _visible_wish(request, reference)
    if not services.can_act(request.user, wish):
        raise PermissionDenied(_("Your role can read this wish but not change it."))
    return wish


def wish_list(request: AuthedRequest) -> HttpResponse:
    """The needs list (需求清单) of the user's area, filtered by GET parameters."""
    f = WishFilter(request.GET or None, queryset=Wish.objects.visible_to(request.user).for_list())
    page = CappedPaginator(f.qs, 50).get_page(request.GET.get("page"))
    template = "wishes/wish_list.html#results" if request.htmx else "wishes/wish_list.html"
    context = {
        "filter": f,
        "page": page,
        "may_log": services.may_log(request.user),
        "more_filters": MORE_FILTERS,
    }
    return render(request, template, context)


def wish_new(request: AuthedRequest) -> HttpResponse:
    """Log a wish; a resent form (same token) lands on the wish it already created."""
    if not services.may_log(request.user):
        raise PermissionDenied(_("Your role can read wishes but not log them."))
    form = WishForm(
        request.POST or None,
        user=request.user,
        initial={"token": services.new_submission_token()},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        token = data.pop("token")
        try:
            wish = services.create_wish(by=request.user, submission_token=token, **data)
        except WishRefused as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, _("Wish %(ref)s logged.") % {"ref": wish.reference})
            return redirect(wish)
    return render(
        request, "wishes/wish_new.html", {"form": form}, status=400 if form.errors else 200
    )


def detail_context(request: AuthedRequest, wish: Wish, forms: dict[str, ActionForm]) -> dict:
    dispatches = list(wish.dispatches.select_related("provider", "offer").order_by("pk"))
    user = request.user
    actors = services.actors_for(user, wish, dispatches)
    actions = workflow.allowed_actions(actors, wish.status)
    # Per-dispatch buttons (take, hand back, complete) go on the rows this user acts for.
    mine = [
        d
        for d in dispatches
        if d.state in Dispatch.OPEN_STATES and services.acts_for(user, wish, d)
    ]
    row_actions = {
        d.pk: [
            a
            for a in ("take", "hand_back", "complete")
            if a in actions
            and (a != "take" or d.state == Dispatch.State.DISPATCHED)
            and (a != "complete" or d.state == Dispatch.State.TAKEN)
        ]
        for d in mine
    }
    action_forms = {
        a: forms.get(a) or ActionForm(action=a, initial={"seen_status": wish.status})
        for a in actions
        if a not in ("take", "hand_back", "complete", "dispatch")
    }
    row_forms = [
        (
            d,
            [
                (
                    a,
                    forms.get(a)
                    or ActionForm(
                        action=a, initial={"seen_status": wish.status, "dispatch_id": d.pk}
                    ),
                )
                for a in row_actions[d.pk]
            ],
        )
        for d in mine
    ]
    # A provider sees only its own dispatches; the community and its officials see them all.
    if services.sees_all_dispatches(user, wish):
        shown = dispatches
    else:
        shown = [
            d
            for d in dispatches
            if d.state in Dispatch.PROVIDER_STATES and services.acts_for(user, wish, d)
        ]
    # What the user typed into an action that is no longer offered: shown, so nothing is lost.
    kept = [
        (form.fields[name].label, form.data[f"{action}-{name}"])
        for action, form in forms.items()
        if action not in actions
        for name in ("reason", "note")
        if name in form.fields and form.data.get(f"{action}-{name}")
    ]
    return {
        "wish": wish,
        "kept": kept,
        "beneficiary": wish_beneficiary_view(user, wish, dispatches),
        "dispatches": shown,
        "may_dispatch": "dispatch" in actions,
        "action_forms": action_forms,
        "row_forms": row_forms,
        "events": wish.events.select_related("actor").order_by("created_at", "pk"),
        "photos": list(wish.photos.all()),
    }


def wish_detail(request: AuthedRequest, reference: str) -> HttpResponse:
    wish = _visible_wish(request, reference)
    return render(request, "wishes/wish_detail.html", detail_context(request, wish, {}))


@require_POST
def wish_action(request: AuthedRequest, reference: str, action: str) -> HttpResponse:
    """One button of the wish page; refused actions redisplay the page with the reason."""
    wish = _acting_wish(request, reference)
    if action not in services.SERVICES:
        raise Http404
    form = ActionForm(request.POST, request.FILES, action=action)
    if form.is_valid():
        try:
            services.perform(
                wish,
                action,
                by=request.user,
                seen_status=form.cleaned_data["seen_status"],
                **form.service_data(),
            )
        except WishRefused as e:
            form.add_error(None, str(e))
        else:
            messages.success(request, str(workflow.DONE[action]))
            if not Wish.objects.visible_to(request.user).filter(pk=wish.pk).exists():
                # A provider who handed the wish back no longer sees it.
                return redirect("wishes:mine")
            return redirect(wish)
    wish.refresh_from_db()
    context = detail_context(request, wish, {action: form})
    return render(request, "wishes/wish_detail.html", context, status=409)


def wish_dispatch(request: AuthedRequest, reference: str) -> HttpResponse:
    """A verified wish beside the offers that fit it; dispatched in one step (社区派单)."""
    if request.method == "POST":
        wish = _acting_wish(request, reference)
    else:
        wish = _visible_wish(request, reference)
    offers = list(Offer.objects.fitting(wish))
    form = DispatchForm(request.POST or None, offers=offers, initial={"seen_status": wish.status})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.dispatch_wish(
                    wish,
                    form.cleaned_data["offers"],
                    by=request.user,
                    seen_status=form.cleaned_data["seen_status"],
                )
            except WishRefused as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, str(workflow.DONE["dispatch"]))
                return redirect(wish)
        status = 409
    dispatches = list(wish.dispatches.all())
    may = "dispatch" in workflow.allowed_actions(
        services.actors_for(request.user, wish, dispatches), wish.status
    )
    return render(
        request,
        "wishes/wish_dispatch.html",
        {
            "wish": wish,
            "offers": offers,
            "form": form,
            "may_dispatch": may,
            "beneficiary": wish_beneficiary_view(request.user, wish, dispatches),
        },
        status=status,
    )


def offer_list(request: AuthedRequest) -> HttpResponse:
    """The services list (服务清单) of the user's area."""
    offers = Offer.objects.visible_to(request.user)
    # The dashboard's link: the active offers, of an area's communities when it names one.
    if request.GET.get("active"):
        offers = offers.filter(is_active=True)
    for level, lookup in OFFER_AREA.items():
        if request.GET.get(level, "").isdigit():
            offers = offers.filter(**{lookup: int(request.GET[level])}).distinct()
    offers = offers.for_list().order_by("kind__sort_order", "provider__name", "pk")
    page = CappedPaginator(offers, 50).get_page(request.GET.get("page"))
    return render(request, "wishes/offer_list.html", {"page": page})


def my_dispatches(request: AuthedRequest) -> HttpResponse:
    """派给我的: what was dispatched to the user's provider(s), to take and to fulfil."""
    rows = list(
        Dispatch.objects.filter(
            wish__in=Wish.objects.visible_to(request.user),
            provider_id__in=services.my_provider_ids(request.user),
            state__in=Dispatch.PROVIDER_STATES,
        )
        .select_related("wish__kind", "wish__courtyard", "offer")
        .order_by("-dispatched_at", "-pk")[:200]
    )
    groups: list[tuple[str, Any, list[Dispatch]]] = [
        (state, label, [d for d in rows if d.state == state])
        for state, label in (
            (Dispatch.State.DISPATCHED, _("Waiting for you to take")),
            (Dispatch.State.TAKEN, _("Taken, to fulfil")),
            (Dispatch.State.DONE, _("Fulfilled")),
        )
    ]
    return render(request, "wishes/my_dispatches.html", {"groups": groups, "count": len(rows)})


def photo(request: AuthedRequest, reference: str, pk: int, size: str) -> FileResponse:
    """Photos are personal data: served only through the wish's scope."""
    wish = _visible_wish(request, reference)
    item = get_object_or_404(WishPhoto, pk=pk, wish=wish)
    field = item.thumbnail if size == "thumb" and item.thumbnail else item.image
    response = FileResponse(field.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response
