from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, F, Q
from django.utils import timezone

from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    GridWorker,
    OfficialAssignment,
    Patrol,
    StaffAssignment,
    Subdistrict,
)
from issues.models import FollowUp, Issue, IssueEvent, Mediation, Notification

pytestmark = pytest.mark.django_db

User = get_user_model()

COUNTED = [
    District,
    Subdistrict,
    Community,
    Grid,
    Courtyard,
    User,
    GridWorker,
    StaffAssignment,
    OfficialAssignment,
    Patrol,
    Issue,
    IssueEvent,
    Mediation,
    FollowUp,
    Notification,
]


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture
def seeded() -> str:
    return seed()


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


def test_it_creates_the_four_demo_accounts_with_their_roles(seeded: str) -> None:
    gridworker = User.objects.get(username="gridworker")
    staff = User.objects.get(username="staff")
    official = User.objects.get(username="official")
    admin = User.objects.get(username="admin")
    for user in (gridworker, staff, official, admin):
        assert user.check_password("grassroots-demo"), user.username

    grids = gridworker.grid_worker.grids.all()
    assert {(g.community.name, g.name) for g in grids} == {
        ("冲赛康社区", "第一网格"),
        ("冲赛康社区", "第二网格"),
    }
    assert staff.staff_assignments.get().community.name == "冲赛康社区"
    assignment = official.official_assignments.get()
    assert (assignment.subdistrict.name, assignment.district) == ("八廓街道", None)
    assert admin.is_superuser
    assert admin.is_staff


def test_it_creates_the_real_places(seeded: str) -> None:
    assert District.objects.get(name="尼木县").is_county
    assert Subdistrict.objects.get(name="松盘乡").is_township
    assert Community.objects.get(name="色麦村").is_village
    community = Community.objects.get(name="冲赛康社区")
    assert community.subdistrict.name == "八廓街道"
    assert community.subdistrict.district.name == "城关区"
    courtyards = Courtyard.objects.filter(grid__community=community)
    assert {"格东大院", "西嘎奴大院"} <= set(courtyards.values_list("name", flat=True))
    for grid in Grid.objects.annotate(n=Count("courtyards")):
        assert 2 <= grid.n <= 5, grid
    for c in Community.objects.annotate(n=Count("grids")):
        assert 2 <= c.n <= 4, c


def test_it_leaves_the_same_data_when_run_twice(seeded: str) -> None:
    before = counts()

    out = seed()

    assert counts() == before
    assert "issues already" in out
    assert before["Issue"] >= 300


def test_it_covers_every_state_in_every_community(seeded: str) -> None:
    assert set(Issue.objects.values_list("status", flat=True)) == set(Issue.Status.values)
    for community in Community.objects.all():
        assert community.issues.exists(), community
    assert Issue.objects.overdue().exists()
    assert Issue.objects.filter(patrol__isnull=False, source=Issue.Source.PATROL).exists()


def test_it_writes_an_event_log_that_replays_to_each_issue_status(seeded: str) -> None:
    transitions: dict[int, list[IssueEvent]] = {}
    for event in IssueEvent.objects.exclude(to_status="").order_by("issue_id", "created_at", "pk"):
        transitions.setdefault(event.issue_id, []).append(event)
    now = timezone.now()

    for issue in Issue.objects.all():
        events = transitions[issue.pk]
        assert events[0].action == IssueEvent.Action.CREATE
        assert events[0].from_status == ""
        previous = events[0]
        for event in events[1:]:
            assert event.from_status == previous.to_status, issue
            assert event.created_at > previous.created_at, issue
            previous = event
        assert previous.to_status == issue.status, issue
        assert previous.created_at <= now
        if issue.status != Issue.Status.COLLECTED:
            assert issue.assignee_id is not None, issue
            assert issue.due_at is not None, issue


def test_it_keeps_the_state_timestamps_in_step_with_the_log(seeded: str) -> None:
    entered = {
        "listed": "listed_at",
        "in_progress": "started_at",
        "resolved": "resolved_at",
        "revisited": "revisited_at",
        "closed": "closed_at",
    }
    for issue in Issue.objects.prefetch_related("events"):
        last: dict[str, object] = {}
        for event in issue.events.all():
            if event.to_status in entered:
                last[event.to_status] = event.created_at
        if issue.status in entered:
            assert getattr(issue, entered[issue.status]) == last[issue.status], issue
        if issue.is_open:
            assert issue.resolved_at is None
            assert issue.revisited_at is None
        elif issue.status == Issue.Status.CLOSED:
            # Closed without resolving, with the reply to the resident that closing needs.
            assert issue.outcome
            assert issue.resolved_at is None
            assert any(e.action == "reply" for e in issue.events.all())
        else:
            assert issue.resolution


def test_it_mediates_every_resolved_dispute_before_resolving_it(seeded: str) -> None:
    disputes = Issue.objects.filter(
        category__is_dispute=True, status__in=Issue.CLOSED_STATUSES
    ).prefetch_related("mediations")
    assert disputes.exists()
    for issue in disputes:
        assert any(
            m.outcome != Mediation.Outcome.FAILED and m.created_at < issue.resolved_at
            for m in issue.mediations.all()
        ), issue


def test_it_schedules_follow_ups_for_resolved_and_revisited_issues(seeded: str) -> None:
    closed = Issue.objects.filter(status__in=Issue.CLOSED_STATUSES)
    assert not closed.filter(follow_ups__isnull=True).exists()
    revisited = Issue.objects.filter(status=Issue.Status.REVISITED)
    assert not revisited.exclude(follow_ups__done_at__isnull=False).exists()
    # A resolved issue has no visit done since it was resolved: one would have revisited it.
    assert not FollowUp.objects.filter(
        issue__status=Issue.Status.RESOLVED, done_at__gte=F("issue__resolved_at")
    ).exists()
    now = timezone.now()
    assert FollowUp.objects.due(now).exists()
    assert FollowUp.objects.filter(done_at__isnull=True, due_at__gt=now).exists()
    done = FollowUp.objects.filter(done_at__isnull=False)
    assert not done.filter(Q(method="") | Q(satisfaction="")).exists()


def test_it_leaves_unread_notifications_for_the_demo_users(seeded: str) -> None:
    unread = Notification.objects.unread()
    assert unread.filter(recipient__username="staff", kind="urgent").exists()
    assert unread.filter(recipient__username="gridworker", kind="assigned").exists()
    assert unread.filter(kind="follow_up_due", follow_up__isnull=False).exists()


def test_it_leaves_beat_nothing_to_send_about_the_past(seeded: str, mailoutbox) -> None:
    """Starting beat after seeding must not mail hundreds of historical messages."""
    from django.conf import settings

    from issues import notifications, services

    now = timezone.now()
    assert Notification.objects.exists()
    assert not Notification.objects.filter(delivered_at__isnull=True).exists()
    due = FollowUp.objects.due(now)
    assert due.exists()
    assert not due.exclude(reminded_on=timezone.localdate(now)).exists()
    overdue = FollowUp.objects.overdue(now, settings.FOLLOW_UP_GRACE)
    assert not overdue.filter(escalated_at__isnull=True).exists()
    before = Notification.objects.count()

    # What beat runs first, as it would run it: each finds nothing to do.
    assert services.remind_due_follow_ups(now) == 0
    assert services.escalate_overdue_follow_ups(now) == 0
    assert services.sweep_unscheduled_follow_ups(now) == 0
    assert notifications.deliver_pending(now, older_than=timedelta(0)) == 0

    assert Notification.objects.count() == before
    assert mailoutbox == []


def test_it_prints_each_courtyards_public_link_and_service_numbers(seeded: str) -> None:
    from residents.models import CourtyardLink, ServiceNumber

    links = CourtyardLink.objects.current().select_related("courtyard")
    assert links.count() == Courtyard.objects.count()
    for link in links:
        assert f"{link.courtyard.name}: {link.public_url}" in seeded
    assert ServiceNumber.objects.filter(community__name="慈松塘社区").exists()
    # Idempotent: a second run issues no new links.
    seed()
    assert CourtyardLink.objects.count() == links.count()
