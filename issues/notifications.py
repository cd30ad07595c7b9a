"""Telling people: an in-app row for each message, and pluggable outside channels.

A channel is any callable that takes a saved Notification. Email is the one built in; an SMS
or WeChat template sender is added to CHANNELS in the same shape. Outside channels run in a
Celery task after commit, so a slow mail server never holds up a request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from grassroots.celery import enqueue
from grids.models import StaffAssignment
from issues.models import FollowUp, Issue, Notification, one_line

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def staff_of(community_id: int) -> list[User]:
    """The active staff of a community, who are told of its urgent and overdue matters."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, staff_assignments__community_id=community_id)
        .distinct()
    )


def grid_workers_of(grid_id: int) -> list[User]:
    """The active grid workers of a grid, who are told of a resident's concern from it."""
    return list(
        get_user_model()
        .objects.filter(is_active=True, grid_worker__is_active=True, grid_worker__grids=grid_id)
        .distinct()
    )


def staff_ids_by_community(community_ids: Iterable[int]) -> dict[int, list[int]]:
    """The active staff of many communities in one query, as user ids by community id."""
    staff: dict[int, list[int]] = {}
    for community_id, user_id in StaffAssignment.objects.filter(
        community_id__in=set(community_ids), user__is_active=True
    ).values_list("community_id", "user_id"):
        staff.setdefault(community_id, []).append(user_id)
    return staff


class Message(NamedTuple):
    """One notification to store, by ids: a batch of thousands is built without fetching a row."""

    recipient_id: int
    kind: str
    issue_id: int | None = None
    follow_up_id: int | None = None
    wish_id: int | None = None


def notify(
    recipients: Iterable[User],
    kind: str,
    *,
    issue: Issue | None = None,
    follow_up: FollowUp | None = None,
) -> list[Notification]:
    """Store one in-app notification per recipient and send it out through the channels."""
    rows = Notification.objects.bulk_create(
        [
            Notification(recipient=u, kind=kind, issue=issue, follow_up=follow_up)
            for u in {u.pk: u for u in recipients}.values()
        ]
    )
    _deliver_on_commit([row.pk for row in rows])
    return rows


def notify_many(messages: Iterable[Message]) -> list[Notification]:
    """Store many notifications in one insert and send them all out in one task.

    For the beat jobs, which tell thousands of people in a run: a task per message would
    flood the broker and take longer than the messages themselves.
    """
    now = timezone.now()
    rows = Notification.objects.bulk_create(
        [Notification(**message._asdict(), created_at=now) for message in dict.fromkeys(messages)]
    )
    _deliver_on_commit([row.pk for row in rows])
    return rows


def _deliver_on_commit(ids: list[int]) -> None:
    if ids:
        # Robust: the in-app rows are the record; a broker outage must not fail the change.
        transaction.on_commit(
            lambda: enqueue("issues.tasks.deliver_notifications", ids), robust=True
        )


def send_email(notification: Notification) -> None:
    user = notification.recipient
    if not user.email:
        return
    issue = notification.issue
    context = {
        "notification": notification,
        "issue": issue,
        # One line each, whatever was stored: a line break in a title would draw a line of its
        # own ("Bcc: …", a link) into the message.
        "title": one_line(issue.title) if issue else "",
        "courtyard": one_line(issue.courtyard.name) if issue else "",
        "follow_up": notification.follow_up,
        "wish": notification.wish,
        "user": user,
        "site_url": settings.SITE_URL,
    }
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string("issues/email/notification_subject.txt", context)
        body = render_to_string("issues/email/notification_body.txt", context)
    send_mail(" ".join(subject.split()), body, None, [user.email])


CHANNELS: list[Callable[[Notification], None]] = [send_email]


def deliver(ids: list[int]) -> int:
    """Send each notification on the other channels once; returns how many were sent.

    Each one is sent inside a transaction that holds its row: a second deliverer (a resent
    task, the sweep) skips it, and a worker killed mid-send leaves it undelivered for the sweep.
    """
    sent = 0
    for pk in ids:
        with transaction.atomic():
            notification = (
                Notification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("recipient", "issue", "follow_up", "wish")
                .filter(pk=pk, delivered_at__isnull=True)
                .first()
            )
            if notification is None:
                continue
            for channel in CHANNELS:
                channel(notification)
            Notification.objects.filter(pk=pk).update(delivered_at=timezone.now())
        sent += 1
    return sent


def deliver_pending(now: datetime, *, older_than: timedelta, limit: int = 500) -> int:
    """The sweep: send what a lost task did not, oldest first."""
    ids = list(
        Notification.objects.filter(delivered_at__isnull=True, created_at__lt=now - older_than)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return deliver(ids)
