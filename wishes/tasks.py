"""Celery beat jobs of micro-wishes: each calls a service; the Dispatch rows are the truth."""

from celery import shared_task
from django.utils import timezone

from issues.tasks import BEAT


@shared_task(**BEAT)
def remind_untaken_dispatches() -> int:
    from wishes import reminders

    return reminders.remind_untaken_dispatches(timezone.now())


@shared_task(**BEAT)
def escalate_untaken_dispatches() -> int:
    from wishes import reminders

    return reminders.escalate_untaken_dispatches(timezone.now())


@shared_task(**BEAT)
def remind_overdue_taken() -> int:
    from wishes import reminders

    return reminders.remind_overdue_taken(timezone.now())
