"""The follow-up schedule through a real Celery worker: never lost, never doubled.

Uses the session-scoped `celery_worker` (Redis in CI, the filesystem broker otherwise); each
test proves what the worker did by the rows it wrote.
"""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from kombu.exceptions import OperationalError

from grassroots.celery import app
from issues import services, tasks
from issues.models import FollowUp, Issue, Notification
from issues.tests.factories import FollowUpFactory, IssueFactory, category
from issues.tests.test_celery import wait_for

pytestmark = [
    pytest.mark.usefixtures("celery_worker"),
    pytest.mark.celery_worker,
    pytest.mark.django_db(transaction=True),
]


def resolved_dispute(courtyard, staff) -> Issue:
    issue = IssueFactory(courtyard=courtyard, status="in_progress", category=category("dispute"))
    services.record_mediation(
        issue,
        by=staff,
        mediated_on=timezone.localdate(),
        parties="楼上住户、楼下住户",
        method="in_person",
        outcome="agreement",
        agreement="楼上住户维修水管。",
    )
    return issue


def test_it_creates_each_visit_once_when_the_task_runs_twice(courtyard, staff):
    issue = resolved_dispute(courtyard, staff)
    services.resolve_issue(
        issue, by=staff, seen_status="in_progress", resolution="已和解。", reply="已答复居民。"
    )
    # A resent message, as a redelivery after a lost acknowledgement would be.
    tasks.schedule_follow_ups.delay(issue.pk)
    tasks.schedule_follow_ups.delay(issue.pk)

    assert wait_for(lambda: issue.follow_ups.count() == 3)
    assert not wait_for(lambda: issue.follow_ups.count() > 3, timeout=2)
    assert sorted(issue.follow_ups.values_list("visit_no", flat=True)) == [1, 2, 3]


def test_it_resolves_with_the_broker_down_and_the_sweep_schedules_later(
    courtyard, staff, monkeypatch
):
    issue = resolved_dispute(courtyard, staff)

    def broker_down(*args: object, **kwargs: object) -> None:
        raise OperationalError("Error 111 connecting to the broker. Connection refused.")

    with monkeypatch.context() as m:
        m.setattr(app, "send_task", broker_down)
        services.resolve_issue(
            issue, by=staff, seen_status="in_progress", resolution="已和解。", reply="已答复居民。"
        )

    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED  # the user's work is kept
    assert not issue.follow_ups.exists()
    # The broker is back; beat's sweep finds the resolution that has no visits.
    Issue.objects.filter(pk=issue.pk).update(resolved_at=timezone.now() - timedelta(minutes=5))
    tasks.sweep_unscheduled_follow_ups.delay()

    assert wait_for(lambda: issue.follow_ups.count() == 3)


def test_it_reminds_once_a_day_and_escalates_once(courtyard, staff, grid_worker, settings):
    settings.FOLLOW_UP_GRACE = timedelta(hours=72)
    start = timezone.now()
    visit = FollowUpFactory(
        issue__courtyard=courtyard, assignee=grid_worker, due_at=start - timedelta(hours=1)
    )

    with time_machine.travel(start, tick=True):
        tasks.remind_due_follow_ups.delay()
        tasks.remind_due_follow_ups.delay()
        assert wait_for(lambda: Notification.objects.filter(follow_up=visit).count() == 1)
        assert not wait_for(
            lambda: Notification.objects.filter(follow_up=visit).count() > 1, timeout=2
        )

    with time_machine.travel(start + timedelta(days=1), tick=True):
        tasks.remind_due_follow_ups.delay()
        assert wait_for(
            lambda: (
                Notification.objects.filter(
                    follow_up=visit, kind=Notification.Kind.FOLLOW_UP_DUE
                ).count()
                == 2
            )
        )

    with time_machine.travel(start + timedelta(days=4), tick=True):
        tasks.escalate_overdue_follow_ups.delay()
        tasks.escalate_overdue_follow_ups.delay()
        assert wait_for(
            lambda: (
                Notification.objects.filter(
                    follow_up=visit, kind=Notification.Kind.FOLLOW_UP_OVERDUE, recipient=staff
                ).count()
                == 1
            )
        )
        assert not wait_for(
            lambda: (
                Notification.objects.filter(kind=Notification.Kind.FOLLOW_UP_OVERDUE).count() > 1
            ),
            timeout=2,
        )
    assert FollowUp.objects.get(pk=visit.pk).escalated_at is not None


def test_the_beat_tasks_retry_with_backoff_and_stop_in_time():
    for task in (
        tasks.remind_due_follow_ups,
        tasks.escalate_overdue_follow_ups,
        tasks.sweep_unscheduled_follow_ups,
    ):
        assert task.autoretry_for == (Exception,)
        assert task.retry_backoff
        assert task.max_retries == 3
        assert task.soft_time_limit < task.time_limit
