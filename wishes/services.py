"""Every change to a micro-wish: one function per change, compare-and-set, one event each."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import Scope
from grids.models import Courtyard
from issues.photos import CleanPhoto
from wishes import workflow
from wishes.models import Dispatch, Offer, ServiceKind, Wish, WishEvent, WishPhoto
from wishes.workflow import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class WishRefused(Exception):
    """An action the user may not take, or one someone else's change has made stale."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def actors_for(user: User, wish: Wish, dispatches: Iterable[Dispatch]) -> set[Actor]:
    """The roles in which `user` stands to `wish`, given the wish's dispatches; no query."""
    scope = Scope.for_user(user)
    actors: set[Actor] = set()
    if scope.is_staff_of(wish.community_id):
        actors.add(Actor.STAFF)
    if wish.created_by_id == user.pk and scope.walks(wish.grid_id):
        actors.add(Actor.LOGGER)
    if any(
        d.state in Dispatch.OPEN_STATES and scope.is_provider(d.provider_id) for d in dispatches
    ):
        actors.add(Actor.PROVIDER)
    return actors


def can_act(user: User, wish: Wish) -> bool:
    """Whether the user has a part in the wish (officials and bystanders only read)."""
    scope = Scope.for_user(user)
    return bool(
        scope.is_all
        or scope.is_staff_of(wish.community_id)
        or scope.walks(wish.grid_id)
        or wish.dispatches.filter(provider_id__in=sorted(scope.provider_ids)).exists()
    )


def acts_for(user: User, wish: Wish, dispatch: Dispatch) -> bool:
    """Whether `user` may take, hand back or complete `dispatch`: its provider's login, or the
    community's staff when the provider has no login of its own."""
    scope = Scope.for_user(user)
    if scope.is_provider(dispatch.provider_id):
        return True
    return dispatch.provider.user_id is None and scope.is_staff_of(wish.community_id)


def _stale_message(wish: Wish) -> str:
    last = wish.events.select_related("actor").order_by("-created_at", "-pk").first()
    if last is None or last.actor is None:
        return _("Someone else has just changed this wish. Nothing was changed by you; reload.")
    return _(
        "%(who)s has just changed this wish (%(action)s, %(when)s); it is now “%(status)s”. "
        "Nothing was changed by you; reload to see it."
    ) % {
        "who": last.actor.get_full_name() or last.actor.username,
        "action": last.get_action_display(),
        "when": timezone.localtime(last.created_at).strftime("%H:%M"),
        "status": Wish.Status(wish.status).label,
    }


def _stale(wish: Wish) -> WishRefused:
    wish.refresh_from_db()
    return WishRefused(_stale_message(wish))


def check_allowed(wish: Wish, action: str, *, by: User, seen_status: str) -> None:
    """Refuse an action the table does not give this user from the state they saw."""
    dispatches = list(wish.dispatches.all())
    if not workflow.is_allowed(action, actors_for(by, wish, dispatches), seen_status):
        if seen_status not in workflow.TRANSITIONS[action].sources:
            raise WishRefused(
                _("This wish is “%(status)s”: that is not possible now.")
                % {"status": Wish.Status(seen_status).label}
            )
        raise WishRefused(_("You are not allowed to do that to this wish."))


def _move(wish: Wish, *, seen_status: str, target: str, now: datetime, **changes: object) -> None:
    """Compare-and-set the wish's status; refuse (and so roll back) if someone moved it first."""
    stamp = {workflow.ENTERED_AT[target]: now} if target != seen_status else {}
    if not Wish.objects.filter(pk=wish.pk, status=seen_status).update(
        status=target, **stamp, **changes
    ):
        raise _stale(wish)
    wish.refresh_from_db()


def _event(
    wish: Wish,
    action: str,
    *,
    by: User | None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    dispatch: Dispatch | None = None,
    at: datetime | None = None,
) -> WishEvent:
    return WishEvent.objects.create(
        wish=wish,
        actor=by,
        action=action,
        from_status=from_status,
        to_status=to_status,
        note=note,
        dispatch=dispatch,
        created_at=at or timezone.now(),
    )


@transaction.atomic
def create_wish(
    *,
    by: User,
    courtyard: Courtyard,
    kind: ServiceKind,
    title: str,
    beneficiary_name: str,
    beneficiary_phone: str = "",
    description: str = "",
    source: str = Wish.Source.VISIT,
    due_on: date | None = None,
    submission_token: uuid.UUID | None = None,
) -> Wish:
    """Log a wish in a courtyard the user may reach; a resent form returns the first wish."""
    scope = Scope.for_user(by)
    if not (
        scope.is_all
        or scope.walks(courtyard.grid_id)
        or scope.is_staff_of(courtyard.grid.community_id)
    ):
        raise WishRefused(_("That courtyard is outside your area."))
    if submission_token is not None:
        existing = Wish.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            return existing
    wish = Wish(
        title=title,
        description=description,
        kind=kind,
        source=source,
        beneficiary_name=beneficiary_name,
        beneficiary_phone=beneficiary_phone,
        courtyard=courtyard,
        created_by=by,
        due_on=due_on,
        submission_token=submission_token,
    )
    wish.set_area_from_courtyard()
    wish.save()
    _event(wish, WishEvent.Action.CREATE, by=by, to_status=wish.status, at=wish.created_at)
    return wish


@transaction.atomic
def verify_wish(
    wish: Wish, *, by: User, seen_status: str, due_on: date | None = None, note: str = ""
) -> WishEvent:
    """Put a collected wish on the needs list, with the date it should be done by."""
    check_allowed(wish, "verify", by=by, seen_status=seen_status)
    now = timezone.now()
    changes = {"due_on": due_on} if due_on else {}
    _move(wish, seen_status=seen_status, target=Wish.Status.VERIFIED, now=now, **changes)
    return _event(
        wish, "verify", by=by, from_status=seen_status, to_status=wish.status, note=note, at=now
    )


@transaction.atomic
def decline_wish(wish: Wish, *, by: User, seen_status: str, reason: str) -> WishEvent:
    """Decline a collected wish; the reason is required and kept on the wish."""
    check_allowed(wish, "decline", by=by, seen_status=seen_status)
    if not reason.strip():
        raise WishRefused(_("Say why the wish is declined."))
    now = timezone.now()
    _move(
        wish, seen_status=seen_status, target=Wish.Status.DECLINED, now=now, decline_reason=reason
    )
    return _event(
        wish, "decline", by=by, from_status=seen_status, to_status=wish.status, note=reason, at=now
    )


@transaction.atomic
def dispatch_wish(
    wish: Wish, offers: Iterable[Offer], *, by: User, seen_status: str
) -> list[Dispatch]:
    """Send the wish to one or more offers, each within its capacity, or to none at all."""
    check_allowed(wish, "dispatch", by=by, seen_status=seen_status)
    ids = sorted({o.pk for o in offers})
    if not ids:
        raise WishRefused(_("Choose at least one offer."))
    # Lock the offers in id order: two dispatches at once to the same offer wait for each
    # other here, so the count below cannot be outdated by the time the rows are written.
    locked = list(
        Offer.objects.select_for_update()
        .filter(pk__in=ids, is_active=True, kind_id=wish.kind_id)
        .order_by("pk")
    )
    if len(locked) != len(ids):
        raise WishRefused(_("One of those offers no longer fits this wish. Reload to see them."))
    counts = dict(
        Dispatch.objects.filter(offer_id__in=ids)
        .open()
        .values("offer_id")
        .annotate(n=Count("pk"))
        .values_list("offer_id", "n")
    )
    full = [o for o in locked if counts.get(o.pk, 0) >= o.capacity]
    if full:
        raise WishRefused(
            _("“%(offer)s” already has as many wishes as it can take (%(capacity)d).")
            % {"offer": full[0].title, "capacity": full[0].capacity}
        )
    now = timezone.now()
    _move(wish, seen_status=seen_status, target=Wish.Status.DISPATCHED, now=now)
    dispatches = []
    for offer in locked:
        try:
            with transaction.atomic():
                dispatch = Dispatch.objects.create(
                    wish=wish,
                    offer=offer,
                    provider_id=offer.provider_id,
                    dispatched_by=by,
                    dispatched_at=now,
                )
        except IntegrityError:
            raise WishRefused(
                _("The wish is already dispatched to “%(offer)s”.") % {"offer": offer.title}
            ) from None
        _event(
            wish,
            "dispatch",
            by=by,
            from_status=seen_status,
            to_status=wish.status,
            note=str(offer),
            dispatch=dispatch,
            at=now,
        )
        dispatches.append(dispatch)
    return dispatches


def _dispatch_for(wish: Wish, dispatch_id: int | None, by: User) -> Dispatch:
    """The wish's dispatch the user acts on, or a refusal: never someone else's."""
    dispatch = (
        wish.dispatches.select_related("provider", "offer").filter(pk=dispatch_id).first()
        if dispatch_id
        else None
    )
    if dispatch is None or not acts_for(by, wish, dispatch):
        raise WishRefused(_("This wish was dispatched to someone else."))
    return dispatch


def _set_dispatch(
    wish: Wish, dispatch: Dispatch, *, sources: Iterable[str], state: str, **changes: object
) -> None:
    """Compare-and-set one dispatch's state; refuse if it moved since the page was drawn."""
    if not Dispatch.objects.filter(pk=dispatch.pk, state__in=list(sources)).update(
        state=state, **changes
    ):
        raise _stale(wish)
    dispatch.refresh_from_db()


@transaction.atomic
def take_wish(wish: Wish, *, by: User, seen_status: str, dispatch_id: int | None) -> WishEvent:
    """The provider the wish was dispatched to takes it (单位和党员干部接单)."""
    check_allowed(wish, "take", by=by, seen_status=seen_status)
    dispatch = _dispatch_for(wish, dispatch_id, by)
    now = timezone.now()
    _set_dispatch(
        wish,
        dispatch,
        sources=[Dispatch.State.DISPATCHED],
        state=Dispatch.State.TAKEN,
        taken_at=now,
    )
    _move(wish, seen_status=seen_status, target=Wish.Status.TAKEN, now=now)
    return _event(
        wish,
        "take",
        by=by,
        from_status=seen_status,
        to_status=wish.status,
        note=str(dispatch.provider),
        dispatch=dispatch,
        at=now,
    )


@transaction.atomic
def hand_back_wish(
    wish: Wish, *, by: User, seen_status: str, dispatch_id: int | None, reason: str
) -> WishEvent:
    """A provider gives a wish back; it returns to "verified" unless another still holds it."""
    check_allowed(wish, "hand_back", by=by, seen_status=seen_status)
    if not reason.strip():
        raise WishRefused(_("Say why the wish is handed back."))
    dispatch = _dispatch_for(wish, dispatch_id, by)
    now = timezone.now()
    _set_dispatch(
        wish,
        dispatch,
        sources=Dispatch.OPEN_STATES,
        state=Dispatch.State.HANDED_BACK,
        handed_back_at=now,
    )
    others = set(wish.dispatches.open().values_list("state", flat=True))
    if Dispatch.State.TAKEN in others:
        target = Wish.Status.TAKEN
    elif others:
        target = Wish.Status.DISPATCHED
    else:
        target = Wish.Status(workflow.TRANSITIONS["hand_back"].target)
    _move(wish, seen_status=seen_status, target=target, now=now)
    return _event(
        wish,
        "hand_back",
        by=by,
        from_status=seen_status,
        to_status=wish.status,
        note=reason,
        dispatch=dispatch,
        at=now,
    )


@transaction.atomic
def complete_wish(
    wish: Wish,
    *,
    by: User,
    seen_status: str,
    dispatch_id: int | None,
    note: str,
    photos: Iterable[CleanPhoto] = (),
) -> WishEvent:
    """Mark a taken wish fulfilled, with what was done and a photo of it."""
    check_allowed(wish, "complete", by=by, seen_status=seen_status)
    dispatch = _dispatch_for(wish, dispatch_id, by)
    if dispatch.state != Dispatch.State.TAKEN:
        raise WishRefused(_("Take the wish before marking it fulfilled."))
    if not note.strip():
        raise WishRefused(_("Say what was done."))
    photos = list(photos)
    if not photos:
        raise WishRefused(_("Add a photo of the help given."))
    now = timezone.now()
    # Providers who took it together (many-to-one) are done with it too; those who had not
    # taken it yet are withdrawn, which frees their offers' capacity.
    open_ = Dispatch.objects.filter(wish=wish).open()
    open_.filter(state=Dispatch.State.TAKEN).exclude(pk=dispatch.pk).update(
        state=Dispatch.State.DONE, done_at=now
    )
    open_.filter(state=Dispatch.State.DISPATCHED).update(state=Dispatch.State.WITHDRAWN)
    _set_dispatch(
        wish, dispatch, sources=[Dispatch.State.TAKEN], state=Dispatch.State.DONE, done_at=now
    )
    _move(wish, seen_status=seen_status, target=Wish.Status.DONE, now=now, done_note=note)
    for photo in photos:
        # save() rather than bulk_create: the storage writes the files and the field their names.
        WishPhoto.objects.create(
            wish=wish, image=photo.image, thumbnail=photo.thumbnail, size=photo.size, uploaded_by=by
        )
    return _event(
        wish,
        "complete",
        by=by,
        from_status=seen_status,
        to_status=wish.status,
        note=note,
        dispatch=dispatch,
        at=now,
    )


@transaction.atomic
def record_satisfaction(
    wish: Wish, *, by: User, seen_status: str, satisfaction: str, note: str = ""
) -> WishEvent:
    """The beneficiary's satisfaction, asked by the grid worker or staff (回访)."""
    check_allowed(wish, "record_satisfaction", by=by, seen_status=seen_status)
    if satisfaction not in Wish.Satisfaction.values:
        raise WishRefused(_("Choose how satisfied the beneficiary is."))
    now = timezone.now()
    _move(
        wish,
        seen_status=seen_status,
        target=Wish.Status.REVISITED,
        now=now,
        satisfaction=satisfaction,
    )
    label = Wish.Satisfaction(satisfaction).label
    return _event(
        wish,
        "record_satisfaction",
        by=by,
        from_status=seen_status,
        to_status=wish.status,
        note=f"{label}{'：' + note if note else ''}",
        at=now,
    )


SERVICES: dict[str, Callable[..., WishEvent]] = {
    "verify": verify_wish,
    "decline": decline_wish,
    "take": take_wish,
    "hand_back": hand_back_wish,
    "complete": complete_wish,
    "record_satisfaction": record_satisfaction,
}


def perform(wish: Wish, action: str, *, by: User, seen_status: str, **data: object) -> WishEvent:
    """Route a button of the wish page to its service (dispatch has its own screen)."""
    return SERVICES[action](wish, by=by, seen_status=seen_status, **data)


def new_submission_token() -> uuid.UUID:
    return uuid.uuid4()


def may_log(user: User) -> bool:
    """Grid workers, staff and administrators log wishes; officials and providers do not."""
    scope = Scope.for_user(user)
    return bool(scope.is_all or scope.grid_ids or scope.community_ids)


def my_provider_ids(user: User) -> list[int]:
    """The providers whose login the user is (from the scope: no query)."""
    return sorted(Scope.for_user(user).provider_ids)


def sees_all_dispatches(user: User, wish: Wish) -> bool:
    """Who the wish went to is the area's business; a provider sees only its own part."""
    scope = Scope.for_user(user)
    return scope.is_all or _in_area(scope, wish)


def _in_area(scope: Scope, wish: Wish) -> bool:
    return (
        wish.district_id in scope.district_ids
        or wish.subdistrict_id in scope.subdistrict_ids
        or wish.community_id in scope.community_ids
        or wish.grid_id in scope.grid_ids
    )
