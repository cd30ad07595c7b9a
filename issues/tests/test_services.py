"""Every state change through the services: what each one writes, and what each one refuses.

The clock is frozen (time_machine), so entered-at timestamps and due dates compare exactly.
Tasks are replaced by a recorder where a test checks that a service enqueues them, and are
called directly elsewhere, as the worker would.
"""

import uuid
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from grassroots.celery import app
from grids.models import Patrol
from grids.tests.factories import StaffAssignmentFactory, UserFactory
from issues import notifications, services, tasks, workflow
from issues.models import FollowUp, Issue, IssueEvent, Mediation, Notification, Urgency
from issues.services import TransitionRefused
from issues.tests.factories import FollowUpFactory, IssueFactory, MediationFactory, category

pytestmark = pytest.mark.django_db

S = Issue.Status
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

# What a refused action must leave as it was.
FIELDS = [
    "status",
    "listed_at",
    "started_at",
    "resolved_at",
    "revisited_at",
    "assignee_id",
    "due_at",
    "resolution",
    "amount_recovered",
    "last_activity_at",
]


@pytest.fixture(autouse=True)
def frozen(time_machine) -> datetime:
    time_machine.move_to(NOW, tick=False)
    return NOW


@pytest.fixture
def enqueued(monkeypatch) -> list[tuple[str, tuple]]:
    """The tasks services enqueue, recorded instead of sent to the broker."""
    calls: list[tuple[str, tuple]] = []

    def send_task(name: str, args: tuple = (), *rest: object, **kwargs: object) -> None:
        calls.append((name.removeprefix("issues.tasks."), tuple(args)))

    monkeypatch.setattr(app, "send_task", send_task)
    return calls


def snapshot(issue: Issue) -> dict:
    return Issue.objects.filter(pk=issue.pk).values(*FIELDS).get()


def fresh(issue: Issue) -> Issue:
    """The issue as another browser tab would load it."""
    return Issue.objects.select_related("category").get(pk=issue.pk)


def notified(kind: str, issue: Issue | None = None) -> set:
    rows = Notification.objects.filter(kind=kind)
    if issue is not None:
        rows = rows.filter(issue=issue)
    return {n.recipient for n in rows.select_related("recipient")}


def assert_refused_and_unchanged(call, issue: Issue) -> TransitionRefused:
    """Call a service that must refuse: no field, event or notification may change."""
    before = snapshot(issue)
    events, sent = issue.events.count(), Notification.objects.count()
    with pytest.raises(TransitionRefused) as refused:
        call()
    assert snapshot(issue) == before
    assert issue.events.count() == events
    assert Notification.objects.count() == sent
    return refused.value


# --- Each allowed actor, through perform ---------------------------------------------------

DATA = {
    "list": {},
    "handle_now": {},
    "start": {},
    "resolve": {"resolution": "已重新铺设路面。", "reply": "路面已重新铺好。"},
    "reopen": {"reason": "住户反映雨后仍有积水。"},
}
SOURCE = {
    "list": S.COLLECTED,
    "handle_now": S.COLLECTED,
    "start": S.LISTED,
    "resolve": S.IN_PROGRESS,
    "reopen": S.RESOLVED,
}


@pytest.fixture
def make_issue(courtyard, assignee):
    def make(action: str, *, created_by=None, assignee_user=assignee, **kwargs) -> Issue:
        kwargs.setdefault("urgency", Urgency.URGENT if action == "handle_now" else Urgency.NORMAL)
        kwargs.setdefault("status", SOURCE[action])
        return IssueFactory(
            courtyard=courtyard,
            created_by=created_by or UserFactory(),
            assignee=assignee_user,
            **kwargs,
        )

    return make


@pytest.mark.parametrize(
    ("action", "role"),
    [
        ("list", "staff"),
        ("list", "admin_user"),
        ("handle_now", "staff"),
        ("handle_now", "logger"),
        ("start", "staff"),
        ("start", "assignee"),
        ("start", "worker_assignee"),
        ("resolve", "staff"),
        ("resolve", "assignee"),
        ("resolve", "worker_assignee"),
        ("reopen", "staff"),
        ("reopen", "admin_user"),
    ],
)
def test_it_lets_each_allowed_actor_act(request, make_issue, action, role):
    if role == "logger":
        user = request.getfixturevalue("grid_worker")
        issue = make_issue(action, created_by=user, assignee_user=None)
    elif role == "worker_assignee":
        user = request.getfixturevalue("grid_worker")
        issue = make_issue(action, assignee_user=user)
    else:
        user = request.getfixturevalue(role)
        issue = make_issue(action)
    target = workflow.TRANSITIONS[action].target

    event = services.perform(issue, action, by=user, seen_status=issue.status, **DATA[action])

    issue.refresh_from_db()
    assert issue.status == target
    assert getattr(issue, workflow.ENTERED_AT[target]) == NOW
    assert issue.last_activity_at == NOW
    # The timeline is built from this row: exactly one event, with actor and both states
    # (resolving also writes the reply to the resident that it needs).
    assert issue.events.exclude(action=IssueEvent.Action.REPLY).get() == event
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        user,
        action,
        SOURCE[action],
        target,
    )


@pytest.mark.parametrize("action", ["revisit", "assign", "comment", "delete"])
def test_it_refuses_to_perform_anything_but_a_persons_transition(make_issue, staff, action):
    issue = make_issue("reopen")

    assert_refused_and_unchanged(
        lambda: services.perform(issue, action, by=staff, seen_status=issue.status), issue
    )


# --- Wrong actors and wrong states ----------------------------------------------------------


@pytest.mark.parametrize("action", sorted(DATA))
@pytest.mark.parametrize("role", ["official", "district_official", "outsider", "other_grid_worker"])
def test_it_refuses_each_action_to_someone_without_a_part_in_it(request, make_issue, action, role):
    issue = make_issue(action)
    user = request.getfixturevalue(role)

    refused = assert_refused_and_unchanged(
        lambda: services.perform(issue, action, by=user, seen_status=issue.status, **DATA[action]),
        issue,
    )
    assert str(refused) == _("You are not allowed to do that to this issue.")


@pytest.mark.parametrize(
    ("action", "role"),
    [
        # A grid worker of the issue's own grid, neither its logger nor its assignee.
        ("list", "grid_worker"),
        ("handle_now", "grid_worker"),
        ("start", "grid_worker"),
        ("resolve", "grid_worker"),
        ("reopen", "grid_worker"),
        # The assignee may start and resolve, but neither list nor reopen.
        ("list", "worker_assignee"),
        ("reopen", "worker_assignee"),
        # Whoever logged it may handle it at once, nothing more.
        ("list", "logger"),
        ("start", "logger"),
        ("resolve", "logger"),
        ("reopen", "logger"),
    ],
)
def test_it_refuses_each_action_to_the_wrong_grid_worker(request, make_issue, action, role):
    user = request.getfixturevalue("grid_worker")
    issue = make_issue(
        action,
        created_by=user if role == "logger" else None,
        assignee_user=user if role == "worker_assignee" else None,
    )

    assert_refused_and_unchanged(
        lambda: services.perform(issue, action, by=user, seen_status=issue.status, **DATA[action]),
        issue,
    )


@pytest.mark.parametrize(
    ("action", "status"),
    [
        (action, status)
        for action in sorted(DATA)
        for status in S.values
        if status not in workflow.TRANSITIONS[action].sources
    ],
)
def test_it_refuses_each_action_in_a_wrong_state(make_issue, staff, action, status):
    issue = make_issue(action, status=status)

    refused = assert_refused_and_unchanged(
        lambda: services.perform(issue, action, by=staff, seen_status=issue.status, **DATA[action]),
        issue,
    )
    # The message names the state the issue is in.
    assert str(Issue.Status(status).label) in str(refused)


def test_it_refuses_handle_now_to_a_logger_who_no_longer_walks_the_grid(
    grid_worker, other_courtyard
):
    issue = IssueFactory(courtyard=other_courtyard, created_by=grid_worker, urgency="urgent")

    assert_refused_and_unchanged(
        lambda: services.handle_now(issue, by=grid_worker, seen_status="collected"), issue
    )


# --- The system's own transitions -----------------------------------------------------------


def test_it_lets_the_system_revisit(courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED)

    event = services.transition_issue(issue, "revisit", by=None, seen_status="resolved")

    issue.refresh_from_db()
    assert (issue.status, issue.revisited_at) == (S.REVISITED, NOW)
    assert issue.events.get() == event
    assert (event.actor, event.from_status, event.to_status) == (None, "resolved", "revisited")


@pytest.mark.parametrize("role", ["staff", "admin_user", "assignee"])
def test_it_never_lets_a_person_revisit(request, courtyard, assignee, role):
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED, assignee=assignee)

    assert_refused_and_unchanged(
        lambda: services.transition_issue(
            issue, "revisit", by=request.getfixturevalue(role), seen_status="resolved"
        ),
        issue,
    )


@pytest.mark.parametrize(("action", "status"), [("start", "listed"), ("list", "collected")])
def test_it_never_lets_the_system_do_a_persons_action(courtyard, action, status):
    issue = IssueFactory(courtyard=courtyard, status=status)

    assert_refused_and_unchanged(
        lambda: services.transition_issue(issue, action, by=None, seen_status=status), issue
    )


# --- list -------------------------------------------------------------------------------------


def test_it_lists_with_an_assignee_and_the_category_due_date(courtyard, staff, grid_worker):
    issue = IssueFactory(courtyard=courtyard, category=category("sanitation"))

    event = services.list_issue(issue, by=staff, seen_status="collected", assignee=grid_worker)

    issue.refresh_from_db()
    assert (issue.status, issue.listed_at, issue.assignee) == (S.LISTED, NOW, grid_worker)
    assert issue.due_at == NOW + timedelta(days=3)
    assert issue.events.get() == event
    assert (event.actor, event.from_status, event.to_status) == (staff, "collected", "listed")
    assert notified(Notification.Kind.ASSIGNED, issue) == {grid_worker}


def test_it_lists_with_a_chosen_due_date_and_no_assignee(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard)
    due = NOW + timedelta(days=2)

    services.list_issue(issue, by=staff, seen_status="collected", due_at=due)

    issue.refresh_from_db()
    assert (issue.status, issue.due_at, issue.assignee) == (S.LISTED, due, None)
    assert not Notification.objects.exists()


def test_it_does_not_notify_staff_who_assign_themselves(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard)

    services.list_issue(issue, by=staff, seen_status="collected", assignee=staff)

    assert fresh(issue).assignee == staff
    assert not Notification.objects.exists()


@pytest.mark.parametrize("role", ["outsider", "other_grid_worker", "official"])
def test_it_refuses_to_list_for_someone_outside_the_issue(request, courtyard, staff, role):
    issue = IssueFactory(courtyard=courtyard)

    assert_refused_and_unchanged(
        lambda: services.list_issue(
            issue, by=staff, seen_status="collected", assignee=request.getfixturevalue(role)
        ),
        issue,
    )


# --- handle_now -------------------------------------------------------------------------------


def test_it_handles_an_urgent_issue_at_once_with_the_logger_as_assignee(courtyard, grid_worker):
    issue = IssueFactory(
        courtyard=courtyard, created_by=grid_worker, category=category("electrical")
    )

    event = services.handle_now(issue, by=grid_worker, seen_status="collected")

    issue.refresh_from_db()
    assert (issue.status, issue.started_at, issue.assignee) == (S.IN_PROGRESS, NOW, grid_worker)
    assert issue.due_at == NOW + timedelta(days=1)
    assert (event.actor, event.from_status, event.to_status) == (
        grid_worker,
        "collected",
        "in_progress",
    )


def test_it_keeps_the_assignee_when_staff_handle_at_once(courtyard, staff, assignee):
    issue = IssueFactory(courtyard=courtyard, urgency="urgent", assignee=assignee)

    services.handle_now(issue, by=staff, seen_status="collected")

    assert fresh(issue).assignee == assignee


@pytest.mark.parametrize("role", ["staff", "logger"])
def test_it_refuses_handle_now_on_a_normal_issue(courtyard, staff, grid_worker, role):
    user = staff if role == "staff" else grid_worker
    issue = IssueFactory(courtyard=courtyard, created_by=grid_worker, urgency="normal")

    refused = assert_refused_and_unchanged(
        lambda: services.handle_now(issue, by=user, seen_status="collected"), issue
    )
    assert str(refused) == _("Only urgent issues can be handled at once; list it.")


# --- start ------------------------------------------------------------------------------------


def test_it_starts_a_listed_issue(courtyard, grid_worker):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, assignee=grid_worker)

    event = services.start_issue(issue, by=grid_worker, seen_status="listed", note="今天去现场。")

    issue.refresh_from_db()
    assert (issue.status, issue.started_at) == (S.IN_PROGRESS, NOW)
    assert issue.events.get() == event
    assert (event.actor, event.note) == (grid_worker, "今天去现场。")


# --- resolve ----------------------------------------------------------------------------------


def test_it_resolves_with_the_resolution_and_enqueues_the_follow_ups(
    courtyard, assignee, enqueued, django_capture_on_commit_callbacks
):
    # No phone: no text message to the resident among the callbacks.
    issue = IssueFactory(
        courtyard=courtyard, status=S.IN_PROGRESS, assignee=assignee, resident_phone=""
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        event = services.resolve_issue(
            issue,
            by=assignee,
            seen_status="in_progress",
            resolution="  已重新铺设路面。 ",
            reply="已答复居民。",
        )

    issue.refresh_from_db()
    assert (issue.status, issue.resolved_at, issue.resolution) == (
        S.RESOLVED,
        NOW,
        "已重新铺设路面。",
    )
    # The resolution's event, and the reply to the resident that resolving needs.
    assert list(issue.events.values_list("action", flat=True)) == ["reply", "resolve"]
    assert issue.events.last() == event
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        assignee,
        "in_progress",
        "resolved",
        "已重新铺设路面。",
    )
    assert len(callbacks) == 1
    assert enqueued == [("schedule_follow_ups", (issue.pk,))]


def test_it_records_the_amount_recovered(courtyard, staff):
    issue = IssueFactory(
        courtyard=courtyard,
        status=S.IN_PROGRESS,
        category=category("wage_arrears"),
        amount_owed=Decimal("48000.00"),
    )
    MediationFactory(issue=issue)

    services.resolve_issue(
        issue,
        by=staff,
        seen_status="in_progress",
        resolution="包工头已支付全部工资。",
        amount_recovered=Decimal("48000.00"),
        reply="已答复居民。",
    )

    assert fresh(issue).amount_recovered == Decimal("48000.00")


@pytest.mark.parametrize("resolution", ["", "   \n"])
def test_it_refuses_to_resolve_without_a_resolution(
    courtyard, staff, resolution, django_capture_on_commit_callbacks
):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)

    with django_capture_on_commit_callbacks() as callbacks:
        assert_refused_and_unchanged(
            lambda: services.resolve_issue(
                issue,
                by=staff,
                seen_status="in_progress",
                resolution=resolution,
                reply="已答复居民。",
            ),
            issue,
        )
    assert callbacks == []


def test_it_refuses_to_resolve_a_dispute_without_a_mediation(
    courtyard, staff, django_capture_on_commit_callbacks
):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=category("dispute"))

    with django_capture_on_commit_callbacks() as callbacks:
        refused = assert_refused_and_unchanged(
            lambda: services.resolve_issue(
                issue,
                by=staff,
                seen_status="in_progress",
                resolution="双方已和解。",
                reply="已答复居民。",
            ),
            issue,
        )
    assert str(refused) == _("Record the mediation before resolving a dispute.")
    assert callbacks == []


def test_it_refuses_to_resolve_a_dispute_whose_only_mediation_failed(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=category("dispute"))
    MediationFactory(issue=issue, outcome=Mediation.Outcome.FAILED, agreement="")

    assert_refused_and_unchanged(
        lambda: services.resolve_issue(
            issue,
            by=staff,
            seen_status="in_progress",
            resolution="双方已和解。",
            reply="已答复居民。",
        ),
        issue,
    )


@pytest.mark.parametrize("outcome", [Mediation.Outcome.AGREEMENT, Mediation.Outcome.PARTIAL])
def test_it_resolves_a_dispute_after_a_mediation(courtyard, staff, outcome):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=category("dispute"))
    MediationFactory(issue=issue, outcome=Mediation.Outcome.FAILED, agreement="")
    MediationFactory(issue=issue, outcome=outcome)

    services.resolve_issue(
        issue, by=staff, seen_status="in_progress", resolution="双方已和解。", reply="已答复居民。"
    )

    assert fresh(issue).status == S.RESOLVED


def test_it_still_resolves_when_the_broker_is_down(
    courtyard, staff, monkeypatch, django_capture_on_commit_callbacks
):
    """The resolution is committed; the sweep schedules the visits the task did not."""

    def broker_down(*args: object, **kwargs: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(app, "send_task", broker_down)
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)

    with django_capture_on_commit_callbacks(execute=True):
        services.resolve_issue(
            issue, by=staff, seen_status="in_progress", resolution="已修复。", reply="已答复居民。"
        )

    assert fresh(issue).status == S.RESOLVED
    assert not issue.follow_ups.exists()


# --- reopen -----------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [S.RESOLVED, S.REVISITED])
def test_it_reopens_with_a_reason_and_tells_assignee_and_staff(
    courtyard, staff, assignee, grid_worker, status
):
    issue = IssueFactory(
        courtyard=courtyard,
        status=status,
        assignee=grid_worker,
        resolved_at=NOW - timedelta(days=9),
        revisited_at=NOW - timedelta(days=2) if status == S.REVISITED else None,
    )

    event = services.reopen_issue(issue, by=staff, seen_status=status, reason=" 仍有积水。 ")

    issue.refresh_from_db()
    assert (issue.status, issue.started_at) == (S.IN_PROGRESS, NOW)
    assert (issue.resolved_at, issue.revisited_at) == (None, None)
    assert issue.events.get() == event
    assert (event.actor, event.from_status, event.to_status, event.note) == (
        staff,
        status,
        "in_progress",
        "仍有积水。",
    )
    # The one who reopened it is not told of it.
    assert notified(Notification.Kind.REOPENED, issue) == {grid_worker, assignee}


@pytest.mark.parametrize("reason", ["", "  "])
def test_it_refuses_to_reopen_without_a_reason(courtyard, staff, reason):
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED)

    assert_refused_and_unchanged(
        lambda: services.reopen_issue(issue, by=staff, seen_status="resolved", reason=reason),
        issue,
    )


def test_it_drops_the_pending_visits_when_staff_reopen(time_machine, courtyard, staff, grid_worker):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, assignee=grid_worker)
    services.resolve_issue(
        issue,
        by=grid_worker,
        seen_status="in_progress",
        resolution="已修复。",
        reply="已答复居民。",
    )
    services.schedule_follow_ups(fresh(issue))
    assert issue.follow_ups.count() == 1

    services.reopen_issue(fresh(issue), by=staff, seen_status="resolved", reason="又坏了。")

    # Resolving again schedules the visits afresh, counted from the new resolution.
    assert not issue.follow_ups.exists()
    later = NOW + timedelta(days=1)
    time_machine.move_to(later, tick=False)
    services.resolve_issue(
        fresh(issue),
        by=grid_worker,
        seen_status="in_progress",
        resolution="已再次修复。",
        reply="已答复居民。",
    )
    assert services.schedule_follow_ups(fresh(issue)) == 1
    assert list(issue.follow_ups.values_list("visit_no", "due_at")) == [
        (1, later + timedelta(days=7))
    ]


# --- Stale updates: one wins, the other changes nothing ---------------------------------------


def test_it_refuses_a_stale_list(courtyard, staff, assignee):
    issue = IssueFactory(courtyard=courtyard)
    stale = fresh(issue)
    services.list_issue(issue, by=staff, seen_status="collected")

    refused = assert_refused_and_unchanged(
        lambda: services.list_issue(stale, by=assignee, seen_status="collected", assignee=assignee),
        issue,
    )
    assert "拉姆" in str(refused)


def test_it_refuses_a_stale_handle_now(courtyard, staff, grid_worker):
    issue = IssueFactory(courtyard=courtyard, created_by=grid_worker, urgency="urgent")
    stale = fresh(issue)
    services.handle_now(issue, by=staff, seen_status="collected")

    refused = assert_refused_and_unchanged(
        lambda: services.handle_now(stale, by=grid_worker, seen_status="collected"), issue
    )
    assert "拉姆" in str(refused)


def test_it_refuses_a_stale_list_after_handle_now(courtyard, staff, grid_worker):
    issue = IssueFactory(courtyard=courtyard, created_by=grid_worker, urgency="urgent")
    stale = fresh(issue)
    services.handle_now(issue, by=grid_worker, seen_status="collected")

    refused = assert_refused_and_unchanged(
        lambda: services.list_issue(stale, by=staff, seen_status="collected"), issue
    )
    assert "扎西" in str(refused)


def test_it_refuses_a_stale_start(courtyard, staff, assignee):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, assignee=assignee)
    stale = fresh(issue)
    services.start_issue(issue, by=staff, seen_status="listed")

    refused = assert_refused_and_unchanged(
        lambda: services.start_issue(stale, by=assignee, seen_status="listed"), issue
    )
    assert "拉姆" in str(refused)


def test_it_refuses_a_stale_resolve(
    courtyard, staff, assignee, enqueued, django_capture_on_commit_callbacks
):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, assignee=assignee)
    stale = fresh(issue)
    services.resolve_issue(
        issue, by=assignee, seen_status="in_progress", resolution="已修复。", reply="已答复居民。"
    )

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        refused = assert_refused_and_unchanged(
            lambda: services.resolve_issue(
                stale,
                by=staff,
                seen_status="in_progress",
                resolution="另一种说法。",
                reply="已答复居民。",
            ),
            issue,
        )
    assert "央金" in str(refused)
    assert fresh(issue).resolution == "已修复。"
    assert callbacks == []


def test_it_refuses_a_stale_reopen(courtyard, staff, assignee):
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED)
    stale = fresh(issue)
    services.reopen_issue(issue, by=assignee, seen_status="resolved", reason="又坏了。")

    refused = assert_refused_and_unchanged(
        lambda: services.reopen_issue(stale, by=staff, seen_status="resolved", reason="漏水。"),
        issue,
    )
    assert "央金" in str(refused)


def test_it_refuses_a_stale_revisit(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED)
    stale = fresh(issue)
    services.reopen_issue(issue, by=staff, seen_status="resolved", reason="又坏了。")

    refused = assert_refused_and_unchanged(
        lambda: services.transition_issue(stale, "revisit", by=None, seen_status="resolved"),
        issue,
    )
    assert "拉姆" in str(refused)


def test_it_refuses_a_stale_assignment(courtyard, staff, assignee, grid_worker):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)
    services.assign_issue(issue, by=assignee, assignee=grid_worker, seen_assignee_id=None)

    refused = assert_refused_and_unchanged(
        lambda: services.assign_issue(
            fresh(issue), by=staff, assignee=staff, seen_assignee_id=None
        ),
        issue,
    )
    assert "央金" in str(refused)


# --- assign -----------------------------------------------------------------------------------


def test_it_reassigns_an_open_issue_and_tells_the_new_assignee(
    courtyard, staff, assignee, grid_worker
):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, assignee=assignee)
    due = NOW + timedelta(days=1)

    event = services.assign_issue(
        issue, by=staff, assignee=grid_worker, seen_assignee_id=assignee.pk, due_at=due
    )

    issue.refresh_from_db()
    assert (issue.assignee, issue.due_at, issue.status) == (grid_worker, due, S.IN_PROGRESS)
    assert issue.events.get() == event
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        staff,
        IssueEvent.Action.ASSIGN,
        "",
        "",
    )
    assert notified(Notification.Kind.ASSIGNED, issue) == {grid_worker}


@pytest.mark.parametrize("role", ["grid_worker", "official", "outsider", "other_grid_worker"])
def test_it_refuses_assignment_by_anyone_but_staff(request, courtyard, grid_worker, role):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, assignee=grid_worker)

    assert_refused_and_unchanged(
        lambda: services.assign_issue(
            issue,
            by=request.getfixturevalue(role),
            assignee=grid_worker,
            seen_assignee_id=grid_worker.pk,
        ),
        issue,
    )


@pytest.mark.parametrize("status", [S.RESOLVED, S.REVISITED])
def test_it_refuses_to_reassign_a_closed_issue(courtyard, staff, assignee, status):
    issue = IssueFactory(courtyard=courtyard, status=status)

    assert_refused_and_unchanged(
        lambda: services.assign_issue(issue, by=staff, assignee=assignee, seen_assignee_id=None),
        issue,
    )


@pytest.mark.parametrize("role", ["outsider", "other_grid_worker", "official"])
def test_it_refuses_to_assign_someone_outside_the_issue(request, courtyard, staff, role):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)

    assert_refused_and_unchanged(
        lambda: services.assign_issue(
            issue, by=staff, assignee=request.getfixturevalue(role), seen_assignee_id=None
        ),
        issue,
    )


# --- comments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "assignee", "grid_worker", "admin_user"])
def test_it_adds_a_comment(request, courtyard, role):
    issue = IssueFactory(courtyard=courtyard, last_activity_at=NOW - timedelta(days=1))
    user = request.getfixturevalue(role)

    event = services.comment_on_issue(issue, by=user, note=" 已电话联系住户。 ")

    assert issue.events.get() == event
    assert (event.actor, event.action, event.note) == (user, "comment", "已电话联系住户。")
    assert (event.from_status, event.to_status) == ("", "")
    assert fresh(issue).last_activity_at == NOW


@pytest.mark.parametrize("role", ["official", "district_official", "outsider", "other_grid_worker"])
def test_it_refuses_a_comment_from_someone_without_a_part(request, courtyard, role):
    issue = IssueFactory(courtyard=courtyard)

    assert_refused_and_unchanged(
        lambda: services.comment_on_issue(issue, by=request.getfixturevalue(role), note="看看。"),
        issue,
    )


def test_it_refuses_an_empty_comment(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard)

    assert_refused_and_unchanged(
        lambda: services.comment_on_issue(issue, by=staff, note="  "), issue
    )


# --- create -----------------------------------------------------------------------------------


def test_it_logs_a_concern_in_the_grid_workers_courtyard(courtyard, grid_worker, community):
    issue, created = services.create_issue(
        by=grid_worker,
        courtyard=courtyard,
        category=category("road"),
        title=" 院内路面破损 ",
        description="门口有一个大坑。",
        resident_name="卓玛",
        resident_phone="13812341234",
    )

    assert created
    issue.refresh_from_db()
    assert (issue.status, issue.created_at, issue.created_by) == (S.COLLECTED, NOW, grid_worker)
    assert (issue.title, issue.urgency, issue.source) == ("院内路面破损", "normal", "visit")
    assert (issue.grid, issue.community) == (courtyard.grid, community)
    assert (issue.subdistrict_id, issue.district_id) == (
        community.subdistrict_id,
        community.subdistrict.district_id,
    )
    assert "路面" in issue.search_text.split()
    event = issue.events.get()
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        grid_worker,
        "create",
        "",
        "collected",
    )
    # A normal concern tells no one.
    assert not Notification.objects.exists()


def test_it_creates_one_issue_for_a_resent_form(courtyard, grid_worker):
    token = uuid.uuid4()
    data = {"by": grid_worker, "courtyard": courtyard, "category": category("road")}

    first, created = services.create_issue(**data, title="路面破损", submission_token=token)
    again, created_again = services.create_issue(**data, title="路面破损", submission_token=token)

    assert (created, created_again) == (True, False)
    assert again == first
    assert Issue.objects.count() == 1
    assert IssueEvent.objects.count() == 1


def test_it_creates_two_issues_for_two_forms(courtyard, grid_worker):
    data = {"by": grid_worker, "courtyard": courtyard, "category": category("road")}

    services.create_issue(**data, title="路面破损", submission_token=uuid.uuid4())
    services.create_issue(**data, title="路面破损", submission_token=uuid.uuid4())

    assert Issue.objects.count() == 2


@pytest.mark.parametrize(
    ("role", "place"),
    [
        ("grid_worker", "other_courtyard"),
        ("other_grid_worker", "courtyard"),
        ("outsider", "courtyard"),
        ("official", "courtyard"),
        ("district_official", "courtyard"),
    ],
)
def test_it_refuses_a_courtyard_outside_the_users_grids(request, role, place):
    user, courtyard = request.getfixturevalue(role), request.getfixturevalue(place)

    with pytest.raises(TransitionRefused):
        services.create_issue(
            by=user, courtyard=courtyard, category=category("road"), title="路面破损"
        )

    assert not Issue.objects.exists()
    assert not IssueEvent.objects.exists()


def test_it_lets_staff_log_in_any_courtyard_of_their_community(staff, other_courtyard):
    issue, created = services.create_issue(
        by=staff, courtyard=other_courtyard, category=category("road"), title="路面破损"
    )

    assert created
    assert issue.grid == other_courtyard.grid


def test_it_tells_the_communitys_staff_of_an_urgent_concern(
    courtyard, grid_worker, staff, assignee, outsider, enqueued, django_capture_on_commit_callbacks
):
    StaffAssignmentFactory(community=courtyard.grid.community, user__is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        issue, _created = services.create_issue(
            by=grid_worker,
            courtyard=courtyard,
            category=category("electrical"),
            title="屋顶电线裸露",
        )

    assert issue.urgency == Urgency.URGENT
    assert notified(Notification.Kind.URGENT, issue) == {staff, assignee}
    ids = sorted(Notification.objects.values_list("pk", flat=True))
    assert [(name, sorted(args[0])) for name, args in enqueued] == [("deliver_notifications", ids)]


def test_it_does_not_tell_staff_who_log_an_urgent_concern_themselves(courtyard, staff, assignee):
    services.create_issue(
        by=staff, courtyard=courtyard, category=category("road"), title="井盖缺失", urgency="urgent"
    )

    assert notified(Notification.Kind.URGENT) == {assignee}


def test_it_links_a_hazard_to_the_open_patrol(courtyard, grid, grid_worker):
    patrol = Patrol.objects.create(grid_worker=grid_worker, grid=grid, started_at=NOW)

    issue, _created = services.create_issue(
        by=grid_worker,
        courtyard=courtyard,
        category=category("drainage"),
        title="雨后积水",
        patrol=patrol,
    )

    assert (issue.patrol, issue.source) == (patrol, Issue.Source.PATROL)


@pytest.mark.parametrize("whose", ["someone_elses", "ended"])
def test_it_refuses_a_patrol_that_is_not_open_and_mine(courtyard, grid, grid_worker, whose):
    patrol = Patrol.objects.create(
        grid_worker=UserFactory() if whose == "someone_elses" else grid_worker,
        grid=grid,
        started_at=NOW - timedelta(hours=2),
        ended_at=NOW - timedelta(hours=1) if whose == "ended" else None,
    )

    with pytest.raises(TransitionRefused):
        services.create_issue(
            by=grid_worker,
            courtyard=courtyard,
            category=category("road"),
            title="路面破损",
            patrol=patrol,
        )

    assert not Issue.objects.exists()


# --- mediation --------------------------------------------------------------------------------


def test_it_records_a_mediation(courtyard, staff, grid_worker):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=category("dispute"))

    mediation = services.record_mediation(
        issue,
        by=staff,
        mediator=grid_worker,
        mediated_on=timezone.localdate(),
        parties=" 住户甲、住户乙 ",
        place="社区调解室",
        method=Mediation.Method.COMMITTEE,
        outcome=Mediation.Outcome.AGREEMENT,
        agreement="双方同意共同承担维修费用。",
    )

    mediation.refresh_from_db()
    assert (mediation.mediator, mediation.created_by, mediation.parties) == (
        grid_worker,
        staff,
        "住户甲、住户乙",
    )
    event = issue.events.get()
    assert (event.actor, event.action) == (staff, "mediate")
    assert "双方同意共同承担维修费用。" in event.note
    assert fresh(issue).status == S.IN_PROGRESS


def test_it_makes_the_recorder_the_mediator_by_default(courtyard, grid_worker):
    issue = IssueFactory(courtyard=courtyard, category=category("dispute"))

    mediation = services.record_mediation(
        issue,
        by=grid_worker,
        mediated_on=timezone.localdate(),
        parties="住户甲、住户乙",
        method=Mediation.Method.IN_PERSON,
        outcome=Mediation.Outcome.FAILED,
    )

    assert mediation.mediator == grid_worker
    assert issue.events.get().note == str(Mediation.Outcome.FAILED.label)


@pytest.mark.parametrize("role", ["official", "outsider", "other_grid_worker"])
def test_it_refuses_a_mediation_from_someone_without_a_part(request, courtyard, role):
    issue = IssueFactory(courtyard=courtyard, category=category("dispute"))

    with pytest.raises(TransitionRefused):
        services.record_mediation(
            issue,
            by=request.getfixturevalue(role),
            mediated_on=date(2026, 3, 1),
            parties="住户甲、住户乙",
            method=Mediation.Method.IN_PERSON,
            outcome=Mediation.Outcome.AGREEMENT,
        )

    assert not Mediation.objects.exists()
    assert not issue.events.exists()


def test_it_refuses_a_mediation_on_a_closed_issue(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, category=category("dispute"), status=S.RESOLVED)

    with pytest.raises(TransitionRefused):
        services.record_mediation(
            issue,
            by=staff,
            mediated_on=date(2026, 3, 1),
            parties="住户甲、住户乙",
            method=Mediation.Method.IN_PERSON,
            outcome=Mediation.Outcome.AGREEMENT,
        )

    assert not Mediation.objects.exists()


# --- Scheduling follow-up visits --------------------------------------------------------------


@pytest.fixture
def resolved_dispute(courtyard, staff, grid_worker) -> Issue:
    """A dispute mediated by the grid worker and resolved by staff, with no visits yet."""
    issue = IssueFactory(
        courtyard=courtyard, status=S.IN_PROGRESS, category=category("dispute"), assignee=staff
    )
    MediationFactory(issue=issue, mediator=UserFactory(), outcome=Mediation.Outcome.FAILED)
    MediationFactory(issue=issue, mediator=grid_worker, outcome=Mediation.Outcome.AGREEMENT)
    services.resolve_issue(
        issue, by=staff, seen_status="in_progress", resolution="双方已和解。", reply="已答复居民。"
    )
    return fresh(issue)


def test_it_schedules_a_disputes_visits_for_its_mediator(resolved_dispute, grid_worker):
    assert tasks.schedule_follow_ups(resolved_dispute.pk) == 3

    visits = list(resolved_dispute.follow_ups.values_list("visit_no", "due_at", "assignee"))
    assert visits == [
        (1, NOW + timedelta(days=3), grid_worker.pk),
        (2, NOW + timedelta(days=30), grid_worker.pk),
        (3, NOW + timedelta(days=90), grid_worker.pk),
    ]
    event = resolved_dispute.events.get(action=IssueEvent.Action.SCHEDULE)
    assert event.actor is None
    assert event.note == "2026-03-05, 2026-04-01, 2026-05-31"


def test_it_schedules_visits_once_when_run_twice(resolved_dispute):
    assert tasks.schedule_follow_ups(resolved_dispute.pk) == 3
    assert tasks.schedule_follow_ups(resolved_dispute.pk) == 0

    assert resolved_dispute.follow_ups.count() == 3
    assert resolved_dispute.events.filter(action=IssueEvent.Action.SCHEDULE).count() == 1


def test_it_schedules_an_ordinary_issues_visit_for_its_resolver(courtyard, grid_worker):
    issue = IssueFactory(
        courtyard=courtyard,
        status=S.IN_PROGRESS,
        category=category("sanitation"),
        assignee=grid_worker,
    )
    services.resolve_issue(
        issue,
        by=grid_worker,
        seen_status="in_progress",
        resolution="已清运。",
        reply="已答复居民。",
    )

    assert services.schedule_follow_ups(fresh(issue)) == 1

    visit = issue.follow_ups.get()
    assert (visit.visit_no, visit.due_at, visit.assignee) == (
        1,
        NOW + timedelta(days=7),
        grid_worker,
    )


def test_it_takes_the_offsets_from_the_category(courtyard, staff):
    road = category("road")
    road.follow_up_days = [30, 1, 1]
    road.save()
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, category=road)
    services.resolve_issue(
        issue, by=staff, seen_status="in_progress", resolution="已修复。", reply="已答复居民。"
    )

    services.schedule_follow_ups(fresh(issue))

    assert list(issue.follow_ups.values_list("due_at", flat=True)) == [
        NOW + timedelta(days=1),
        NOW + timedelta(days=30),
    ]


@pytest.mark.parametrize("status", [S.COLLECTED, S.LISTED, S.IN_PROGRESS])
def test_it_schedules_nothing_for_an_unresolved_issue(courtyard, status):
    issue = IssueFactory(courtyard=courtyard, status=status)

    assert tasks.schedule_follow_ups(issue.pk) == 0
    assert not FollowUp.objects.exists()


def test_it_schedules_nothing_for_a_vanished_issue():
    assert tasks.schedule_follow_ups(987654) == 0


# --- Recording follow-up visits ---------------------------------------------------------------


@pytest.fixture
def visits(resolved_dispute) -> list[FollowUp]:
    services.schedule_follow_ups(resolved_dispute)
    return list(resolved_dispute.follow_ups.select_related("issue"))


def record(visit: FollowUp, by, satisfaction: str) -> FollowUp:
    return services.record_follow_up(
        FollowUp.objects.select_related("issue").get(pk=visit.pk),
        by=by,
        method=FollowUp.Method.PHONE,
        satisfaction=satisfaction,
        notes="电话回访。",
    )


@pytest.mark.parametrize(
    "satisfaction", [FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.BASICALLY]
)
def test_it_revisits_when_every_visit_due_so_far_is_satisfied(
    time_machine, resolved_dispute, visits, grid_worker, satisfaction
):
    time_machine.move_to(NOW + timedelta(days=3, hours=1), tick=False)
    later = NOW + timedelta(days=3, hours=1)

    record(visits[0], grid_worker, satisfaction)

    visit = FollowUp.objects.get(pk=visits[0].pk)
    assert (visit.done_at, visit.done_by, visit.satisfaction, visit.method) == (
        later,
        grid_worker,
        satisfaction,
        "phone",
    )
    issue = fresh(resolved_dispute)
    assert (issue.status, issue.revisited_at) == (S.REVISITED, later)
    follow_up, revisit = issue.events.filter(created_at=later)
    assert (follow_up.actor, follow_up.action) == (grid_worker, "follow_up")
    assert (revisit.actor, revisit.action, revisit.from_status, revisit.to_status) == (
        None,
        "revisit",
        "resolved",
        "revisited",
    )
    # The later visits stay scheduled.
    assert issue.follow_ups.pending().count() == 2


def test_it_waits_for_every_visit_due_so_far(time_machine, resolved_dispute, visits, grid_worker):
    time_machine.move_to(NOW + timedelta(days=31), tick=False)

    record(visits[1], grid_worker, FollowUp.Satisfaction.SATISFIED)
    assert fresh(resolved_dispute).status == S.RESOLVED

    record(visits[0], grid_worker, FollowUp.Satisfaction.SATISFIED)
    assert fresh(resolved_dispute).status == S.REVISITED


@pytest.mark.parametrize("revisited_first", [False, True])
def test_it_reopens_on_an_unsatisfied_visit(
    time_machine, resolved_dispute, visits, grid_worker, staff, assignee, revisited_first
):
    time_machine.move_to(NOW + timedelta(days=4), tick=False)
    if revisited_first:
        record(visits[0], grid_worker, FollowUp.Satisfaction.SATISFIED)
        time_machine.move_to(NOW + timedelta(days=31), tick=False)
    seen = fresh(resolved_dispute).status
    visit = visits[1] if revisited_first else visits[0]

    record(visit, grid_worker, FollowUp.Satisfaction.UNSATISFIED)

    issue = fresh(resolved_dispute)
    assert (issue.status, issue.resolved_at, issue.revisited_at) == (S.IN_PROGRESS, None, None)
    reopen = issue.events.get(action=IssueEvent.Action.REOPEN)
    assert (reopen.actor, reopen.from_status, reopen.to_status) == (None, seen, "in_progress")
    # The issue's assignee (staff here) and all the community's staff are told.
    assert notified(Notification.Kind.REOPENED, issue) == {staff, assignee}
    # The visits not yet made are dropped, to be rescheduled on the next resolution.
    assert list(issue.follow_ups.values_list("visit_no", flat=True)) == [
        v.visit_no for v in visits if v.visit_no <= visit.visit_no
    ]


def test_it_numbers_the_visits_after_a_second_resolution_on(
    time_machine, resolved_dispute, visits, grid_worker, staff
):
    time_machine.move_to(NOW + timedelta(days=4), tick=False)
    record(visits[0], grid_worker, FollowUp.Satisfaction.UNSATISFIED)
    time_machine.move_to(NOW + timedelta(days=10), tick=False)

    services.resolve_issue(
        fresh(resolved_dispute),
        by=staff,
        seen_status="in_progress",
        resolution="再次调解成功。",
        reply="已答复居民。",
    )
    assert services.schedule_follow_ups(fresh(resolved_dispute)) == 3
    assert services.schedule_follow_ups(fresh(resolved_dispute)) == 0

    again = NOW + timedelta(days=10)
    assert list(resolved_dispute.follow_ups.values_list("visit_no", "due_at")) == [
        (1, NOW + timedelta(days=3)),
        (2, again + timedelta(days=3)),
        (3, again + timedelta(days=30)),
        (4, again + timedelta(days=90)),
    ]


def test_it_lets_staff_record_someone_elses_visit(resolved_dispute, visits, assignee):
    record(visits[0], assignee, FollowUp.Satisfaction.SATISFIED)

    assert FollowUp.objects.get(pk=visits[0].pk).done_by == assignee


@pytest.mark.parametrize("role", ["other_grid_worker", "official", "outsider"])
def test_it_refuses_a_visit_recorded_by_someone_else(request, resolved_dispute, visits, role):
    with pytest.raises(TransitionRefused):
        record(visits[0], request.getfixturevalue(role), FollowUp.Satisfaction.UNSATISFIED)

    assert not FollowUp.objects.filter(done_at__isnull=False).exists()
    assert fresh(resolved_dispute).status == S.RESOLVED
    assert not resolved_dispute.events.filter(action=IssueEvent.Action.FOLLOW_UP).exists()


def test_it_refuses_to_record_a_visit_twice(resolved_dispute, visits, grid_worker):
    record(visits[0], grid_worker, FollowUp.Satisfaction.SATISFIED)
    events = resolved_dispute.events.count()

    with pytest.raises(TransitionRefused):
        record(visits[0], grid_worker, FollowUp.Satisfaction.UNSATISFIED)

    visit = FollowUp.objects.get(pk=visits[0].pk)
    assert visit.satisfaction == FollowUp.Satisfaction.SATISFIED
    assert resolved_dispute.events.count() == events
    assert fresh(resolved_dispute).status == S.REVISITED


# --- Reminders, escalation and the sweep ------------------------------------------------------


@pytest.fixture
def resolved(courtyard) -> Issue:
    return IssueFactory(courtyard=courtyard, status=S.RESOLVED)


def test_it_reminds_each_due_visit_once_a_day(time_machine, resolved, grid_worker):
    due = FollowUpFactory(issue=resolved, due_at=NOW - timedelta(hours=1), assignee=grid_worker)
    tomorrow = FollowUpFactory(issue=resolved, due_at=NOW + timedelta(hours=20))
    FollowUpFactory(issue=resolved, due_at=NOW - timedelta(days=1), done_at=NOW)

    assert tasks.remind_due_follow_ups() == 1
    assert tasks.remind_due_follow_ups() == 0
    time_machine.move_to(NOW + timedelta(hours=2), tick=False)
    assert tasks.remind_due_follow_ups() == 0

    reminder = Notification.objects.get()
    assert (reminder.recipient, reminder.kind, reminder.issue, reminder.follow_up) == (
        grid_worker,
        Notification.Kind.FOLLOW_UP_DUE,
        resolved,
        due,
    )
    assert FollowUp.objects.get(pk=due.pk).reminded_on == date(2026, 3, 2)

    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    assert tasks.remind_due_follow_ups() == 2
    assert tasks.remind_due_follow_ups() == 0

    assert Notification.objects.filter(follow_up=due).count() == 2
    assert Notification.objects.filter(follow_up=tomorrow).count() == 1
    assert FollowUp.objects.get(pk=due.pk).reminded_on == date(2026, 3, 3)


def test_it_escalates_an_overdue_visit_to_staff_once(
    time_machine, resolved, staff, assignee, outsider
):
    grace = settings.FOLLOW_UP_GRACE
    overdue = FollowUpFactory(issue=resolved, due_at=NOW - grace - timedelta(hours=1))
    FollowUpFactory(issue=resolved, due_at=NOW - grace + timedelta(hours=1))
    FollowUpFactory(issue=resolved, due_at=NOW - grace * 2, done_at=NOW - grace)

    assert tasks.escalate_overdue_follow_ups() == 1
    assert tasks.escalate_overdue_follow_ups() == 0
    time_machine.move_to(NOW + timedelta(days=1), tick=False)
    # A day later the second visit is overdue too, and only it is escalated.
    assert tasks.escalate_overdue_follow_ups() == 1

    assert FollowUp.objects.get(pk=overdue.pk).escalated_at == NOW
    assert notified(Notification.Kind.FOLLOW_UP_OVERDUE) == {staff, assignee}
    assert Notification.objects.filter(follow_up=overdue).count() == 2


def test_it_sweeps_resolved_issues_whose_visits_were_never_scheduled(courtyard, grid_worker):
    missed = IssueFactory(
        courtyard=courtyard,
        status=S.RESOLVED,
        resolved_at=NOW - timedelta(minutes=5),
        assignee=grid_worker,
    )
    # Just resolved: its own on-commit task is still on its way.
    just_now = IssueFactory(courtyard=courtyard, status=S.RESOLVED, resolved_at=NOW)
    scheduled = IssueFactory(
        courtyard=courtyard, status=S.RESOLVED, resolved_at=NOW - timedelta(days=1)
    )
    FollowUpFactory(issue=scheduled, visit_no=1, created_at=NOW - timedelta(days=1))
    IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)

    assert tasks.sweep_unscheduled_follow_ups() == 1
    assert tasks.sweep_unscheduled_follow_ups() == 0

    visit = missed.follow_ups.get()
    assert (visit.due_at, visit.assignee) == (
        NOW - timedelta(minutes=5) + timedelta(days=7),
        grid_worker,
    )
    assert not just_now.follow_ups.exists()
    assert scheduled.follow_ups.count() == 1


def test_it_leaves_categories_without_visits_out_of_the_sweep(courtyard, django_assert_num_queries):
    road = category("road")
    road.follow_up_days = []
    road.save()
    IssueFactory(
        courtyard=courtyard, category=road, status=S.RESOLVED, resolved_at=NOW - timedelta(days=1)
    )

    # One query finds nothing to schedule: the issue is not fetched run after run.
    with django_assert_num_queries(1):
        assert tasks.sweep_unscheduled_follow_ups() == 0


def test_it_sweeps_an_issue_resolved_again_while_the_broker_was_down(
    time_machine, resolved_dispute, visits, grid_worker, staff
):
    time_machine.move_to(NOW + timedelta(days=4), tick=False)
    record(visits[0], grid_worker, FollowUp.Satisfaction.UNSATISFIED)
    # Resolved again; its on-commit task never reached a worker.
    services.resolve_issue(
        fresh(resolved_dispute),
        by=staff,
        seen_status="in_progress",
        resolution="再次调解成功。",
        reply="已答复居民。",
    )
    time_machine.move_to(NOW + timedelta(days=4, minutes=10), tick=False)

    assert tasks.sweep_unscheduled_follow_ups() == 1
    assert tasks.sweep_unscheduled_follow_ups() == 0

    assert resolved_dispute.follow_ups.pending().count() == 3


# --- Delivering notifications -----------------------------------------------------------------


def test_it_emails_a_notification_when_delivered(mailoutbox, courtyard, grid_worker):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, title="路灯不亮")
    rows = notifications.notify([grid_worker, grid_worker], Notification.Kind.ASSIGNED, issue=issue)
    assert len(rows) == 1

    assert tasks.deliver_notifications([rows[0].pk]) == 1

    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [grid_worker.email]
    assert issue.reference in mail.subject
    assert "\n" not in mail.subject
    assert issue.reference in mail.body
    assert courtyard.name in mail.body


def test_it_emails_the_staff_told_of_an_urgent_concern(
    mailoutbox,
    courtyard,
    grid_worker,
    staff,
    assignee,
    enqueued,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        services.create_issue(
            by=grid_worker, courtyard=courtyard, category=category("drainage"), title="雨后积水"
        )
    [(name, args)] = enqueued
    assert name == "deliver_notifications"

    # What the worker runs for that message.
    notifications.deliver(*args)

    assert sorted(m.to[0] for m in mailoutbox) == sorted([staff.email, assignee.email])


def test_it_keeps_the_in_app_notification_of_a_user_without_email(
    mailoutbox, courtyard, grid_worker
):
    grid_worker.email = ""
    grid_worker.save(update_fields=["email"])
    issue = IssueFactory(courtyard=courtyard)
    rows = notifications.notify([grid_worker], Notification.Kind.ASSIGNED, issue=issue)

    assert notifications.deliver([r.pk for r in rows]) == 1

    assert mailoutbox == []
    assert Notification.objects.get().recipient == grid_worker


def test_it_marks_notifications_read(courtyard, grid_worker, staff):
    issue = IssueFactory(courtyard=courtyard)
    mine = notifications.notify([grid_worker], Notification.Kind.ASSIGNED, issue=issue)
    notifications.notify([staff], Notification.Kind.ASSIGNED, issue=issue)

    assert services.mark_notifications_read(grid_worker) == 1
    assert services.mark_notifications_read(grid_worker, [mine[0].pk]) == 0

    assert Notification.objects.unread().get().recipient == staff
