"""Workflow invariants under random use: a Hypothesis state machine drives a few issues.

Users of every role take random actions, with random (also empty) text, through the services
the views call: the workflow actions, the same actions from a page drawn before someone else
acted, assignments, comments, mediations, follow-up visits, the passing of days and beat's
sweep. After every step the machine checks what must always hold:

- the status is a state of the table, and every event's from → to is a row of it;
- the event log, replayed from `collected`, ends in the current status, and each entered-at
  timestamp is the time of the event that last entered that state;
- the log only grows, and no read-only or out-of-scope user ever appears in it;
- an action succeeded exactly when the table and its guards allow it, so read-only roles and
  users outside the issue's area are always refused, and a page drawn before the last change
  always is;
- a refused action changed nothing: issues, events, mediations, visits and notifications are
  as they were, and no task was sent;
- only a closed issue has visits pending, and once the scheduling task has run for an issue's
  latest resolution there is exactly one visit for each of its category's offsets.

Two variants share the machine. In-process, the task a resolution sends on commit is caught,
and the machine delivers it late, twice or never (beat's sweep then catches up). Through the
real Celery worker, every step waits (bounded) until the worker has finished what was sent.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery import states
from celery.signals import after_task_publish, task_postrun
from django.contrib.auth.models import User
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from grassroots.celery import app
from grids.models import Courtyard
from issues import services, tallies, tasks
from issues.models import (
    FollowUp,
    Issue,
    IssueEvent,
    Mediation,
    Notification,
    Urgency,
)
from issues.services import TransitionRefused
from issues.tests.factories import IssueFactory, category
from issues.workflow import TRANSITIONS, Actor

S = Issue.Status
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))

ROLES = (
    "staff",
    "assignee",
    "grid_worker",
    "other_grid_worker",
    "official",
    "district_official",
    "outsider",
    "admin",
)
STAFF_ROLES = {"staff", "assignee", "admin"}  # administrators act as the community's staff
READ_ONLY = {"official", "district_official"}
WALKS = {"grid_worker": "grid", "other_grid_worker": "other_grid"}

STATES = {S.COLLECTED} | {s for t in TRANSITIONS.values() for s in (*t.sources, t.target)}
# (action, from, to) of every state change a person or the system may make.
EDGES = {(name, s, t.target) for name, t in TRANSITIONS.items() for s in t.sources}
PERSON_ACTIONS = ("list", "handle_now", "start", "resolve", "reopen", "close", "revisit")

# Each example starts from these issues: (category, urgency, grid, logged by). Two disputes
# (one urgent, so handle_now meets the mediation guard), and one of the other grid, so that
# each grid worker is outside some issue.
ISSUES = [
    ("road", Urgency.NORMAL, "grid", "grid_worker"),
    ("dispute", Urgency.URGENT, "grid", "grid_worker"),
    ("electrical", Urgency.URGENT, "other_grid", "other_grid_worker"),
    ("wage_arrears", Urgency.NORMAL, "grid", "staff"),
]

GOOD_TEXT = "已处理，住户确认。"
# No NUL: Django's form fields refuse it before any service sees it (and PostgreSQL cannot
# store it); everything else a phone keyboard can send is fair.
TEXT = st.one_of(
    st.sampled_from(["", " ", "\n\t", "\u3000", GOOD_TEXT, "住户反映雨后仍有积水。"]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12),
)
AMOUNT = st.one_of(st.none(), st.decimals(min_value=0, max_value=Decimal(99999), places=2))
ISSUE = st.integers(0, len(ISSUES) - 1)
ROLE = st.sampled_from(ROLES)
PICK = st.integers(0, 1000)


@dataclass
class World:
    """The people and places every example shares; only issues are made per example."""

    users: dict[str, User]
    courtyards: dict[str, Courtyard]

    def role_of(self, user_id: int | None) -> str | None:
        return next((r for r, u in self.users.items() if u.pk == user_id), None)


@pytest.fixture
def world(
    courtyard,
    other_courtyard,
    staff,
    assignee,
    grid_worker,
    other_grid_worker,
    official,
    district_official,
    outsider,
    admin_user,
) -> World:
    return World(
        users={
            "staff": staff,
            "assignee": assignee,
            "grid_worker": grid_worker,
            "other_grid_worker": other_grid_worker,
            "official": official,
            "district_official": district_official,
            "outsider": outsider,
            "admin": admin_user,
        },
        courtyards={"grid": courtyard, "other_grid": other_courtyard},
    )


class WorkflowMachine(RuleBasedStateMachine):
    """The rules and invariants; the subclasses decide how follow-up tasks are delivered."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.users = world.users
        self.grid_ids = {name: c.grid_id for name, c in world.courtyards.items()}
        # The snapshot taken before the last step's action, if that action was refused.
        self.refused: dict[str, Any] | None = None
        self.seen_events: dict[int, tuple] = {}
        # Each issue's (status, assignee) as pages drawn after each step showed it.
        self.pages: dict[int, list[tuple[str, int | None]]] = {}
        # The resolution (its resolved_at) the scheduling task last ran for, by issue.
        self.scheduled_for: dict[int, datetime] = {}
        # Time moves forward only through `time_passes`, from the same instant in every
        # example, and the worker thread sees the same clock.
        self.clock = time_machine.travel(NOW, tick=True)
        self.clock_hand = self.clock.start()
        try:
            self.issue_ids = [self.log_issue(*spec) for spec in ISSUES]
        except BaseException:
            self.clock.stop()
            raise

    def log_issue(self, code: str, urgency: str, grid: str, logger: str) -> int:
        issue, _created = services.create_issue(
            by=self.users[logger],
            courtyard=self.world.courtyards[grid],
            category=category(code),
            title=f"{self.world.courtyards[grid].name}：{category(code).name}",
            urgency=urgency,
            resident_name="卓玛",
            resident_phone="13812341234",
        )
        return issue.pk

    def teardown(self) -> None:
        try:
            self.settle(strict=False)
            # Once per run rather than after every step: a wrong sum stays wrong (folding
            # keeps sums), so the end of the run shows whatever any step did.
            self.check_the_dashboard_tallies_are_exact()
        finally:
            self.clock.stop()
            # Events, mediations, visits and notifications go with their issues.
            Issue.objects.filter(pk__in=self.issue_ids).delete()

    # --- How tasks reach a worker (the variants) -------------------------------------------

    def settle(self, *, strict: bool = True) -> None:
        """Wait until the tasks sent so far have run."""

    def run_beat_task(self, task: Any) -> None:
        raise NotImplementedError

    def tasks_sent(self) -> int:
        raise NotImplementedError

    def mark_scheduled(self, issue_ids: list[int]) -> None:
        """The scheduling task has run for these issues' current resolution."""
        for pk, resolved_at in Issue.objects.filter(pk__in=issue_ids).values_list(
            "pk", "resolved_at"
        ):
            if resolved_at is not None:
                self.scheduled_for[pk] = resolved_at

    # --- Reading the database as a view would ---------------------------------------------

    def fresh(self, index_or_pk: int, *, by_pk: bool = False) -> Issue:
        pk = index_or_pk if by_pk else self.issue_ids[index_or_pk]
        return Issue.objects.select_related("category").get(pk=pk)

    def snapshot(self) -> dict[str, Any]:
        ids = self.issue_ids
        return {
            "issues": list(Issue.objects.filter(pk__in=ids).order_by("pk").values()),
            "events": list(
                IssueEvent.objects.filter(issue__in=ids).order_by("pk").values_list("pk", flat=True)
            ),
            "mediations": list(Mediation.objects.filter(issue__in=ids).order_by("pk").values()),
            "visits": list(FollowUp.objects.filter(issue__in=ids).order_by("pk").values()),
            "notifications": Notification.objects.count(),
            "tasks_sent": self.tasks_sent(),
        }

    def attempt(self, call: Callable[[], object]) -> bool:
        """Run one service call; True if it acted, False if it refused."""
        before = self.snapshot()
        try:
            call()
        except TransitionRefused:
            self.refused = before
            return False
        self.refused = None
        return True

    # --- Who stands where: written out from DESIGN.md, not read from grids/access.py ------

    def walks(self, role: str, issue: Issue) -> bool:
        return role in WALKS and self.grid_ids[WALKS[role]] == issue.grid_id

    def actors(self, role: str, issue: Issue) -> set[Actor]:
        user = self.users[role]
        actors: set[Actor] = set()
        if role in STAFF_ROLES:
            actors.add(Actor.STAFF)
        if issue.assignee_id == user.pk:
            actors.add(Actor.ASSIGNEE)
        if issue.created_by_id == user.pk and self.walks(role, issue):
            actors.add(Actor.LOGGER)
        return actors

    def contributes(self, role: str, issue: Issue) -> bool:
        return bool(self.actors(role, issue)) or self.walks(role, issue)

    def shut_out(self, role: str | None, issue: Issue) -> bool:
        """Read-only roles and users outside the issue's area may change nothing on it."""
        outside = role == "outsider" or (role in WALKS and not self.walks(role, issue))
        return role in READ_ONLY or outside

    def assignable(self, role: str | None, issue: Issue) -> bool:
        return role in ("staff", "assignee") or (role is not None and self.walks(role, issue))

    @staticmethod
    def mediated(issue: Issue) -> bool:
        return issue.mediations.exclude(outcome=Mediation.Outcome.FAILED).exists()

    def may(self, role: str, issue: Issue, action: str, *, text: str, assignee: str | None) -> bool:
        """Whether the table and the action's guard let this user do it now."""
        t = TRANSITIONS[action]
        if issue.status not in t.sources or not self.actors(role, issue) & t.actors:
            return False
        if action == "list":
            return assignee is None or self.assignable(assignee, issue)
        if action == "handle_now":
            return issue.urgency == Urgency.URGENT
        if action == "resolve":
            return bool(text.strip()) and (not issue.category.is_dispute or self.mediated(issue))
        if action in ("reopen", "close"):
            return bool(text.strip())
        return True

    def perform(
        self,
        issue: Issue,
        role: str,
        action: str,
        *,
        text: str,
        assignee: str | None = None,
        amount: Decimal | None = None,
        seen_status: str | None = None,
    ) -> bool:
        """Post an action as the issue page's form does: the status the page was drawn in."""
        user = self.users[role]
        seen = issue.status if seen_status is None else seen_status
        if action == "revisit":
            # No form offers it; the transition service itself must refuse a person.
            return self.attempt(
                lambda: services.transition_issue(
                    issue, "revisit", by=user, seen_status=seen, note=text
                )
            )
        data: dict[str, Any] = {
            "list": {"assignee": self.users.get(assignee or ""), "note": text},
            "handle_now": {"note": text},
            "start": {"note": text},
            "resolve": {"resolution": text, "reply": text},
            "reopen": {"reason": text},
            "close": {"outcome": Issue.Outcome.NOT_ACCEPTED, "reply": text},
        }[action]
        if action == "resolve" and issue.category.code == "wage_arrears":
            data["amount_recovered"] = amount
        return self.attempt(
            lambda: services.perform(issue, action, by=user, seen_status=seen, **data)
        )

    def mediate(self, issue: Issue, role: str, outcome: str, text: str) -> bool:
        return self.attempt(
            lambda: services.record_mediation(
                issue,
                by=self.users[role],
                mediated_on=timezone.localdate(),
                parties=text,
                method=Mediation.Method.IN_PERSON,
                outcome=outcome,
                agreement=text,
            )
        )

    # --- Rules ------------------------------------------------------------------------------

    @rule(
        i=ISSUE,
        role=ROLE,
        action=st.sampled_from(PERSON_ACTIONS),
        text=TEXT,
        assignee=st.sampled_from((None, *ROLES)),
        amount=AMOUNT,
    )
    def someone_acts(
        self,
        i: int,
        role: str,
        action: str,
        text: str,
        assignee: str | None,
        amount: Decimal | None,
    ) -> None:
        issue = self.fresh(i)
        expected = self.may(role, issue, action, text=text, assignee=assignee)

        done = self.perform(issue, role, action, text=text, assignee=assignee, amount=amount)

        assert done == expected, (
            f"{role} {action} on a {issue.category.code} issue in {issue.status}: "
            f"{'done' if done else 'refused'}, the table says {'yes' if expected else 'no'}"
        )
        if self.shut_out(role, issue):
            assert not done

    def next_step(self, i: int, pick: int) -> None:
        """One thing someone may do to the issue now, chosen by `pick`: it must be done.

        Random actions are mostly refused; these walk issues deep into the workflow. The kind
        of step is chosen first, so that reopening (open to three people) does not crowd out
        the visits and the worker.
        """
        self.settle()  # what is on offer must not depend on how fast the worker is
        issue = self.fresh(i)
        walker = next((r for r in WALKS if self.walks(r, issue)), None)
        assignee = ("assignee", walker, None)[pick % 3]
        pick //= 3
        kinds: list[list[tuple[str, Callable[[], bool]]]] = [
            [
                (
                    f"{role} {action}",
                    partial(
                        self.perform,
                        issue,
                        role,
                        action,
                        text=GOOD_TEXT,
                        assignee=assignee,
                        amount=Decimal(100),
                    ),
                )
                for role in ROLES
                for action in PERSON_ACTIONS
                if self.may(role, issue, action, text=GOOD_TEXT, assignee=assignee)
            ],
            [
                (
                    f"{role} mediate",
                    partial(self.mediate, issue, role, Mediation.Outcome.AGREEMENT, GOOD_TEXT),
                )
                for role in ROLES
                if issue.status == S.IN_PROGRESS
                and issue.category.is_dispute
                and not self.mediated(issue)
                and self.contributes(role, issue)
            ],
            [
                (
                    f"visit {visit.visit_no} {satisfaction}",
                    partial(
                        self.record_visit, visit, visit.assignee, satisfaction, "phone", GOOD_TEXT
                    ),
                )
                for visit in issue.follow_ups.pending().select_related("assignee").order_by("pk")
                for satisfaction in (
                    FollowUp.Satisfaction.SATISFIED,
                    FollowUp.Satisfaction.UNSATISFIED,
                )
            ],
            self.worker_steps(issue),
        ]
        kinds = [k for k in kinds if k]
        if kinds:
            options = kinds[pick % len(kinds)]
            name, step = options[pick // len(kinds) % len(options)]
            assert step(), f"{name} on the {issue.category.code} issue in {issue.status}: refused"

    def worker_steps(self, issue: Issue) -> list[tuple[str, Callable[[], bool]]]:
        """What a worker the machine drives may do for the issue next."""
        return []

    @initialize(
        plans=st.lists(st.lists(PICK, max_size=6), min_size=len(ISSUES), max_size=len(ISSUES))
    )
    def issues_have_come_some_way(self, plans: list[list[int]]) -> None:
        """Each issue starts a few allowed steps into the workflow, so that 20 steps reach far."""
        for i, picks in enumerate(plans):
            for pick in picks:
                self.next_step(i, pick)

    @rule(i=ISSUE, pick=PICK)
    def someone_who_may_takes_the_next_step(self, i: int, pick: int) -> None:
        self.next_step(i, pick)

    @rule(
        i=ISSUE,
        role=ROLE,
        action=st.sampled_from(("list", "handle_now", "start", "resolve", "reopen", "assign")),
        page=PICK,
        assignee=st.sampled_from(("assignee", "grid_worker", "other_grid_worker")),
    )
    def someone_acts_on_a_stale_page(
        self, i: int, role: str, action: str, page: int, assignee: str
    ) -> None:
        """The page was drawn before someone else's change: the form carries what it showed."""
        issue = self.fresh(i)
        pages = self.pages.get(issue.pk, [])
        if action == "assign":
            seen = [a for _s, a in pages if a != issue.assignee_id]
            if not seen:
                return
            seen_assignee = seen[page % len(seen)]
            done = self.attempt(
                lambda: services.assign_issue(
                    issue,
                    by=self.users[role],
                    assignee=self.users[assignee],
                    seen_assignee_id=seen_assignee,
                )
            )
        else:
            seen = [s for s, _a in pages if s != issue.status] or sorted(STATES - {issue.status})
            done = self.perform(
                issue,
                role,
                action,
                text=GOOD_TEXT,
                assignee=assignee,
                amount=Decimal(1),
                seen_status=seen[page % len(seen)],
            )
        assert not done, f"{role} {action} from a stale page was not refused"

    @rule(i=ISSUE, role=ROLE, assignee=ROLE)
    def staff_reassign(self, i: int, role: str, assignee: str) -> None:
        issue = self.fresh(i)
        expected = role in STAFF_ROLES and issue.is_open and self.assignable(assignee, issue)

        done = self.attempt(
            lambda: services.assign_issue(
                issue,
                by=self.users[role],
                assignee=self.users[assignee],
                seen_assignee_id=issue.assignee_id,
            )
        )

        assert done == expected, f"{role} assigning {assignee} in {issue.status}"

    @rule(i=ISSUE, role=ROLE, text=TEXT)
    def someone_comments(self, i: int, role: str, text: str) -> None:
        issue = self.fresh(i)
        expected = bool(text.strip()) and self.contributes(role, issue)

        done = self.attempt(
            lambda: services.comment_on_issue(issue, by=self.users[role], note=text)
        )

        assert done == expected, f"{role} commenting {text!r}"

    @rule(i=ISSUE, role=ROLE, outcome=st.sampled_from(Mediation.Outcome.values), text=TEXT)
    def someone_records_a_mediation(self, i: int, role: str, outcome: str, text: str) -> None:
        issue = self.fresh(i)
        # Only where the issue page offers the form: an open dispute.
        expected = self.contributes(role, issue) and issue.is_open and issue.category.is_dispute

        done = self.mediate(issue, role, outcome, text)

        assert done == expected, f"{role} mediating in {issue.status}"

    def record_visit(
        self, visit: FollowUp, user: User, satisfaction: str, method: str, notes: str
    ) -> bool:
        """Record a visit as the follow-up page does, and check what it did to the issue."""
        now = timezone.now()
        role = self.world.role_of(user.pk)
        issue = self.fresh(visit.issue_id, by_pk=True)
        others = list(issue.follow_ups.exclude(pk=visit.pk))
        expected = not visit.is_done and (user.pk == visit.assignee_id or role in STAFF_ROLES)
        # What the visit does to the issue, as DESIGN.md tells it.
        if satisfaction == FollowUp.Satisfaction.UNSATISFIED:
            then = S.IN_PROGRESS
        elif (
            issue.status == S.RESOLVED
            and not any(not v.is_done and v.due_at <= now for v in others)
            and not any(
                v.satisfaction == FollowUp.Satisfaction.UNSATISFIED
                and v.done_at >= issue.resolved_at
                for v in others
                if v.is_done
            )
        ):
            then = S.REVISITED
        else:
            then = issue.status

        done = self.attempt(
            lambda: services.record_follow_up(
                FollowUp.objects.select_related("issue__category").get(pk=visit.pk),
                by=user,
                method=method,
                satisfaction=satisfaction,
                notes=notes,
            )
        )

        assert done == expected, f"{role} recording visit {visit.visit_no} ({visit.done_at=})"
        if self.shut_out(role, issue):
            assert not done
        if done:
            assert self.fresh(issue.pk, by_pk=True).status == then, (
                f"a {satisfaction} visit on a {issue.status} issue should leave it {then}"
            )
        return done

    @rule(
        pick=PICK,
        role=st.sampled_from((*ROLES, "its_assignee", "its_assignee")),
        satisfaction=st.sampled_from(FollowUp.Satisfaction.values),
        method=st.sampled_from(FollowUp.Method.values),
        notes=TEXT,
        any_visit=st.booleans(),
    )
    def someone_records_a_visit(
        self, pick: int, role: str, satisfaction: str, method: str, notes: str, any_visit: bool
    ) -> None:
        """A visit due now, or any visit at all: the follow-up list offers the ones not due yet,
        and a second tab one already recorded."""
        now = timezone.now()
        visits = list(
            FollowUp.objects.filter(issue__in=self.issue_ids)
            .select_related("assignee")
            .order_by("pk")
        )
        choices = visits if any_visit else [v for v in visits if not v.is_done and v.due_at <= now]
        if choices:
            visit = choices[pick % len(choices)]
            user = visit.assignee if role == "its_assignee" else self.users[role]
            self.record_visit(visit, user, satisfaction, method, notes)

    @rule(days=st.sampled_from([1, 4, 31, 91]))
    def time_passes(self, days: int) -> None:
        self.clock_hand.shift(timedelta(days=days))

    @rule()
    def beat_sweeps(self) -> None:
        """The periodic sweep schedules the visits of resolutions whose task never ran."""
        cutoff = timezone.now() - timedelta(minutes=1)
        missed = list(
            Issue.objects.filter(
                pk__in=self.issue_ids, status=S.RESOLVED, resolved_at__lt=cutoff
            ).values_list("pk", flat=True)
        )
        self.run_beat_task(tasks.sweep_unscheduled_follow_ups)
        self.mark_scheduled(missed)

    # --- Invariants -------------------------------------------------------------------------

    @invariant()
    def the_workflow_holds(self) -> None:
        self.settle()
        self.check_a_refusal_changed_nothing()
        issues = {
            i.pk: i for i in Issue.objects.filter(pk__in=self.issue_ids).select_related("category")
        }
        events = list(IssueEvent.objects.filter(issue__in=self.issue_ids))  # timeline order
        visits = list(FollowUp.objects.filter(issue__in=self.issue_ids).order_by("visit_no"))
        mediations = list(Mediation.objects.filter(issue__in=self.issue_ids))
        self.check_the_log_only_grows(events)
        for pk, issue in issues.items():
            mine = [e for e in events if e.issue_id == pk]
            assert issue.status in STATES, issue.status
            self.check_each_event_is_a_row_of_the_table(issue, mine)
            self.check_the_log_replays_to_the_issue(issue, mine)
            self.check_the_visits(
                issue,
                mine,
                [v for v in visits if v.issue_id == pk],
                [m for m in mediations if m.issue_id == pk],
            )
            self.pages.setdefault(pk, [])
            if (issue.status, issue.assignee_id) not in self.pages[pk]:
                self.pages[pk].append((issue.status, issue.assignee_id))

    def check_the_dashboard_tallies_are_exact(self) -> None:
        if tallies.enabled():
            assert set(tallies.differences().values()) == {0}

    def check_a_refusal_changed_nothing(self) -> None:
        if self.refused is not None:
            after = self.snapshot()
            for key, before in self.refused.items():
                assert after[key] == before, f"a refused action changed {key}"
            self.refused = None

    def check_the_log_only_grows(self, events: list[IssueEvent]) -> None:
        rows = {
            e.pk: (
                e.issue_id,
                e.actor_id,
                e.action,
                e.from_status,
                e.to_status,
                e.note,
                e.created_at,
            )
            for e in events
        }
        for pk, row in self.seen_events.items():
            assert rows.get(pk) == row, f"event {pk} changed or vanished"
        if self.seen_events:
            newest = max(self.seen_events)
            assert all(pk > newest for pk in set(rows) - set(self.seen_events))
        self.seen_events = rows

    def check_each_event_is_a_row_of_the_table(
        self, issue: Issue, events: list[IssueEvent]
    ) -> None:
        for e in events:
            role = self.world.role_of(e.actor_id)
            assert not (e.actor_id and self.shut_out(role, issue)), (
                f"{role} changed the {issue.category.code} issue: {e.action}"
            )
            if e.action == IssueEvent.Action.CREATE:
                assert (e.from_status, e.to_status) == ("", S.COLLECTED)
            elif e.action in TRANSITIONS:
                assert (e.action, e.from_status, e.to_status) in EDGES, (
                    f"{e.action}: {e.from_status} → {e.to_status} is no row of the table"
                )
                # Revisiting is the system's alone; people make the other changes (reopen both).
                if e.action == "revisit":
                    assert e.actor_id is None
                elif e.action != "reopen":
                    assert e.actor_id is not None
            else:
                assert (e.from_status, e.to_status) == ("", ""), e.action

    def check_the_log_replays_to_the_issue(self, issue: Issue, events: list[IssueEvent]) -> None:
        assert events[0].action == IssueEvent.Action.CREATE
        assert events[0].created_at == issue.created_at
        status = S.COLLECTED
        entered: dict[str, datetime] = {}
        last_resolution = ""
        for e in events[1:]:
            assert e.action != IssueEvent.Action.CREATE
            if e.to_status:
                assert e.from_status == status, (
                    f"{e.action} from {e.from_status}, but the log had it {status}"
                )
                status = e.to_status
                entered[status] = e.created_at
                if e.action == "resolve":
                    last_resolution = e.note
        assert status == issue.status, f"the log replays to {status}, the issue is {issue.status}"
        closed = issue.status in Issue.CLOSED_STATUSES
        assert (issue.listed_at, issue.started_at) == (
            entered.get(S.LISTED),
            entered.get(S.IN_PROGRESS),
        )
        assert issue.resolved_at == (entered[S.RESOLVED] if closed else None)
        assert issue.revisited_at == (entered[S.REVISITED] if status == S.REVISITED else None)
        if closed:
            assert issue.resolution == last_resolution
        if status == S.CLOSED:
            # Closed without resolving: straight from whichever open state it was in.
            assert issue.closed_at == entered[S.CLOSED]
            assert issue.outcome
        elif status != S.COLLECTED:
            assert issue.due_at is not None
        # Every event is written with the issue's last activity, the last one last.
        assert issue.last_activity_at == max(events, key=lambda e: e.pk).created_at

    def check_the_visits(
        self,
        issue: Issue,
        events: list[IssueEvent],
        visits: list[FollowUp],
        mediations: list[Mediation],
    ) -> None:
        pending = [v for v in visits if not v.is_done]
        for v in visits:
            if v.is_done:
                assert all((v.method, v.satisfaction, v.done_by_id)), v
        if issue.is_open or issue.status == S.CLOSED:
            assert not pending, f"an {issue.status} issue has visits pending: {pending}"
            return
        resolved_at = issue.resolved_at
        offsets = sorted({int(d) for d in issue.category.follow_up_days if int(d) >= 0})
        due = [resolved_at + timedelta(days=d) for d in offsets]
        current = [v for v in visits if v.created_at >= resolved_at]
        assert all(v in current for v in pending), "a visit of an earlier resolution is pending"
        assert all(v.due_at in due for v in current), (
            f"visits {[v.due_at for v in current]} are not at {offsets} days after resolution"
        )
        if self.scheduled_for.get(issue.pk) == resolved_at:
            assert sorted(v.due_at for v in current) == due, (
                f"the {issue.category.code} issue resolved at {resolved_at} has visits "
                f"{[(v.visit_no, v.due_at) for v in current]}, not one at each of {offsets} days"
            )
        # 谁调解、谁回访: the last successful mediator, else whoever resolved it.
        good = [m for m in mediations if m.outcome != Mediation.Outcome.FAILED]
        good.sort(key=lambda m: (m.mediated_on, m.pk))
        resolver = [e.actor_id for e in events if e.action == "resolve"][-1]
        expected = good[-1].mediator_id if good else resolver
        assert all(v.assignee_id == expected for v in current)
        if issue.status == S.REVISITED:
            done = [v for v in current if v.is_done]
            assert done, "revisited with no visit made"
            assert all(v.satisfaction != FollowUp.Satisfaction.UNSATISFIED for v in done)


class InProcessWorkflow(WorkflowMachine):
    """The scheduling task's messages are held here and delivered late, twice or never."""

    def __init__(self, world: World, queue: list[int]) -> None:
        queue.clear()
        self.queue = queue
        super().__init__(world)

    def run_beat_task(self, task: Any) -> None:
        task()

    def tasks_sent(self) -> int:
        return len(self.queue)

    def deliver(self, index: int, *, again: bool = False) -> bool:
        # `again`: the message stays queued and comes once more (a lost acknowledgement).
        issue_id = self.queue[index] if again else self.queue.pop(index)
        tasks.schedule_follow_ups(issue_id)
        self.mark_scheduled([issue_id])
        return True

    def worker_steps(self, issue: Issue) -> list[tuple[str, Callable[[], bool]]]:
        if issue.pk not in self.queue:
            return []
        return [("the worker runs its task", partial(self.deliver, self.queue.index(issue.pk)))]

    @precondition(lambda self: self.queue)
    @rule(pick=PICK, again=st.booleans())
    def the_worker_runs_a_scheduling_task(self, pick: int, again: bool) -> None:
        self.deliver(pick % len(self.queue), again=again)

    @precondition(lambda self: self.queue)
    @rule(pick=PICK)
    def the_broker_loses_a_scheduling_task(self, pick: int) -> None:
        self.queue.pop(pick % len(self.queue))


class WorkerLog:
    """The tasks this test sent, and those the worker has finished (retries not counted)."""

    def __init__(self) -> None:
        self.sent: set[str] = set()
        self.finished: dict[str, str] = {}
        self.lock = threading.Lock()
        self.stalled = False

    def published(self, sender: object = None, headers: dict | None = None, **kw: object) -> None:
        with self.lock:
            self.sent.add((headers or {})["id"])

    def ran(self, task_id: str = "", state: str | None = None, **kw: object) -> None:
        if state != states.RETRY:
            with self.lock:
                self.finished[task_id] = state or ""

    def outstanding(self) -> set[str]:
        with self.lock:
            return self.sent - set(self.finished)

    def failed(self) -> dict[str, str]:
        with self.lock:
            return {
                k: v for k, v in self.finished.items() if k in self.sent and v != states.SUCCESS
            }

    def wait(self, timeout: float = 20) -> bool:
        # Once the worker has missed a deadline, later examples (and shrinking) fail at once
        # instead of waiting 20 s each for a worker that may be gone.
        if self.stalled:
            timeout = 0
        # time.monotonic, which time_machine leaves alone.
        deadline = time.monotonic() + timeout
        while self.outstanding() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.stalled = bool(self.outstanding())
        return not self.stalled


@pytest.fixture
def worker_log() -> Iterator[WorkerLog]:
    log = WorkerLog()
    after_task_publish.connect(log.published, weak=False)
    task_postrun.connect(log.ran, weak=False)
    yield log
    after_task_publish.disconnect(log.published)
    task_postrun.disconnect(log.ran)


class WorkerWorkflow(WorkflowMachine):
    """Resolutions send their task on commit to the real worker; beat's sweep goes there too."""

    def __init__(self, world: World, log: WorkerLog) -> None:
        self.log = log
        super().__init__(world)

    def settle(self, *, strict: bool = True) -> None:
        finished = self.log.wait()
        if strict:
            assert finished, f"the worker has not run {self.log.outstanding()} (20 s or earlier)"
            assert not self.log.failed(), f"tasks failed in the worker: {self.log.failed()}"
        # Every resolution sent its task, and the worker has run them all.
        self.mark_scheduled(self.issue_ids)

    def run_beat_task(self, task: Any) -> None:
        task.delay()
        self.settle()

    def tasks_sent(self) -> int:
        with self.log.lock:
            return len(self.log.sent)


def machine_settings(examples: int, steps: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        # The same examples on every run and in CI; nothing written to .hypothesis/.
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


def keep_notifications_off_the_broker(
    monkeypatch: pytest.MonkeyPatch, scheduled: list[int] | None = None
) -> None:
    """Mail is not what these tests are about; the in-app rows are still written. With
    `scheduled`, the visits' scheduling is queued there instead of sent to the workers."""
    send = app.send_task

    def send_task(name: str, args: tuple = (), *rest: Any, **kwargs: Any) -> Any:
        if name == "issues.tasks.deliver_notifications":
            return None
        if scheduled is not None and name == "issues.tasks.schedule_follow_ups":
            scheduled.extend(args)
            return None
        return send(name, args, *rest, **kwargs)

    monkeypatch.setattr(app, "send_task", send_task)


@pytest.mark.django_db(transaction=True)
def test_the_workflow_holds_under_random_use(world, monkeypatch):
    queue: list[int] = []
    keep_notifications_off_the_broker(monkeypatch, queue)

    run_state_machine_as_test(
        lambda: InProcessWorkflow(world, queue), settings=machine_settings(80, 20)
    )


@pytest.mark.usefixtures("celery_worker")
@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_the_workflow_holds_with_the_real_worker(world, worker_log, monkeypatch):
    keep_notifications_off_the_broker(monkeypatch)

    run_state_machine_as_test(
        lambda: WorkerWorkflow(world, worker_log), settings=machine_settings(20, 15)
    )


# --- What the machine found ----------------------------------------------------------------


@pytest.mark.django_db
def test_a_second_resolution_gets_every_visit_after_a_later_visit_was_made_first(
    time_machine, courtyard, staff
):
    """Visit numbers collided, and the second resolution silently lost its first visit.

    An electrical issue (visits at 3 and 30 days) is resolved; visit 2 is made first and the
    resident is not satisfied, so the issue reopens and visit 1 is dropped. The second
    resolution numbered its visits on from the count of those left (1): its 3-day visit took
    number 2, which the visit made still holds, and the insert that ignores conflicts dropped
    it. (Visit 2 satisfied, then reopened by staff, ends the same way.)
    """
    time_machine.move_to(NOW, tick=False)
    issue = IssueFactory(courtyard=courtyard, category=category("electrical"), status=S.IN_PROGRESS)
    services.resolve_issue(
        issue, by=staff, seen_status=S.IN_PROGRESS, resolution="已更换电线。", reply="已答复居民。"
    )
    tasks.schedule_follow_ups(issue.pk)
    services.record_follow_up(
        issue.follow_ups.select_related("issue").get(visit_no=2),
        by=staff,
        method=FollowUp.Method.PHONE,
        satisfaction=FollowUp.Satisfaction.UNSATISFIED,
    )
    again = NOW + timedelta(days=1)
    time_machine.move_to(again, tick=False)

    issue.refresh_from_db()
    services.resolve_issue(
        issue, by=staff, seen_status=S.IN_PROGRESS, resolution="已换空开。", reply="已答复居民。"
    )
    tasks.schedule_follow_ups(issue.pk)

    visits = issue.follow_ups.filter(created_at__gte=again)
    assert list(visits.values_list("due_at", flat=True)) == [
        again + timedelta(days=3),
        again + timedelta(days=30),
    ]
