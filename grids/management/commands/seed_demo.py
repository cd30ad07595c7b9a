"""seed_demo: real Lhasa places, their people, and a few hundred issues in every state.

Idempotent: areas, users and roles are looked up before they are created, and the issues
(with their events, mediations, follow-ups, patrols and notifications) are created only while
the demo community has none. Everything runs in one transaction.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from grids.management import demo_data as data
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
from grids.models import person_name as name_of
from issues import workflow
from issues.models import (
    Category,
    FollowUp,
    Issue,
    IssueEvent,
    Mediation,
    Notification,
    Urgency,
)
from residents import demo as residents_demo
from wishes import demo as wishes_demo

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Closed without resolving: (outcome, the body referred to, the reply to the resident).
CLOSINGS = [
    (
        "referred",
        "城关区住房和城乡建设局",
        "您反映的房屋结构安全问题属于区住建局职责，社区已转交该局办理，请留意其联系。",
    ),
    (
        "referred",
        "城关区人力资源和社会保障局",
        "您反映的欠薪问题已转交区人社局劳动保障监察大队办理，社区会跟进进展。",
    ),
    (
        "not_accepted",
        "",
        "经核实，该事项属于个人之间的合同纠纷，不属于社区受理范围，建议通过法律途径解决。",
    ),
]

SEED = 2026
ISSUE_COUNT = 300
HISTORY_DAYS = 120

S = Issue.Status
RANK: dict[str, int] = {
    S.COLLECTED: 0,
    S.LISTED: 1,
    S.IN_PROGRESS: 2,
    S.RESOLVED: 3,
    S.REVISITED: 4,
}

# The labels the timeline shows, in the demo's language.
OUTCOME_LABELS = {
    Mediation.Outcome.AGREEMENT: "达成协议",
    Mediation.Outcome.PARTIAL: "部分达成协议",
    Mediation.Outcome.FAILED: "调解未成功",
}
VISIT_METHOD_LABELS = {
    FollowUp.Method.IN_PERSON: "上门",
    FollowUp.Method.PHONE: "电话",
    FollowUp.Method.WECHAT: "微信",
}
SATISFACTION_LABELS = {
    FollowUp.Satisfaction.SATISFIED: "满意",
    FollowUp.Satisfaction.BASICALLY: "基本满意",
    FollowUp.Satisfaction.UNSATISFIED: "不满意",
}


def mobile(rng: random.Random) -> str:
    return rng.choice(data.MOBILE_PREFIXES) + "".join(str(rng.randint(0, 9)) for _ in range(8))


def yuan(amount: float) -> str:
    """12.6万 rather than 126000: how amounts are written in a case file."""
    if amount < 10000:
        return str(amount)
    return f"{amount / 10000:.2f}".rstrip("0").rstrip(".") + "万"


def local(at: datetime) -> str:
    return timezone.localtime(at).strftime("%Y-%m-%d %H:%M")


@dataclass
class Place:
    """A seeded community with its grids, courtyards and people."""

    spec: data.CommunitySpec
    community: Community
    grids: list[Grid] = field(default_factory=list)
    courtyards: dict[int, list[Courtyard]] = field(default_factory=dict)
    staff: list[User] = field(default_factory=list)
    workers: dict[int, list[User]] = field(default_factory=dict)


class Story:
    """One issue's history, built in time order so that its state always matches its log."""

    def __init__(
        self,
        issue: Issue,
        case: data.Case,
        place: Place,
        context: dict[str, Any],
        rng: random.Random,
    ) -> None:
        # Each issue draws from its own generator, so that the time of day the command runs
        # at, which moves a few steps in or out of office hours, changes no other issue.
        self.rng = rng
        self.issue = issue
        self.case = case
        self.place = place
        self.context = context
        self.events: list[IssueEvent] = []
        self.mediations: list[Mediation] = []
        self.follow_ups: list[FollowUp] = []
        self.resolver: User | None = None
        # (recipient, kind, at): what the services would have told people along the way.
        self.notices: list[tuple[User, str, datetime]] = []

    def notify(
        self, recipients: Iterable[User | None], kind: str, at: datetime, *, by: User | None
    ) -> None:
        for user in {u.pk: u for u in recipients if u is not None and u != by}.values():
            self.notices.append((user, kind, at))

    def office(self, at: datetime, *, after: datetime) -> datetime:
        """Move a step that fell in the night back into that day's (or the day before's)
        office hours, unless that would put it before `after`: then it was urgent night work."""
        moment = timezone.localtime(at)
        if 9 <= moment.hour < 19:
            return at
        day = moment - timedelta(days=1) if moment.hour < 9 else moment
        start = max(after, day.replace(hour=9, minute=0))
        end = day.replace(hour=18, minute=59)
        if start >= end:
            return at
        return start + (end - start) * self.rng.uniform(0.05, 1)

    def fill(self, template: str) -> str:
        return template.format_map(self.context)

    def log(self, action: str, by: User | None, at: datetime, note: str = "") -> None:
        self.events.append(
            IssueEvent(issue=self.issue, actor=by, action=action, note=note, created_at=at)
        )

    def move(
        self, action: str, by: User | None, at: datetime, note: str = "", **changes: Any
    ) -> None:
        """Apply one row of the real transition table, so that no impossible edge is seeded."""
        t = workflow.TRANSITIONS[action]
        if self.issue.status not in t.sources:
            raise ValueError(f"{action} is not possible from {self.issue.status}")
        self.events.append(
            IssueEvent(
                issue=self.issue,
                actor=by,
                action=action,
                from_status=self.issue.status,
                to_status=t.target,
                note=note,
                created_at=at,
            )
        )
        self.issue.status = t.target
        setattr(self.issue, workflow.ENTERED_AT[t.target], at)
        for name, value in changes.items():
            setattr(self.issue, name, value)

    def follow_up_assignee(self) -> User:
        """谁调解、谁回访: the last successful mediator, else whoever resolved the issue."""
        mediations = [m for m in self.mediations if m.outcome != Mediation.Outcome.FAILED]
        if mediations:
            return max(mediations, key=lambda m: m.created_at).mediator
        assert self.resolver is not None
        return self.resolver

    def pending_visits(self) -> list[FollowUp]:
        return [f for f in self.follow_ups if f.done_at is None]

    def finish(self) -> None:
        self.events.sort(key=lambda e: e.created_at)
        self.issue.last_activity_at = self.events[-1].created_at


class IssueSeeder:
    """Builds every issue's whole history in memory, then writes it with a few bulk inserts."""

    def __init__(self, places: list[Place], demo: dict[str, User], now: datetime) -> None:
        self.rng = random.Random(SEED)
        self.now = now
        self.places = places
        self.demo = demo
        self.demo_place = next(p for p in places if p.spec.name == data.DEMO_COMMUNITY)
        self.categories = {c.code: c for c in Category.objects.all()}
        self.cases = [c for c in data.CASES if c.category in self.categories]
        self.patrols: list[Patrol] = []
        self.stories: list[Story] = []
        self.notifications: list[Notification] = []

    # --- the plan ---------------------------------------------------------------------------

    def run(self, count: int) -> None:
        self.plan_patrols()
        weights = [p.spec.weight for p in self.places]
        while len(self.stories) < count:
            place = self.rng.choices(self.places, weights)[0]
            grid = self.rng.choice(place.grids)
            courtyard = self.rng.choice(place.courtyards[grid.pk])
            cases = self.cases_for(place)
            case = self.rng.choices(cases, [c.weight for c in cases])[0]
            self.stories.append(self.story(place, grid, courtyard, case, self.random_time()))
        self.plan_notifications()
        self.write()

    def cases_for(self, place: Place) -> list[data.Case]:
        unfit = "urban" if place.spec.is_village else "rural"
        return [c for c in self.cases if c.where != unfit]

    def random_time(self, days: int = HISTORY_DAYS) -> datetime:
        """A moment in office hours within the last `days` days."""
        # Skewed towards recent days: a community's list holds more fresh concerns than old ones.
        minutes = 90 + (days * 24 * 60 - 90) * self.rng.random() ** 1.6
        at = self.now - timedelta(minutes=minutes)
        at = timezone.localtime(at)
        hour = self.rng.randint(9, 18)
        if not 9 <= at.hour < 19:
            at = at.replace(hour=hour)
            if at > self.now - timedelta(hours=1):
                at -= timedelta(days=1)
        return at

    def plan_patrols(self) -> None:
        demo = self.demo_place
        plan: list[tuple[Place, Grid, str]] = [
            (demo, demo.grids[0], Patrol.Kind.ROUTINE),
            (demo, demo.grids[0], Patrol.Kind.FLOOD),
            (demo, demo.grids[0], Patrol.Kind.SAFETY),
            (demo, demo.grids[1], Patrol.Kind.ROUTINE),
            (demo, demo.grids[1], Patrol.Kind.FLOOD),
            (demo, demo.grids[2], Patrol.Kind.SAFETY),
        ]
        others = [p for p in self.places if p is not demo]
        for _ in range(8):
            place = self.rng.choice(others)
            plan.append((place, self.rng.choice(place.grids), self.rng.choice(Patrol.Kind.values)))
        for place, grid, kind in plan:
            worker = place.workers[grid.pk][0]
            started = self.random_time(days=HISTORY_DAYS - 10)
            ended = started + timedelta(minutes=self.rng.randint(80, 180))
            if ended > self.now - timedelta(minutes=10):
                started, ended = started - timedelta(days=1), ended - timedelta(days=1)
            note = self.rng.choice(data.PATROL_NOTES[kind])
            patrol = Patrol(
                grid_worker=worker,
                grid=grid,
                kind=kind,
                started_at=started,
                ended_at=ended,
                notes=note.format(grid=grid.name, n=self.rng.randint(8, 30)),
            )
            self.patrols.append(patrol)
            cases = [c for c in self.cases_for(place) if kind in c.hazard_of]
            hazards = (
                self.rng.randint(0, 2) if kind == Patrol.Kind.ROUTINE else self.rng.randint(1, 3)
            )
            for _ in range(hazards):
                case = self.rng.choices(cases, [c.weight for c in cases])[0]
                at = started + (ended - started) * self.rng.uniform(0.1, 0.9)
                courtyard = self.rng.choice(place.courtyards[grid.pk])
                self.stories.append(
                    self.story(place, grid, courtyard, case, at, patrol=patrol, creator=worker)
                )

    def target_status(self, rng: random.Random, created_at: datetime, category: Category) -> str:
        """Fresh issues are mostly open and old ones mostly closed, as on a real duty list;
        a few are left open past their time limit, so that the overdue list has something."""
        age = self.now - created_at
        if age < category.time_limit:
            weights = (35, 25, 30, 10, 0)
        elif age < timedelta(days=14):
            weights = (16, 8, 14, 40, 22)
        elif age < timedelta(days=45):
            weights = (3, 4, 8, 22, 63)
        else:
            weights = (2, 1, 4, 10, 83)
        return rng.choices(list(RANK), weights)[0]

    # --- one issue --------------------------------------------------------------------------

    def context(self, rng: random.Random, grid: Grid, courtyard: Courtyard) -> dict[str, Any]:
        resident = rng.choice(data.RESIDENTS)
        people, months = rng.randint(3, 15), rng.randint(1, 6)
        owed = people * months * rng.randrange(5000, 9001, 500)
        return {
            "courtyard": courtyard.name,
            "grid": grid.name,
            "resident": resident,
            "other": rng.choice([r for r in data.RESIDENTS if r != resident]),
            "n": rng.randint(3, 30),
            "days": rng.randint(3, 15),
            "months": months,
            "people": people,
            "owed": owed,
            "amount": yuan(owed),
            "part": yuan(round(owed * rng.uniform(0.3, 0.6), -2)),
            "money": rng.choice((800, 1200, 1500, 2000, 3000, 3500, 5000)),
            "floor": rng.choice(data.FLOORS),
            "site": rng.choice(data.SITES),
            "contractor": rng.choice(data.CONTRACTORS),
            "age": rng.randint(68, 89),
            "kids": rng.randint(2, 4),
        }

    def story(
        self,
        place: Place,
        grid: Grid,
        courtyard: Courtyard,
        case: data.Case,
        created_at: datetime,
        *,
        patrol: Patrol | None = None,
        creator: User | None = None,
    ) -> Story:
        rng = random.Random(self.rng.getrandbits(64))
        category = self.categories[case.category]
        title, description = rng.choice(case.variants)
        if patrol is not None:
            source = Issue.Source.PATROL
        else:
            sources = [Issue.Source.VISIT, Issue.Source.WECHAT, Issue.Source.PHONE]
            source = rng.choices([*sources, Issue.Source.WALK_IN], (50, 15, 15, 20))[0]
        if creator is None:
            on_foot = source in (Issue.Source.VISIT, Issue.Source.WECHAT)
            creator = rng.choice(place.workers[grid.pk] if on_foot else place.staff)
        if case.urgent_share is None:
            urgency = category.default_urgency
        else:
            urgency = Urgency.URGENT if rng.random() < case.urgent_share else Urgency.NORMAL
        # A resident named in the text is always on record; otherwise most are.
        names_resident = "{resident}" in title + description or case.mediation is not None
        has_resident = names_resident or rng.random() < 0.7
        context = self.context(rng, grid, courtyard)
        issue = Issue(
            category=category,
            urgency=urgency,
            source=source,
            courtyard=courtyard,
            patrol=patrol,
            resident_name=context["resident"] if has_resident else "",
            resident_phone=mobile(rng) if has_resident and rng.random() < 0.85 else "",
            created_by=creator,
            created_at=created_at,
            status=S.COLLECTED,
        )
        story = Story(issue, case, place, context, rng)
        issue.title = story.fill(title)[:120]
        issue.description = story.fill(description)
        if case.category == "wage_arrears":
            issue.people_affected = context["people"]
            issue.amount_owed = Decimal(context["owed"])
        issue.set_area_from_courtyard()
        issue.search_text = issue.search_document()
        story.events.append(
            IssueEvent(
                issue=issue,
                actor=creator,
                action=IssueEvent.Action.CREATE,
                to_status=S.COLLECTED,
                created_at=created_at,
            )
        )
        if urgency == Urgency.URGENT:
            story.notify(place.staff, Notification.Kind.URGENT, created_at, by=creator)
        self.play(story, place, self.target_status(rng, created_at, category))
        story.finish()
        return story

    def play(self, story: Story, place: Place, target: str) -> None:
        """Walk the issue from collected towards `target`, as far as the calendar allows."""
        rng, issue, now = story.rng, story.issue, self.now
        category = issue.category
        first_visit = timedelta(days=min(category.follow_up_days, default=7))
        age = now - issue.created_at
        reopen = RANK[target] >= RANK[S.IN_PROGRESS] and age.days > 30 and rng.random() < 0.08
        handle_now = issue.urgency == Urgency.URGENT and rng.random() < 0.7
        hours_to_act = rng.uniform(0.2, 4) if handle_now else rng.uniform(1, 40)
        hours_to_start = 0 if handle_now else rng.uniform(2, 48)
        hours_to_resolve = category.time_limit_hours * rng.uniform(0.2, 1.3)
        # Squeeze the work into the issue's age, keeping room for the visits the target needs.
        while True:
            reserve = timedelta(hours=1)
            if reopen:
                reserve += first_visit + timedelta(days=3)
            if target == S.REVISITED:
                reserve += first_visit + timedelta(days=1.5)
            needed = hours_to_act
            if RANK[target] >= RANK[S.IN_PROGRESS]:
                needed += hours_to_start
            if RANK[target] >= RANK[S.RESOLVED] or reopen:
                needed += hours_to_resolve
            available = (age - reserve).total_seconds() / 3600
            if available > 0.5 or target == S.COLLECTED:
                break
            if reopen:
                reopen = False
            else:
                target = list(RANK)[RANK[target] - 1]
        if target == S.COLLECTED:
            if rng.random() < 0.2:
                at = issue.created_at + (now - issue.created_at) * rng.uniform(0.2, 0.8)
                at = story.office(at, after=issue.created_at)
                story.log(
                    IssueEvent.Action.COMMENT, issue.created_by, at, rng.choice(data.COMMENTS)
                )
            return
        scale = min(1.0, available / needed)
        # Handled at once means never merely listed: a listed urgent issue was listed.
        handle_now = handle_now and target != S.LISTED
        grid_workers = place.workers[issue.grid.pk]

        at = story.office(
            issue.created_at + timedelta(hours=hours_to_act * scale), after=issue.created_at
        )
        if handle_now:
            # Either the grid worker who found it acts at once, or the staff do.
            logger = issue.created_by in grid_workers and rng.random() < 0.5
            by = issue.created_by if logger else rng.choice(place.staff)
            note = rng.choice(data.HANDLE_NOW_NOTES)
            story.move("handle_now", by, at, note, assignee=by, due_at=at + category.time_limit)
        else:
            assignee = rng.choice(place.staff if rng.random() < 0.55 else grid_workers)
            due = at + category.time_limit
            note = f"指派给{name_of(assignee)}。期限 {local(due)}。"
            lister = rng.choice(place.staff)
            story.move("list", lister, at, note, assignee=assignee, due_at=due)
            story.notify([assignee], Notification.Kind.ASSIGNED, at, by=lister)
            if target == S.LISTED:
                if rng.random() < 0.15 and self.close(story, place, at):
                    return
                self.interim(story, place, at, now - timedelta(minutes=5), closing=False)
                return
            started = story.office(at + timedelta(hours=hours_to_start * scale), after=at)
            others = [u for u in {*place.staff, *grid_workers} if u != assignee]
            if others and rng.random() < 0.07:
                # Reassigned before work began, e.g. the first assignee went on leave.
                issue.assignee = rng.choice(sorted(others, key=lambda u: u.username))
                by = rng.choice(place.staff)
                reassigned = story.office(at + (started - at) * rng.uniform(0.2, 0.8), after=at)
                note = f"指派给{name_of(issue.assignee)}。"
                story.log(IssueEvent.Action.ASSIGN, by, reassigned, note)
                story.notify([issue.assignee], Notification.Kind.ASSIGNED, reassigned, by=by)
            starter = issue.assignee if rng.random() < 0.75 else rng.choice(place.staff)
            story.move("start", starter, started, rng.choice(data.START_NOTES))
            at = started
        if target == S.IN_PROGRESS and not reopen:
            self.interim(story, place, at, now - timedelta(minutes=5), closing=False)
            return
        resolved = story.office(at + timedelta(hours=hours_to_resolve * scale), after=at)
        self.interim(story, place, at, resolved, closing=True)
        self.resolve(story, place, resolved)
        if reopen:
            if not self.reopen(story):
                return
            if target == S.IN_PROGRESS:
                return
            assert issue.started_at is not None  # reopening started the work again
            reopened = issue.started_at
            again = story.office(reopened + timedelta(days=rng.uniform(1, 5)), after=reopened)
            if again > now - timedelta(hours=2):
                self.interim(
                    story, place, issue.started_at, now - timedelta(minutes=5), closing=False
                )
                return
            self.interim(story, place, issue.started_at, again, closing=True)
            self.resolve(story, place, again, again=True)
        if target == S.REVISITED:
            self.revisit(story)

    def close(self, story: Story, place: Place, after: datetime) -> bool:
        """Close a listed issue without resolving it (referred, not accepted), with the reply
        to the resident that closing needs; False when the calendar leaves no room."""
        rng = story.rng
        at = story.office(after + timedelta(hours=rng.uniform(2, 30)), after=after)
        if at > self.now - timedelta(hours=1):
            return False
        outcome, body, reply = rng.choice(CLOSINGS)
        by = rng.choice(place.staff)
        story.log(IssueEvent.Action.REPLY, by, at - timedelta(seconds=30), reply)
        note = f"已转办：{body}。" if body else "不予受理。"
        story.move("close", by, at, note, outcome=outcome, referred_to=body)
        return True

    def interim(
        self, story: Story, place: Place, start: datetime, end: datetime, *, closing: bool
    ) -> None:
        """Comments and, for disputes, mediations between two steps of the workflow."""
        rng, issue = story.rng, story.issue
        if end <= start:
            return
        helpers = [u for u in (issue.assignee, *place.staff) if u is not None]
        for _ in range(rng.choice((0, 0, 1, 1, 2))):
            at = story.office(start + (end - start) * rng.uniform(0.1, 0.9), after=start)
            story.log(IssueEvent.Action.COMMENT, rng.choice(helpers), at, rng.choice(data.COMMENTS))
        spec = story.case.mediation
        if spec is None:
            return
        failed, agreed, partial = (
            Mediation.Outcome.FAILED,
            Mediation.Outcome.AGREEMENT,
            Mediation.Outcome.PARTIAL,
        )
        if closing:
            outcomes = [rng.choices((agreed, partial), (4, 1))[0]]
            if rng.random() < 0.2:
                outcomes.insert(0, failed)
        else:
            outcomes = rng.choice(([], [failed], [partial], [agreed]))
        times = sorted(rng.uniform(0.15, 0.85) for _ in outcomes)
        at = start
        for outcome, fraction in zip(outcomes, times, strict=True):
            at = story.office(start + (end - start) * fraction, after=at)
            mediator = issue.assignee if rng.random() < 0.3 else rng.choice(place.staff)
            if outcome == failed:
                agreement = "双方分歧较大，未能达成一致，约定下周再次调解。"
            else:
                agreement = story.fill(rng.choice(spec.agreements))
            story.mediations.append(
                Mediation(
                    issue=issue,
                    mediator=mediator,
                    mediated_on=timezone.localdate(at),
                    parties=story.fill(spec.parties),
                    place=rng.choice(spec.places),
                    method=rng.choice(spec.methods),
                    outcome=outcome,
                    agreement=agreement,
                    created_by=mediator,
                    created_at=at,
                )
            )
            story.log(
                IssueEvent.Action.MEDIATE, mediator, at, f"{OUTCOME_LABELS[outcome]}：{agreement}"
            )

    def resolve(self, story: Story, place: Place, at: datetime, *, again: bool = False) -> None:
        """Resolve and schedule the category's follow-up visits, as the on-commit task does."""
        rng, issue = story.rng, story.issue
        changes: dict[str, Any] = {}
        if issue.amount_owed is not None:
            owed = story.context["owed"]
            recovered = (
                owed if rng.random() < 0.65 else int(round(owed * rng.uniform(0.5, 0.9), -2))
            )
            story.context["recovered"] = yuan(recovered)
            changes["amount_recovered"] = Decimal(recovered)
        resolution = story.fill(rng.choice(story.case.resolutions))
        if issue.amount_owed is not None and changes["amount_recovered"] < issue.amount_owed:
            rest = yuan(story.context["owed"] - int(changes["amount_recovered"]))
            resolution += f"余款{rest}元由对方书面承诺{story.context['days']}日内付清。"
        if again:
            resolution = f"重新处理：{resolution}"
        resolver = issue.assignee if rng.random() < 0.8 else rng.choice(place.staff)
        if issue.has_resident:
            # 事事有答复: the resident's answer comes before the resolution, as the service asks.
            story.log(IssueEvent.Action.REPLY, resolver, at - timedelta(seconds=30), resolution)
        story.move("resolve", resolver, at, resolution, resolution=resolution, **changes)
        story.resolver = resolver
        scheduled = at + timedelta(seconds=rng.randint(2, 40))
        assignee = story.follow_up_assignee()
        start_no = len(story.follow_ups)
        days = sorted({int(d) for d in issue.category.follow_up_days})
        visits = [
            FollowUp(
                issue=issue,
                visit_no=start_no + i + 1,
                due_at=at + timedelta(days=d),
                assignee=assignee,
                created_at=scheduled,
            )
            for i, d in enumerate(days)
        ]
        story.follow_ups += visits
        story.log(
            IssueEvent.Action.SCHEDULE,
            None,
            scheduled,
            ", ".join(timezone.localtime(v.due_at).strftime("%Y-%m-%d") for v in visits),
        )

    def visit(self, story: Story, visit: FollowUp, at: datetime, *, satisfied: bool) -> None:
        rng = story.rng
        code = story.case.category
        visit.done_at = at
        visit.done_by = visit.assignee
        visit.method = rng.choices(list(VISIT_METHOD_LABELS), (5, 4, 2))[0]
        if satisfied:
            visit.satisfaction = rng.choices(
                (FollowUp.Satisfaction.SATISFIED, FollowUp.Satisfaction.BASICALLY), (3, 1)
            )[0]
            visit.notes = rng.choice(
                data.FOLLOW_UP_SATISFIED_BY_CATEGORY.get(code, data.FOLLOW_UP_SATISFIED)
            )
        else:
            visit.satisfaction = FollowUp.Satisfaction.UNSATISFIED
            visit.notes = data.FOLLOW_UP_UNSATISFIED.get(code, data.FOLLOW_UP_UNSATISFIED_DEFAULT)
        story.log(
            IssueEvent.Action.FOLLOW_UP,
            visit.assignee,
            at,
            f"第{visit.visit_no}次回访（{VISIT_METHOD_LABELS[visit.method]}）："
            f"{SATISFACTION_LABELS[visit.satisfaction]}。{visit.notes}",
        )

    def reopen(self, story: Story) -> bool:
        """An unsatisfied first visit sends the issue back to work; the other visits lapse."""
        if not story.pending_visits():
            return False
        first = story.pending_visits()[0]
        at = first.due_at + timedelta(days=story.rng.uniform(0, 1.5))
        assert story.issue.resolved_at is not None  # visits follow a resolution
        at = story.office(at, after=story.issue.resolved_at)
        if at > self.now - timedelta(days=1):
            return False
        self.visit(story, first, at, satisfied=False)
        story.follow_ups = [f for f in story.follow_ups if f.done_at is not None]
        story.move(
            "reopen",
            None,
            at + timedelta(seconds=1),
            f"第{first.visit_no}次回访时居民不满意。",
            resolved_at=None,
            revisited_at=None,
        )
        recipients = [story.issue.assignee, *story.place.staff]
        story.notify(recipients, Notification.Kind.REOPENED, at + timedelta(seconds=1), by=None)
        return True

    def revisit(self, story: Story) -> None:
        """Every visit due so far is done and satisfied, the first of them revisits the issue."""
        rng, issue, now = story.rng, story.issue, self.now
        visits = story.pending_visits()
        if not visits:
            return
        first = visits[0]
        assert issue.resolved_at is not None  # visits follow a resolution
        at = max(
            first.due_at + timedelta(days=rng.uniform(-0.3, 1.5)),
            issue.resolved_at + timedelta(hours=2),
        )
        at = story.office(at, after=issue.resolved_at + timedelta(hours=1))
        if at > now - timedelta(minutes=30):
            return
        self.visit(story, first, at, satisfied=True)
        # As the service words it (a first visit may be 基本满意).
        note = "到期的回访均已完成，居民表示满意或基本满意。"
        story.move("revisit", None, at + timedelta(seconds=1), note)
        for visit in visits[1:]:
            if visit.due_at > now - timedelta(hours=1):
                break
            done = visit.due_at + timedelta(days=rng.uniform(0, 2))
            if done > now - timedelta(minutes=10):
                done = visit.due_at + (now - visit.due_at) * rng.uniform(0.2, 0.8)
            at = story.office(done, after=at)
            self.visit(story, visit, at, satisfied=True)

    # --- notifications for the demo accounts ------------------------------------------------

    def plan_notifications(self) -> None:
        """The messages the services and the beat tasks would have sent by now.

        Reminders and escalations are stamped on their visits as the beat tasks stamp them, and
        every message is delivered, so that starting beat after seeding sends none of them again.
        """
        now, rng = self.now, self.rng
        midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
        grace = settings.FOLLOW_UP_GRACE
        notices: list[tuple[User, str, datetime, Issue, FollowUp | None]] = []
        kind: str
        visit: FollowUp | None
        for story in self.stories:
            issue = story.issue
            notices += [(user, kind, at, issue, None) for user, kind, at in story.notices]
            for visit in story.pending_visits():
                # Every visit due by now has had today's reminder, and every one overdue past
                # the grace its escalation: beat finds only what falls due after seeding.
                if visit.due_at <= now:
                    after = max(visit.due_at, midnight) + timedelta(minutes=rng.randint(1, 5))
                    reminded = min(after, now)
                    visit.reminded_on = timezone.localdate(reminded)
                    kind = Notification.Kind.FOLLOW_UP_DUE
                    notices.append((visit.assignee, kind, reminded, issue, visit))
                if visit.due_at < now - grace:
                    after = visit.due_at + grace + timedelta(minutes=rng.randint(1, 15))
                    escalated = min(after, now)
                    visit.escalated_at = escalated
                    kind = Notification.Kind.FOLLOW_UP_OVERDUE
                    notices += [(u, kind, escalated, issue, visit) for u in story.place.staff]
        # Recent messages are unread; so are the newest of each kind for the demo accounts,
        # so that their inbox shows every kind of message whatever the day of seeding.
        demo = {self.demo["staff"].pk, self.demo["gridworker"].pk}
        newest: Counter[tuple[int, str]] = Counter()
        for user, kind, at, issue, visit in sorted(notices, key=lambda n: n[2], reverse=True):
            newest[user.pk, kind] += 1
            unread = now - at < timedelta(days=2) or (
                user.pk in demo and newest[user.pk, kind] <= 2
            )
            read_at = min(at + timedelta(hours=rng.uniform(0.2, 30)), now)
            self.notifications.append(
                Notification(
                    recipient=user,
                    kind=kind,
                    issue=issue,
                    follow_up=visit,
                    created_at=at,
                    read_at=None if unread else read_at,
                    # Sent by email when it was made: beat's sweep has nothing to send again.
                    delivered_at=at,
                )
            )

    def report(self) -> str:
        stories = self.stories
        return (
            f"{len(stories)} issues, {sum(len(s.events) for s in stories)} events, "
            f"{sum(len(s.mediations) for s in stories)} mediations, "
            f"{sum(len(s.follow_ups) for s in stories)} follow-up visits, "
            f"{len(self.patrols)} patrols, {len(self.notifications)} notifications"
        )

    # --- writing ----------------------------------------------------------------------------

    def write(self) -> None:
        Patrol.objects.bulk_create(self.patrols)
        self.stories.sort(key=lambda s: s.issue.created_at)
        Issue.objects.bulk_create([s.issue for s in self.stories], batch_size=500)
        IssueEvent.objects.bulk_create([e for s in self.stories for e in s.events], batch_size=500)
        mediations = [m for s in self.stories for m in s.mediations]
        follow_ups = [f for s in self.stories for f in s.follow_ups]
        for row in [*mediations, *follow_ups]:
            row.copy_area()
        Mediation.objects.bulk_create(mediations)
        FollowUp.objects.bulk_create(follow_ups)
        Notification.objects.bulk_create(self.notifications)


class Command(BaseCommand):
    help = (
        "Create demo data: real Lhasa places, grid workers, staff and officials, and a few "
        "hundred issues in every state. Safe to run twice. Never run it in production."
    )

    password: str | None = None

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        with transaction.atomic():
            places, districts, subdistricts = self.seed_areas()
            demo = self.seed_people(places, districts, subdistricts)
            demo_community = next(p for p in places if p.spec.name == data.DEMO_COMMUNITY)
            if Issue.objects.filter(community=demo_community.community).exists():
                self.stdout.write(
                    f"Issues: {data.DEMO_COMMUNITY} has issues already; left as they are."
                )
            else:
                self.stdout.write(f"Issues: writing {ISSUE_COUNT} with their histories ...")
                seeder = IssueSeeder(places, demo, timezone.now())
                seeder.run(ISSUE_COUNT)
                self.stdout.write(f"Issues: {seeder.report()}.")
            residents_demo.seed(self.stdout.write)
            self.stdout.write(self.seed_wishes(places))
        self.stdout.write(self.style.SUCCESS(self.summary(time.monotonic() - started)))

    def seed_wishes(self, places: list[Place]) -> str:
        """慈松塘社区's micro-wishes, offers and providers, with the demo provider's login."""
        place = next(p for p in places if p.spec.name == wishes_demo.COMMUNITY)
        return wishes_demo.seed_wishes(
            place.community,
            [c for grid in place.grids for c in place.courtyards[grid.pk]],
            place.staff[0],
            [u for grid in place.grids for u in place.workers[grid.pk]],
            lambda username, name: self.user(data.Person(username, name)),
        )

    def seed_areas(
        self,
    ) -> tuple[list[Place], dict[str, District], dict[str, Subdistrict]]:
        places: list[Place] = []
        districts: dict[str, District] = {}
        subdistricts: dict[str, Subdistrict] = {}
        created = 0
        for d in data.PLACES:
            district, new = District.objects.get_or_create(
                name=d.name, defaults={"is_county": d.is_county}
            )
            districts[d.name] = district
            created += new
            for s in d.subdistricts:
                subdistrict, new = Subdistrict.objects.get_or_create(
                    district=district, name=s.name, defaults={"is_township": s.is_township}
                )
                subdistrict.district = district
                subdistricts[s.name] = subdistrict
                created += new
                for c in s.communities:
                    community, new = Community.objects.get_or_create(
                        subdistrict=subdistrict, name=c.name, defaults={"is_village": c.is_village}
                    )
                    # Cached parents let Issue.set_area_from_courtyard() run without queries.
                    community.subdistrict = subdistrict
                    created += new
                    place = Place(c, community)
                    for g in c.grids:
                        grid, new = Grid.objects.get_or_create(community=community, name=g.name)
                        grid.community = community
                        created += new
                        place.grids.append(grid)
                        place.courtyards[grid.pk] = []
                        for name, address in g.courtyards:
                            courtyard, new = self.courtyard(c, grid, name, address)
                            courtyard.grid = grid
                            created += new
                            place.courtyards[grid.pk].append(courtyard)
                    places.append(place)
        self.stdout.write(f"Areas: {created} created, the rest were there already.")
        return places, districts, subdistricts

    def courtyard(
        self, spec: data.CommunitySpec, grid: Grid, name: str, address: str
    ) -> tuple[Courtyard, bool]:
        # Seeded by name, so that a courtyard has the same leader and position on every run.
        rng = random.Random(f"{spec.name}/{grid.name}/{name}")
        latitude, longitude = spec.centre
        return Courtyard.objects.get_or_create(
            grid=grid,
            name=name,
            defaults={
                "address": address,
                "latitude": Decimal(f"{latitude + rng.uniform(-0.004, 0.004):.6f}"),
                "longitude": Decimal(f"{longitude + rng.uniform(-0.004, 0.004):.6f}"),
                "leader_name": rng.choice(data.COURTYARD_LEADERS),
                "leader_phone": mobile(rng),
                "households": rng.randint(20, 60) if spec.is_village else rng.randint(12, 85),
            },
        )

    def user(self, person: data.Person, **extra: Any) -> User:
        user = get_user_model().objects.filter(username=person.username).first()
        if user is not None:
            return user
        user = get_user_model()(
            username=person.username,
            first_name=person.name,
            email=f"{person.username}@example.org",
            **extra,
        )
        # One hash for every demo account: hashing is slow on purpose, half a second each.
        if self.password is None:
            user.set_password(data.DEMO_PASSWORD)
            self.password = user.password
        else:
            user.password = self.password
        user.save()
        return user

    def seed_people(
        self,
        places: list[Place],
        districts: dict[str, District],
        subdistricts: dict[str, Subdistrict],
    ) -> dict[str, User]:
        before = get_user_model().objects.count()
        for place in places:
            for grid, spec in zip(place.grids, place.spec.grids, strict=True):
                place.workers[grid.pk] = []
                for person in spec.workers:
                    user = self.user(person)
                    rng = random.Random(person.username)
                    worker, _ = GridWorker.objects.get_or_create(
                        user=user, defaults={"phone": mobile(rng)}
                    )
                    worker.grids.add(grid)
                    place.workers[grid.pk].append(user)
            for person in place.spec.staff:
                user = self.user(person)
                StaffAssignment.objects.get_or_create(user=user, community=place.community)
                place.staff.append(user)
        for person, district, subdistrict in data.OFFICIALS:
            OfficialAssignment.objects.get_or_create(
                user=self.user(person),
                district=districts[district] if district else None,
                subdistrict=subdistricts[subdistrict] if subdistrict else None,
            )
        self.user(data.ADMIN, is_staff=True, is_superuser=True)
        demo = {
            p.username: self.user(p)
            for p in (data.GRIDWORKER, data.STAFF, data.OFFICIAL, data.ADMIN)
        }
        created = get_user_model().objects.count() - before
        self.stdout.write(
            f"People: {created} users created; demo accounts {', '.join(demo)} "
            f"(password {data.DEMO_PASSWORD})."
        )
        return demo

    def summary(self, seconds: float) -> str:
        statuses = Counter(
            dict(Issue.objects.order_by().values_list("status").annotate(n=Count("pk")))
        )
        by_status = ", ".join(f"{s} {statuses.get(s, 0)}" for s in S.values)
        return (
            f"Demo data in {seconds:.1f}s: {District.objects.count()} districts/counties, "
            f"{Subdistrict.objects.count()} subdistricts/townships, "
            f"{Community.objects.count()} communities/villages, {Grid.objects.count()} grids, "
            f"{Courtyard.objects.count()} courtyards, {get_user_model().objects.count()} users, "
            f"{sum(statuses.values())} issues ({by_status})."
        )
