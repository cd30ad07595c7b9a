"""Celery: tasks sent with `.delay()` reach a real worker and do their database work.

The worker is the session-scoped `celery_worker` fixture (conftest.py) on the configured broker:
Redis when REDIS_URL is set, the filesystem broker otherwise. Results are ignored
(CELERY_TASK_IGNORE_RESULT), so each test proves that a task ran by the rows it wrote.
"""

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from celery.signals import task_postrun
from django.conf import settings
from django.utils import timezone

from grassroots.celery import app
from issues import services, tasks
from issues.models import FollowUp, Issue, IssueEvent, Notification
from issues.tests.factories import FollowUpFactory, IssueFactory, category


def wait_for(predicate: Callable[[], bool], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def worker_runs() -> Iterator[list[tuple[str, threading.Thread]]]:
    """The tasks run from now on, each with the thread that ran it."""
    runs: list[tuple[str, threading.Thread]] = []

    def record(task=None, **kwargs: object) -> None:
        runs.append((task.name, threading.current_thread()))

    task_postrun.connect(record, weak=False)
    yield runs
    task_postrun.disconnect(record)


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_it_schedules_follow_ups_in_the_worker_after_resolve(worker_runs, courtyard, staff):
    assert not app.conf.task_always_eager
    issue = IssueFactory(
        courtyard=courtyard, status=Issue.Status.IN_PROGRESS, category=category("dispute")
    )
    services.record_mediation(
        issue,
        by=staff,
        mediated_on=timezone.localdate(),
        parties="住户甲、住户乙",
        method="in_person",
        outcome="agreement",
    )

    # Autocommit: the transaction commits when resolve_issue returns, and on commit the task
    # goes to the broker.
    services.resolve_issue(
        issue, by=staff, seen_status="in_progress", resolution="双方已和解。", reply="已答复居民。"
    )

    assert wait_for(lambda: FollowUp.objects.filter(issue=issue).count() == 3)
    issue.refresh_from_db()
    assert list(issue.follow_ups.values_list("due_at", flat=True)) == [
        issue.resolved_at + timedelta(days=d) for d in (3, 30, 90)
    ]
    assert set(issue.follow_ups.values_list("assignee", flat=True)) == {staff.pk}
    assert issue.events.filter(action=IssueEvent.Action.SCHEDULE).count() == 1
    # Run by the worker's thread, not inline in this one.
    assert wait_for(lambda: any(n == "issues.tasks.schedule_follow_ups" for n, _ in worker_runs))
    threads = {t for n, t in worker_runs if n == "issues.tasks.schedule_follow_ups"}
    assert threading.current_thread() not in threads


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_it_runs_the_beat_tasks_sent_with_delay(worker_runs, courtyard, grid_worker, mailoutbox):
    resolved = IssueFactory(courtyard=courtyard, status=Issue.Status.RESOLVED)
    visit = FollowUpFactory(
        issue=resolved, assignee=grid_worker, due_at=timezone.now() - timedelta(hours=1)
    )
    missed = IssueFactory(
        courtyard=courtyard,
        status=Issue.Status.RESOLVED,
        resolved_at=timezone.now() - timedelta(hours=1),
    )

    tasks.remind_due_follow_ups.delay()
    tasks.sweep_unscheduled_follow_ups.delay()

    assert wait_for(
        lambda: FollowUp.objects.filter(pk=visit.pk, reminded_on__isnull=False).exists()
    )
    reminder = Notification.objects.get(follow_up=visit)
    assert (reminder.recipient, reminder.kind) == (grid_worker, Notification.Kind.FOLLOW_UP_DUE)
    assert wait_for(lambda: missed.follow_ups.count() == 1)
    # The reminder's email went out from a second task, sent on commit inside the worker.
    assert wait_for(lambda: len(mailoutbox) == 1)
    assert mailoutbox[0].to == [grid_worker.email]
    ran = {n for n, t in worker_runs if t is not threading.current_thread()}
    assert {
        "issues.tasks.remind_due_follow_ups",
        "issues.tasks.sweep_unscheduled_follow_ups",
        "issues.tasks.deliver_notifications",
    } <= ran


# --- Configuration --------------------------------------------------------------------------


def test_it_speaks_only_json():
    assert app.conf.task_serializer == "json"
    assert app.conf.result_serializer == "json"
    assert list(app.conf.accept_content) == ["json"]


def test_it_acknowledges_late_and_requeues_on_a_lost_worker():
    # A task is acknowledged only once it has run, so a crashed worker's task runs again;
    # tasks are idempotent for that reason.
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_it_limits_each_tasks_time():
    assert app.conf.task_time_limit == 300
    assert app.conf.task_soft_time_limit == 240
    assert app.conf.task_soft_time_limit < app.conf.task_time_limit


def test_it_ignores_results():
    assert app.conf.task_ignore_result is True


def test_it_uses_the_configured_broker():
    assert app.conf.broker_url == settings.CELERY_BROKER_URL
    if settings.REDIS_URL:
        assert app.conf.broker_url == settings.REDIS_URL
    else:
        assert app.conf.broker_url == "grassroots-filesystem://"


def test_it_schedules_only_tasks_that_exist():
    app.loader.import_default_modules()

    schedule = app.conf.beat_schedule
    assert set(schedule) == {
        "remind-due-follow-ups",
        "escalate-overdue-follow-ups",
        "sweep-unscheduled-follow-ups",
        "deliver-pending-notifications",
        "compact-dashboard-tallies",
        "reconcile-dashboard-tallies",
        "remind-untaken-wishes",
        "escalate-untaken-wishes",
        "remind-overdue-wishes",
    }
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, name
        task = app.tasks[entry["task"]]
        # A run that waited longer than its interval is dropped, not piled up behind the next.
        every = entry["schedule"]
        interval = every.total_seconds() if isinstance(every, timedelta) else 24 * 3600
        assert entry["options"]["expires"] < interval, name
        assert task.soft_time_limit < task.time_limit, name


def test_it_registers_every_task_of_the_app():
    app.loader.import_default_modules()

    assert {
        "issues.tasks.schedule_follow_ups",
        "issues.tasks.deliver_notifications",
        "issues.tasks.remind_due_follow_ups",
        "issues.tasks.escalate_overdue_follow_ups",
        "issues.tasks.sweep_unscheduled_follow_ups",
    } <= set(app.tasks)


def test_it_retries_the_tasks_that_carry_work_from_a_request():
    for task in (tasks.schedule_follow_ups, tasks.deliver_notifications):
        assert task.autoretry_for == (Exception,)
        assert task.max_retries == 8
