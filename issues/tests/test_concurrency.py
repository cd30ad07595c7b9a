"""Two people act on one issue at the same moment, in two real transactions (PostgreSQL).

Each thread has its own database connection. A barrier makes both read the issue, and so the
same `seen_status`, before either writes; the compare-and-set update then lets exactly one win.
"""

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from issues import services, tallies, tasks
from issues.models import FollowUp, Issue, IssueEvent
from issues.services import TransitionRefused
from issues.tests.factories import FollowUpFactory, IssueFactory

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs two real concurrent transactions"
    ),
]


@pytest.fixture(autouse=True)
def no_worker_after_commit(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple]]:
    """Keep the winners' on-commit tasks off the broker.

    These tests are about two transactions on one row. A session worker that picked up the
    winner's follow-up task would be writing while the test's teardown truncates the tables,
    and PostgreSQL answers that with a deadlock.
    """
    sent: list[tuple[str, tuple]] = []
    for task in (tasks.schedule_follow_ups, tasks.deliver_notifications):
        monkeypatch.setattr(task, "delay", lambda *a, name=task.name: sent.append((name, a)))
    return sent


def race(issue: Issue, *actions: Callable[[Issue, str], object]) -> list[object]:
    """Run each action in its own thread on its own copy of the issue; return what each gave."""
    barrier = threading.Barrier(len(actions), timeout=10)
    results: list[object] = [None] * len(actions)

    def run(i: int, action: Callable[[Issue, str], object]) -> None:
        try:
            mine = Issue.objects.select_related("category").get(pk=issue.pk)
            seen_status = mine.status
            barrier.wait()
            results[i] = action(mine, seen_status)
        except Exception as e:  # the refusal is one of the two expected outcomes
            results[i] = e
        finally:
            # Each thread opened its own connection; leave none behind for the flush.
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, a)) for i, a in enumerate(actions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not any(t.is_alive() for t in threads)
    return results


def outcome(results: list[object]) -> tuple[list[IssueEvent], list[TransitionRefused]]:
    won = [r for r in results if isinstance(r, IssueEvent)]
    lost = [r for r in results if isinstance(r, TransitionRefused)]
    assert len(won) + len(lost) == len(results), results
    return won, lost


def test_it_lets_exactly_one_of_two_starts_win(courtyard, staff, assignee):
    issue = IssueFactory(courtyard=courtyard, status=Issue.Status.LISTED, assignee=assignee)

    results = race(
        issue,
        lambda i, seen: services.start_issue(i, by=staff, seen_status=seen),
        lambda i, seen: services.start_issue(i, by=assignee, seen_status=seen),
    )

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 1)
    issue.refresh_from_db()
    assert issue.status == Issue.Status.IN_PROGRESS
    event = issue.events.get()
    assert event == won[0]
    assert (event.from_status, event.to_status) == ("listed", "in_progress")
    # The loser is told who won.
    winner = event.actor.first_name
    assert winner in str(lost[0])


def test_it_lets_exactly_one_of_list_and_handle_now_win(courtyard, staff, grid_worker):
    issue = IssueFactory(courtyard=courtyard, created_by=grid_worker, urgency="urgent")

    results = race(
        issue,
        lambda i, seen: services.list_issue(i, by=staff, seen_status=seen, note="列入清单。"),
        lambda i, seen: services.handle_now(i, by=grid_worker, seen_status=seen, note="马上去。"),
    )

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 1)
    issue.refresh_from_db()
    event = issue.events.get()
    assert event == won[0]
    # Nothing of the loser's change leaked in; everything of the winner's is there.
    if event.action == "list":
        assert (issue.status, issue.started_at) == (Issue.Status.LISTED, None)
        assert issue.listed_at == event.created_at
        assert issue.assignee is None
    else:
        assert (issue.status, issue.listed_at) == (Issue.Status.IN_PROGRESS, None)
        assert issue.started_at == event.created_at
        assert issue.assignee == grid_worker
    assert event.actor.first_name in str(lost[0])


def test_it_keeps_the_first_resolution_of_two(courtyard, staff, assignee):
    issue = IssueFactory(courtyard=courtyard, status=Issue.Status.IN_PROGRESS, assignee=assignee)

    results = race(
        issue,
        lambda i, seen: services.resolve_issue(
            i, by=staff, seen_status=seen, resolution="甲", reply="已答复居民。"
        ),
        lambda i, seen: services.resolve_issue(
            i, by=assignee, seen_status=seen, resolution="乙", reply="已答复居民。"
        ),
    )

    won, lost = outcome(results)
    assert (len(won), len(lost)) == (1, 1)
    issue.refresh_from_db()
    # Only the winner's on-commit task was sent; it may add its own "scheduled" row later.
    event = issue.events.get(action=IssueEvent.Action.RESOLVE)
    assert event == won[0]
    assert issue.resolution == event.note
    assert issue.resolved_at == event.created_at


def test_two_runs_of_the_scheduling_task_at_once_schedule_once(courtyard):
    from django.utils import timezone

    from issues.models import FollowUp

    issue = IssueFactory(
        courtyard=courtyard, status=Issue.Status.RESOLVED, resolved_at=timezone.now()
    )

    results = race(
        issue,
        lambda i, _: services.schedule_follow_ups(i),
        lambda i, _: services.schedule_follow_ups(i),
    )

    days = {int(d) for d in issue.category.follow_up_days}
    assert sorted(results) == [0, len(days)]
    assert FollowUp.objects.filter(issue=issue).count() == len(days)
    assert IssueEvent.objects.filter(issue=issue, action=IssueEvent.Action.SCHEDULE).count() == 1


def test_two_visits_of_one_issue_recorded_at_once_keep_the_tallies_exact(courtyard, staff):
    """Each visit's trigger counts the issue's other visits: the issue's lock makes the second
    read the first's, instead of both counting the other as not yet done."""
    issue = IssueFactory(
        courtyard=courtyard,
        status=Issue.Status.RESOLVED,
        resolved_at=timezone.now() - timedelta(days=10),
    )
    first, second = (
        FollowUpFactory(issue=issue, assignee=staff, visit_no=n, due_at=timezone.now())
        for n in (1, 2)
    )

    results = race(
        issue,
        lambda i, seen: services.record_follow_up(
            FollowUp.objects.get(pk=first.pk), by=staff, method="phone", satisfaction="satisfied"
        ),
        lambda i, seen: services.record_follow_up(
            FollowUp.objects.get(pk=second.pk), by=staff, method="phone", satisfaction="satisfied"
        ),
    )

    assert all(isinstance(r, FollowUp) for r in results), results
    assert set(tallies.differences().values()) == {0}
