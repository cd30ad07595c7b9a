"""Celery tasks: each takes ids, fetches the rows and calls a service.

They are safe to run twice: the rows in the database, not the messages, are the truth. The
services send them by name (`grassroots.celery.enqueue`) and never import this module.
"""

from celery import shared_task
from django.utils import timezone

from issues import notifications, services, tallies
from issues.models import Issue

RETRY = {
    "autoretry_for": (Exception,),
    "retry_backoff": 5,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 8,
}
# The beat jobs run again at their next interval anyway; a few quick retries ride out a
# database restart between them. Each commits batch by batch, so a retry resumes the rest.
BEAT = {
    "autoretry_for": (Exception,),
    "retry_backoff": 10,
    "retry_backoff_max": 120,
    "retry_jitter": True,
    "max_retries": 3,
    "soft_time_limit": 240,
    "time_limit": 300,
}


@shared_task(**RETRY)
def schedule_follow_ups(issue_id: int) -> int:
    issue = Issue.objects.select_related("category").filter(pk=issue_id).first()
    return services.schedule_follow_ups(issue) if issue else 0


@shared_task(**RETRY)
def deliver_notifications(notification_ids: list[int]) -> int:
    return notifications.deliver(notification_ids)


@shared_task(**BEAT)
def remind_due_follow_ups() -> int:
    return services.remind_due_follow_ups(timezone.now())


@shared_task(**BEAT)
def escalate_overdue_follow_ups() -> int:
    return services.escalate_overdue_follow_ups(timezone.now())


@shared_task(**BEAT)
def sweep_unscheduled_follow_ups() -> int:
    return services.sweep_unscheduled_follow_ups(timezone.now())


@shared_task(**BEAT)
def deliver_pending_notifications() -> int:
    from django.conf import settings

    return notifications.deliver_pending(
        timezone.now(), older_than=settings.NOTIFICATION_REDELIVER_AFTER
    )


@shared_task(**BEAT)
def compact_tallies() -> int:
    """Fold the dashboard tallies' rows of differences; the sums do not change."""

    return tallies.compact() if tallies.enabled() else 0


@shared_task(**BEAT)
def reconcile_tallies() -> dict[str, int]:
    """Recount the tallies from the issues and visits, and correct any sum that differs."""
    import logging

    if not tallies.enabled():
        return {}
    fixed = tallies.reconcile()
    if any(fixed.values()):
        logging.getLogger(__name__).error("dashboard tallies corrected: %s", fixed)
    return fixed
