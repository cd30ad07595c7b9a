"""The beat jobs of micro-wishes: a dispatched wish not taken, and a taken wish past its date.

The Dispatch rows are the truth. Each reminder claims its row with a conditional UPDATE before
anyone is told, as the follow-up reminders do: a second beat worker, or the same task run
twice, finds the row claimed and sends nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from issues import notifications
from issues.models import Notification
from wishes.models import Dispatch, ServiceKind, WishEvent


def _past_kind_days(now: datetime, days_field: str) -> Q:
    """Dispatches older than their wish's kind allows (`days_field` of ServiceKind)."""
    q = Q(pk__in=[])
    for kind_id, days in ServiceKind.objects.values_list("pk", days_field):
        q |= Q(wish__kind_id=kind_id, dispatched_at__lt=now - timedelta(days=days))
    return q


def _claimed(rows: QuerySet[Dispatch], field: str, now: datetime) -> list[Dispatch]:
    """Claim each row by setting `field`; the rows this run claimed, with what telling needs."""
    candidates = rows.select_related("provider", "wish").order_by("dispatched_at", "pk")[:1000]
    return [
        dispatch
        for dispatch in candidates
        if Dispatch.objects.filter(pk=dispatch.pk, **{field: None}).update(**{field: now})
    ]


def _provider_or_staff(dispatch: Dispatch, staff: dict[int, list[int]]) -> list[int]:
    """The provider's login, or the community's staff, who act for a provider without one."""
    if dispatch.provider.user_id is not None:
        return [dispatch.provider.user_id]
    return staff.get(dispatch.wish.community_id, [])


def _tell(claimed: list[Dispatch], kind: str, *, staff_only: bool, action: str) -> None:
    staff = notifications.staff_ids_by_community({d.wish.community_id for d in claimed})
    notifications.notify_many(
        notifications.Message(user_id, kind, wish_id=d.wish_id)
        for d in claimed
        for user_id in (
            staff.get(d.wish.community_id, []) if staff_only else _provider_or_staff(d, staff)
        )
    )
    for d in claimed:
        WishEvent.objects.create(wish_id=d.wish_id, action=action, dispatch=d, note=d.provider.name)


@transaction.atomic
def remind_untaken_dispatches(now: datetime) -> int:
    """Remind each provider once of a wish dispatched to it and not taken in its kind's days."""
    rows = Dispatch.objects.filter(
        _past_kind_days(now, "remind_after_days"),
        state=Dispatch.State.DISPATCHED,
        reminded_at__isnull=True,
    )
    claimed = _claimed(rows, "reminded_at", now)
    _tell(claimed, Notification.Kind.WISH_NOT_TAKEN, staff_only=False, action="remind")
    return len(claimed)


@transaction.atomic
def escalate_untaken_dispatches(now: datetime) -> int:
    """Tell the community's staff, once, of a dispatch still not taken after more days."""
    rows = Dispatch.objects.filter(
        _past_kind_days(now, "escalate_after_days"),
        state=Dispatch.State.DISPATCHED,
        escalated_at__isnull=True,
    )
    claimed = _claimed(rows, "escalated_at", now)
    _tell(claimed, Notification.Kind.WISH_ESCALATED, staff_only=True, action="escalate")
    return len(claimed)


@transaction.atomic
def remind_overdue_taken(now: datetime) -> int:
    """Remind the provider, once, of a wish it took and has not fulfilled by its date."""
    rows = Dispatch.objects.filter(
        state=Dispatch.State.TAKEN,
        wish__due_on__lt=timezone.localdate(now),
        overdue_reminded_at__isnull=True,
    )
    claimed = _claimed(rows, "overdue_reminded_at", now)
    _tell(claimed, Notification.Kind.WISH_OVERDUE, staff_only=False, action="remind")
    return len(claimed)
