"""The beat jobs at volume: thousands of visits, a batch at a time.

Each batch is claimed by one compare-and-set UPDATE and told with one insert and one delivery
task, so the queries grow with the batches, not with the visits; two workers at once still
tell each visit once. The visits are bulk-created, as a day's backlog would be.
"""

import math
import threading
from collections import Counter
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, connections

from grassroots.celery import app
from grids.models import Courtyard
from grids.tests.factories import CourtyardFactory, StaffAssignmentFactory, UserFactory
from issues import notifications, services
from issues.models import FollowUp, Issue, Notification
from issues.tests.factories import IssueFactory

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
VISITS = 2500
GRACE = settings.FOLLOW_UP_GRACE
DUE = Notification.Kind.FOLLOW_UP_DUE
OVERDUE = Notification.Kind.FOLLOW_UP_OVERDUE


class _Recorder:
    """Stands in for the delivery task; a lock, as the race test sends from two threads."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []
        self.lock = threading.Lock()

    def delay(self, ids: list[int]) -> None:
        with self.lock:
            self.calls.append(ids)


@pytest.fixture
def deliveries(monkeypatch) -> _Recorder:
    recorder = _Recorder()

    def send_task(name: str, args: tuple = (), *rest: object, **kwargs: object) -> None:
        if name == "issues.tasks.deliver_notifications":
            recorder.delay(*args)

    monkeypatch.setattr(app, "send_task", send_task)
    return recorder


@pytest.fixture
def other_courtyard_elsewhere(outsider) -> Courtyard:
    """A courtyard of the outsider's community: its visits escalate to other staff."""
    return CourtyardFactory(grid__community=outsider.staff_assignments.get().community)


@pytest.fixture
def issues(courtyard, other_courtyard_elsewhere) -> list[Issue]:
    """Five resolved issues in each of two communities."""
    return [
        IssueFactory(courtyard=place, status=Issue.Status.RESOLVED, resolved_at=NOW)
        for place in (courtyard, other_courtyard_elsewhere)
        for _ in range(5)
    ]


@pytest.fixture
def assignees(db) -> list:
    return [UserFactory() for _ in range(3)]


def make_visits(issues: list[Issue], assignees: list, due_at: datetime, n: int = VISITS) -> list:
    """`n` visits spread over the issues and assignees, all due at `due_at` or a little before."""
    visits = [
        FollowUp(
            issue=issues[i % len(issues)],
            visit_no=i // len(issues) + 1,
            assignee=assignees[i % len(assignees)],
            due_at=due_at - timedelta(seconds=i),
        )
        for i in range(n)
    ]
    for visit in visits:
        visit.copy_area()
    return FollowUp.objects.bulk_create(visits)


def most_queries(visits: int, told_per_visit: int, per_batch: int) -> int:
    """One query lists the visits; then each batch takes a few and the notifications' inserts.

    On SQLite an insert takes 166 rows at most (999 parameters), on PostgreSQL all of them.
    """
    batches = math.ceil(visits / services.BEAT_BATCH)
    rows = services.BEAT_BATCH * told_per_visit
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    inserts = math.ceil(rows / connection.ops.bulk_batch_size(fields, range(rows)))
    return 1 + batches * (per_batch + inserts)


# --- Reminders --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_reminds_each_of_thousands_of_due_visits_once_a_day(
    time_machine, issues, assignees, deliveries
):
    time_machine.move_to(NOW, tick=False)
    due = make_visits(issues, assignees, NOW)
    later = FollowUp.objects.create(
        issue=issues[0], visit_no=9000, assignee=assignees[0], due_at=NOW + timedelta(hours=3)
    )
    FollowUp.objects.create(
        issue=issues[0], visit_no=9001, assignee=assignees[0], due_at=NOW, done_at=NOW
    )

    assert services.remind_due_follow_ups(NOW) == VISITS
    assert services.remind_due_follow_ups(NOW) == 0

    sent = Notification.objects.values_list("follow_up", "recipient", "issue", "kind")
    assert Counter(sent) == {(v.pk, v.assignee_id, v.issue_id, DUE): 1 for v in due}
    reminded_on = FollowUp.objects.filter(pk__in=[v.pk for v in due]).values_list(
        "reminded_on", flat=True
    )
    assert set(reminded_on) == {date(2026, 3, 2)}

    # Later the same day only the visit that has come due since is reminded.
    time_machine.move_to(NOW + timedelta(hours=4), tick=False)
    assert services.remind_due_follow_ups(NOW + timedelta(hours=4)) == 1
    assert services.remind_due_follow_ups(NOW + timedelta(hours=4)) == 0
    assert Notification.objects.count() == VISITS + 1
    assert Notification.objects.get(follow_up=later).recipient == assignees[0]

    # The next day every visit still not made is reminded again, once.
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    assert services.remind_due_follow_ups(NOW + timedelta(days=1)) == VISITS + 1
    assert services.remind_due_follow_ups(NOW + timedelta(days=1, hours=1)) == 0
    assert Counter(Notification.objects.values_list("follow_up", flat=True)) == {
        v.pk: 2 for v in [*due, later]
    }


@pytest.mark.django_db
def test_it_sends_a_batch_of_reminders_in_one_delivery_task(
    issues, assignees, deliveries, django_capture_on_commit_callbacks
):
    make_visits(issues, assignees, NOW)

    with django_capture_on_commit_callbacks(execute=True):
        services.remind_due_follow_ups(NOW)

    assert [len(ids) for ids in deliveries.calls] == [1000, 1000, 500]
    assert sorted(i for ids in deliveries.calls for i in ids) == sorted(
        Notification.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_it_reminds_thousands_of_visits_in_a_few_queries_a_batch(
    issues, assignees, django_assert_max_num_queries
):
    make_visits(issues, assignees, NOW)

    # Per batch: savepoint, claim, inserts, release; not a query or three per visit.
    with django_assert_max_num_queries(most_queries(VISITS, 1, per_batch=3)):
        assert services.remind_due_follow_ups(NOW) == VISITS


@pytest.mark.django_db
def test_it_keeps_the_batches_sent_before_a_time_out(monkeypatch, issues, assignees, deliveries):
    """The soft time limit strikes in the second batch: the first stays sent, the rest wait."""
    make_visits(issues, assignees, NOW)
    notify_many = notifications.notify_many
    batches = []

    def time_out_in_second_batch(messages):
        batches.append(1)
        if len(batches) == 2:
            raise SoftTimeLimitExceeded
        return notify_many(messages)

    monkeypatch.setattr(notifications, "notify_many", time_out_in_second_batch)
    with pytest.raises(SoftTimeLimitExceeded):
        services.remind_due_follow_ups(NOW)

    assert Notification.objects.count() == 1000
    assert FollowUp.objects.filter(reminded_on__isnull=False).count() == 1000

    monkeypatch.setattr(notifications, "notify_many", notify_many)
    assert services.remind_due_follow_ups(NOW + timedelta(minutes=5)) == VISITS - 1000
    assert Notification.objects.count() == VISITS
    assert FollowUp.objects.filter(reminded_on__isnull=True).count() == 0


# --- Escalation -------------------------------------------------------------------------------


@pytest.fixture
def staff_by_community(staff, assignee, outsider, courtyard) -> dict[int, set[int]]:
    """Two active staff in the first community (one inactive), the outsider in the second."""
    StaffAssignmentFactory(community=courtyard.grid.community, user__is_active=False)
    return {
        courtyard.grid.community_id: {staff.pk, assignee.pk},
        outsider.staff_assignments.get().community_id: {outsider.pk},
    }


@pytest.mark.django_db
def test_it_escalates_each_of_thousands_of_overdue_visits_to_its_communitys_staff_once(
    time_machine, issues, assignees, staff_by_community, deliveries
):
    time_machine.move_to(NOW, tick=False)
    overdue = make_visits(issues, assignees, NOW - GRACE - timedelta(minutes=1))
    not_yet = FollowUp.objects.create(
        issue=issues[0],
        visit_no=9000,
        assignee=assignees[0],
        due_at=NOW - GRACE + timedelta(hours=1),
    )

    assert services.escalate_overdue_follow_ups(NOW) == VISITS
    assert services.escalate_overdue_follow_ups(NOW) == 0

    community_of = {i.pk: i.community_id for i in issues}
    expected = Counter(
        (v.pk, user_id, v.issue_id, OVERDUE)
        for v in overdue
        for user_id in staff_by_community[community_of[v.issue_id]]
    )
    sent = Notification.objects.values_list("follow_up", "recipient", "issue", "kind")
    assert Counter(sent) == expected
    assert set(expected.values()) == {1}
    assert not FollowUp.objects.get(pk=not_yet.pk).escalated_at

    # A day later the visit that has become overdue is escalated, and only it.
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    assert services.escalate_overdue_follow_ups(NOW + timedelta(days=1)) == 1
    assert Notification.objects.filter(follow_up=not_yet).count() == 2


@pytest.mark.django_db
def test_it_escalates_thousands_of_visits_in_a_few_queries_a_batch(
    issues, assignees, staff_by_community, django_assert_max_num_queries
):
    make_visits(issues, assignees, NOW - GRACE - timedelta(minutes=1))

    # Per batch: savepoint, claim, the issues' communities, their staff, inserts, release.
    with django_assert_max_num_queries(most_queries(VISITS, 2, per_batch=5)):
        assert services.escalate_overdue_follow_ups(NOW) == VISITS


# --- Two workers at once (PostgreSQL) ---------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs two real concurrent transactions"
)
@pytest.mark.parametrize(
    ("job", "kind", "due_at"),
    [
        ("remind_due_follow_ups", DUE, NOW),
        ("escalate_overdue_follow_ups", OVERDUE, NOW - GRACE - timedelta(minutes=1)),
    ],
)
def test_it_tells_each_visit_once_when_two_workers_run_at_once(
    monkeypatch, issues, assignees, staff_by_community, deliveries, job, kind, due_at
):
    """Small batches, so that the two workers' batches interleave and collide many times."""
    monkeypatch.setattr(services, "BEAT_BATCH", 100)
    visits = make_visits(issues, assignees, due_at)
    barrier = threading.Barrier(2, timeout=10)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = getattr(services, job)(NOW)
        except Exception as e:  # reported by the assertion below
            results[i] = e
        finally:
            # Each thread opened its own connection; leave none behind for the flush.
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)

    assert all(isinstance(r, int) for r in results), results
    assert sum(results) == VISITS
    # Each visit was told once: its assignee, or each of its community's staff.
    community_of = {i.pk: i.community_id for i in issues}
    told = Counter(Notification.objects.filter(kind=kind).values_list("follow_up", flat=True))
    assert told == {
        v.pk: 1 if kind == DUE else len(staff_by_community[community_of[v.issue_id]])
        for v in visits
    }
    # Every notification went out once, in one task per batch of its worker.
    sent = [i for ids in deliveries.calls for i in ids]
    assert sorted(sent) == sorted(Notification.objects.values_list("pk", flat=True))
