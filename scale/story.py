"""The life of each issue in `seed_scale`, played forward as the services would have written it.

An issue is logged, listed (or handled at once if urgent), started, mediated if it is a
dispute, resolved, visited and revisited, or reopened after an unsatisfied visit, with each
step a realistic delay after the one before. A step that would fall after "now" does not
happen, so recent issues are the ones still open. Every step leaves the rows the services
leave: the state timestamps on the issue, one event with its from/to states, a mediation, the
follow-up visits. Times are epoch seconds until a row is emitted.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import accumulate
from typing import Any

from issues.models import new_reference
from issues.search import bigrams
from scale import text

CENTS = Decimal("0.01")
DAY = 86400.0
HOUR = 3600.0
YEARS = 3

COLLECTED, LISTED, IN_PROGRESS, RESOLVED, REVISITED = (
    "collected",
    "listed",
    "in_progress",
    "resolved",
    "revisited",
)

# Category mix: sanitation, parking and roads are what residents raise most.
CATEGORY_WEIGHTS = {
    "sanitation": 20,
    "parking": 17,
    "road": 16,
    "drainage": 5,
    "electrical": 7,
    "other": 8,
    "micro_wish": 7,
    "participation": 6,
    "dispute": 6,
    "wage_arrears": 3,
}
# Lhasa's rain falls in June–September; winter heating loads the old wiring.
SEASON_FACTORS = {
    "rainy": {"drainage": 4.0, "electrical": 1.5},
    "winter": {"drainage": 0.2, "electrical": 2.0, "wage_arrears": 2.0},
    "other": {},
}
PATROL_HAZARDS = {"road": 25, "electrical": 20, "drainage": 20, "sanitation": 20, "parking": 10}
SOURCES = (("visit", 55), ("phone", 15), ("wechat", 12), ("walk_in", 6))
PATROL_SHARE = 0.12
PATROLS_PER_ISSUE = 0.25  # patrols per issue; the first HAZARD_PATROLS of them find hazards
HAZARD_PATROLS = 0.09

SATISFACTION = (("satisfied", 84), ("basically", 13), ("unsatisfied", 3))
VISIT_METHODS = (("in_person", 55), ("phone", 35), ("wechat", 10))
MEDIATION_METHODS = (("in_person", 50), ("committee", 25), ("council", 15), ("lawyer", 5))


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


# The attnames of the rows each table receives, in the order the rows hold them.
ISSUE_COLUMNS = _columns(
    "id reference title description urgency source resident_name resident_phone status "
    "created_at listed_at started_at resolved_at revisited_at last_activity_at due_at "
    "resolution people_affected amount_owed amount_recovered search_text assignee_id "
    "category_id community_id courtyard_id created_by_id district_id grid_id patrol_id "
    "subdistrict_id"
)
EVENT_COLUMNS = _columns("issue_id actor_id action from_status to_status note created_at")
FOLLOW_UP_COLUMNS = _columns(
    "issue_id visit_no due_at assignee_id done_at done_by_id method satisfaction notes "
    "reminded_on escalated_at created_at grid_id community_id subdistrict_id district_id"
)
MEDIATION_COLUMNS = _columns(
    "issue_id mediator_id mediated_on parties place method outcome agreement created_by_id "
    "created_at grid_id community_id subdistrict_id district_id"
)
PATROL_COLUMNS = _columns("id grid_worker_id grid_id kind started_at ended_at notes")

METHOD_LABELS = {"in_person": "上门", "phone": "电话", "wechat": "微信"}
SATISFACTION_LABELS = {"satisfied": "满意", "basically": "基本满意", "unsatisfied": "不满意"}
OUTCOME_LABELS = {"agreement": "达成协议", "partial": "部分达成", "failed": "调解未成"}


@dataclass
class CategoryInfo:
    id: int
    code: str
    limit: float  # seconds
    is_dispute: bool
    follow_up_days: list[int]
    urgent_by_default: bool


@dataclass
class Areas:
    """The scale areas and people as plain lists, indexed by position, for fast sampling."""

    courtyard_ids: list[int] = field(default_factory=list)
    courtyard_names: list[str] = field(default_factory=list)
    courtyard_grid: list[int] = field(default_factory=list)  # position in grid_ids
    courtyard_weights: list[float] = field(default_factory=list)
    grid_ids: list[int] = field(default_factory=list)
    grid_community: list[int] = field(default_factory=list)  # position in community_ids
    grid_workers: list[list[int]] = field(default_factory=list)
    grid_courtyards: list[list[int]] = field(default_factory=list)
    community_ids: list[int] = field(default_factory=list)
    community_subdistrict_id: list[int] = field(default_factory=list)
    community_district_id: list[int] = field(default_factory=list)
    community_staff: list[list[int]] = field(default_factory=list)
    user_names: dict[int, str] = field(default_factory=dict)


@dataclass
class Batch:
    patrols: list[tuple[Any, ...]] = field(default_factory=list)
    issues: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    follow_ups: list[tuple[Any, ...]] = field(default_factory=list)
    mediations: list[tuple[Any, ...]] = field(default_factory=list)
    scripted_reference: str = ""


def _cum(pairs: tuple[tuple[str, int], ...]) -> tuple[list[str], list[float]]:
    return [k for k, _ in pairs], list(accumulate(w for _, w in pairs))


class _Visit:
    __slots__ = ("assignee", "created", "done", "done_by", "due", "method", "no", "notes", "sat")

    def __init__(self, no: int, due: float, assignee: int, created: float) -> None:
        self.no, self.due, self.assignee, self.created = no, due, assignee, created
        self.done: float | None = None
        self.done_by: int | None = None
        self.method = self.sat = self.notes = ""


class Timeline:
    """One issue's rows, built by calling the steps in the order they happened."""

    __slots__ = (
        "amount_recovered",
        "assignee",
        "cat",
        "due_at",
        "events",
        "listed_at",
        "mediations",
        "names",
        "resolution",
        "resolved_at",
        "revisited_at",
        "started_at",
        "status",
        "visits",
    )

    def __init__(self, cat: CategoryInfo, t0: float, creator: int, names: dict[int, str]):
        self.cat = cat
        self.names = names
        self.status = COLLECTED
        self.events: list[tuple[float, int | None, str, str, str, str]] = [
            (t0, creator, "create", "", COLLECTED, "")
        ]
        self.listed_at = self.started_at = self.resolved_at = self.revisited_at = None
        self.due_at: float | None = None
        self.assignee: int | None = None
        self.visits: list[_Visit] = []
        self.mediations: list[tuple[float, int, str, str]] = []  # at, mediator, outcome, text
        self.resolution = ""
        self.amount_recovered: Decimal | None = None

    def _move(self, t: float, by: int | None, action: str, target: str, note: str = "") -> None:
        self.events.append((t, by, action, self.status, target, note))
        self.status = target

    def _note(self, t: float, by: int | None, action: str, note: str = "") -> None:
        self.events.append((t, by, action, "", "", note))

    def put_on_list(self, t: float, by: int, assignee: int) -> None:
        self.assignee = assignee
        self.listed_at = t
        self.due_at = t + self.cat.limit
        due = local_minute(self.due_at)
        self._move(t, by, "list", LISTED, f"指派给{self.names[assignee]}。期限{due}。")

    def handle_now(self, t: float, by: int) -> None:
        self.assignee = by
        self.started_at = t
        self.due_at = t + self.cat.limit
        self._move(t, by, "handle_now", IN_PROGRESS, "紧急情况立即办。")

    def start(self, t: float, by: int) -> None:
        self.started_at = t
        self._move(t, by, "start", IN_PROGRESS)

    def assign(self, t: float, by: int, assignee: int) -> None:
        self.assignee = assignee
        self._note(t, by, "assign", f"指派给{self.names[assignee]}。")

    def comment(self, t: float, by: int, note: str) -> None:
        self._note(t, by, "comment", note)

    def mediate(self, t: float, by: int, mediator: int, outcome: str, agreement: str) -> None:
        self.mediations.append((t, mediator, outcome, agreement))
        self._note(t, by, "mediate", f"{OUTCOME_LABELS[outcome]}: {agreement}".strip(": "))

    def resolve(self, t: float, by: int, resolution: str) -> None:
        """Resolve and schedule the visits: to the last successful mediator, else the resolver."""
        self.resolution = resolution
        self.resolved_at = t
        self._move(t, by, "resolve", RESOLVED, resolution)
        visitor = by
        for _, mediator, outcome, _ in reversed(self.mediations):
            if outcome != "failed":
                visitor = mediator
                break
        scheduled = t + 5
        start_no = len(self.visits)
        new = [
            _Visit(start_no + i + 1, t + d * DAY, visitor, scheduled)
            for i, d in enumerate(self.cat.follow_up_days)
        ]
        self.visits.extend(new)
        if new:
            dates = ", ".join(_local_day(v.due)[0] for v in new)
            self._note(scheduled, None, "schedule", dates)

    def reopen(self, t: float, by: int | None, reason: str) -> None:
        # The visits not yet made are dropped; the next resolution schedules new ones.
        self.visits = [w for w in self.visits if w.done is not None]
        self._move(t, by, "reopen", IN_PROGRESS, reason)
        self.started_at = t
        self.resolved_at = self.revisited_at = None

    def pending(self) -> list[_Visit]:
        return [v for v in self.visits if v.done is None]

    def visit(self, v: _Visit, t: float, by: int, method: str, sat: str, notes: str) -> None:
        """Record a visit: unsatisfied reopens the issue, all due visits done revisits it."""
        v.done, v.done_by, v.method, v.sat, v.notes = t, by, method, sat, notes
        note = f"第{v.no}次回访（{METHOD_LABELS[method]}）：{SATISFACTION_LABELS[sat]}。{notes}"
        self._note(t, by, "follow_up", note)
        if sat == "unsatisfied" and self.status in (RESOLVED, REVISITED):
            self.reopen(t + 1, None, f"第{v.no}次回访居民不满意。")
        elif self.status == RESOLVED and not any(w.due <= t for w in self.pending()):
            self._move(t + 1, None, "revisit", REVISITED, "截至目前的回访居民均满意。")
            self.revisited_at = t + 1


_TZ_OFFSET = 8 * HOUR  # Asia/Shanghai, the project's TIME_ZONE; no daylight saving since 1991


# Formatting a timestamp is most of the cost of a row; days and times of day repeat, so
# they are formatted once each.
_UTC_DAYS: dict[int, str] = {}
_LOCAL_DAYS: dict[int, tuple[str, date]] = {}
_TIMES = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}+00" for s in range(int(DAY))]
_MINUTES = [f"{m // 60:02d}:{m % 60:02d}" for m in range(24 * 60)]


def _local_day(t: float) -> tuple[str, date]:
    day = int((t + _TZ_OFFSET) // DAY)
    found = _LOCAL_DAYS.get(day)
    if found is None:
        d = datetime.fromtimestamp(day * DAY, UTC).date()
        found = _LOCAL_DAYS[day] = (d.isoformat(), d)
    return found


def _local_date(t: float) -> date:
    return _local_day(t)[1]


def _month(t: float) -> int:
    return _local_day(t)[1].month


def local_minute(t: float) -> str:
    """Local time to the minute (2024-05-01 18:00), as a due date reads in a note."""
    return f"{_local_day(t)[0]} {_MINUTES[int((t + _TZ_OFFSET) % DAY) // 60]}"


def _grams(part: str) -> str:
    return " ".join(bigrams(part))


class Generator:
    """Draws batches of issues with their events, visits, mediations and patrols."""

    def __init__(
        self,
        rng: random.Random,
        areas: Areas,
        categories: list[CategoryInfo],
        now: float,
        ts: Callable[[float], Any],
        references: set[str],
        grace: float,
    ) -> None:
        self.rng = rng
        self.a = areas
        self.now = now
        self.ts = ts  # epoch seconds → the value the writer wants for a DateTimeField
        self.references = references
        self.grace = grace
        self.categories = {c.code: c for c in categories}
        self.by_season = {
            season: self._category_table(categories, CATEGORY_WEIGHTS, factors, default=3)
            for season, factors in SEASON_FACTORS.items()
        }
        self.hazards = self._category_table(categories, PATROL_HAZARDS, {}, default=0)
        self.cy_cum = list(accumulate(areas.courtyard_weights))
        grid_weights = [0.0] * len(areas.grid_ids)
        for i, g in enumerate(areas.courtyard_grid):
            grid_weights[g] += areas.courtyard_weights[i]
        self.grid_cum = list(accumulate(grid_weights))
        self.sources, self.source_cum = _cum(SOURCES)
        self.sats, self.sat_cum = _cum(SATISFACTION)
        self.sats_ok, self.sat_ok_cum = _cum(SATISFACTION[:2])
        self.methods, self.method_cum = _cum(VISIT_METHODS)
        self.med_methods, self.med_method_cum = _cum(MEDIATION_METHODS)
        self._grams: dict[str, str] = {}

    @staticmethod
    def _category_table(
        categories: list[CategoryInfo],
        weights: dict[str, int],
        factors: dict[str, float],
        *,
        default: int,
    ) -> tuple[list[CategoryInfo], list[float]]:
        # Categories an administrator added are drawn too, as rarely as "other" by default.
        w = [weights.get(c.code, default) * factors.get(c.code, 1) for c in categories]
        if not any(w):
            w = [1.0] * len(categories)
        return list(categories), list(accumulate(w))

    # --- sampling helpers ----------------------------------------------------------------

    def _pick(self, items: list[Any], cum: list[float]) -> Any:
        return items[bisect(cum, self.rng.random() * cum[-1])]

    def _created_at(self) -> float:
        """More issues lately than three years ago (use has grown), logged in the daytime."""
        rng = self.rng
        age = (2 - math.sqrt(4 - 3 * rng.random())) * YEARS * 365 * DAY
        t = self.now - age
        day = (t + _TZ_OFFSET) // DAY * DAY - _TZ_OFFSET
        t = day + rng.uniform(8.5 * HOUR, 20 * HOUR)
        return t if t < self.now else t - DAY

    def resident(self) -> tuple[str, str]:
        rng = self.rng
        r = rng.random()
        if r < 0.12:
            name = ""
        elif r < 0.45:
            name = rng.choice(text.TIBETAN_GIVEN) + rng.choice(text.TIBETAN_GIVEN)
        elif r < 0.75:
            name = rng.choice(text.TIBETAN_GIVEN)
        else:
            name = rng.choice(text.HAN_SURNAMES) + rng.choice(text.HAN_GIVEN)
        r = rng.random()
        if r < 0.2:
            phone = ""
        elif r < 0.3:
            phone = f"0891-6{rng.randrange(10**6):06d}"
        else:
            phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"
        return name, phone

    def reference(self) -> str:
        while True:
            ref = new_reference()
            if ref not in self.references:
                self.references.add(ref)
                return ref

    def words(self, cat: CategoryInfo, source: str, courtyard: str, people: int) -> tuple[str, str]:
        """A title and a description; free text varies, the phrases repeat as in real lists."""
        rng = self.rng
        pool = text.CATEGORY_TEXT.get(cat.code, text.CATEGORY_TEXT["other"])
        subject, problem = rng.choice(pool.subjects), rng.choice(pool.problems)
        details = rng.sample(pool.details, 2)
        opening = rng.choice(text.OPENINGS[source])
        if cat.code == "wage_arrears":
            title = f"{people}名务工人员反映{subject}{problem}"
            body = f"{opening}{courtyard}{people}名务工人员在{subject}务工，{problem}"
        elif cat.code == "micro_wish":
            title = f"{subject}{problem}"
            body = f"{opening}{courtyard}一位{subject}{problem}"
        elif cat.code == "dispute":
            title = f"{subject}{problem}"
            body = f"{opening}{courtyard}{subject}之间发生{problem}"
        else:
            spot = rng.choice(text.SPOTS)
            title = f"{spot}{subject}{problem}"
            body = f"{opening}{courtyard}{spot}{subject}{problem}"
        request = rng.choice(text.REQUESTS) if rng.random() < 0.7 else ""
        return title, f"{body}，{details[0]}，{details[1]}。{request}"

    def search_document(self, title: str, description: str, name: str) -> str:
        """Exactly `Issue.search_document()`; titles and names repeat, so their grams are kept."""
        parts = []
        if title:
            grams = self._grams.get(title)
            if grams is None:
                grams = self._grams[title] = _grams(title)
            parts.append(grams)
        if description:
            parts.append(_grams(description))
        if name:
            grams = self._grams.get(name)
            if grams is None:
                grams = self._grams[name] = _grams(name)
            parts.append(grams)
        return " ".join(parts)

    # --- one batch -----------------------------------------------------------------------

    @staticmethod
    def patrols_for(issues: int) -> int:
        return max(1, round(issues * PATROLS_PER_ISSUE))

    def batch(self, issue_ids: list[int], patrol_ids: list[int], *, scripted: bool) -> Batch:
        out = Batch()
        patrols = [self._patrol(pid, out) for pid in patrol_ids]
        hazard_patrols = patrols[: max(1, round(len(issue_ids) * HAZARD_PATROLS))]
        for n, issue_id in enumerate(issue_ids):
            if scripted and n == 0:
                out.scripted_reference = self._issue(issue_id, out, None, script=True)
            elif self.rng.random() < PATROL_SHARE:
                self._issue(issue_id, out, self.rng.choice(hazard_patrols))
            else:
                self._issue(issue_id, out, None)
        return out

    def _patrol(self, patrol_id: int, out: Batch) -> tuple[int, int, int, float, float]:
        rng, a = self.rng, self.a
        g = bisect(self.grid_cum, rng.random() * self.grid_cum[-1])
        worker = rng.choice(a.grid_workers[g])
        start = self._created_at()
        month = _month(start)
        r = rng.random()
        if 6 <= month <= 9 and r < 0.4:
            kind = "flood"
        elif r > 0.82:
            kind = "safety"
        else:
            kind = "routine"
        end = start + rng.uniform(0.7 * HOUR, 3 * HOUR)
        ts = self.ts
        out.patrols.append(
            (
                patrol_id,
                worker,
                a.grid_ids[g],
                kind,
                ts(start),
                ts(end) if end < self.now else None,
                rng.choice(text.PATROL_NOTES[kind]),
            )
        )
        return patrol_id, g, worker, start, min(end, self.now - 60)

    def _issue(
        self,
        issue_id: int,
        out: Batch,
        patrol: tuple[int, int, int, float, float] | None,
        *,
        script: bool = False,
    ) -> str:
        rng, a = self.rng, self.a
        if patrol is not None:
            patrol_id, g, patrol_worker, p_start, p_end = patrol
            cy = rng.choice(a.grid_courtyards[g])
            t0 = rng.uniform(p_start, p_end)
            source = "patrol"
            cat = self._pick(*self.hazards)
        else:
            patrol_id = None
            cy = bisect(self.cy_cum, rng.random() * self.cy_cum[-1])
            g = a.courtyard_grid[cy]
            t0 = self._created_at()
            source = self._pick(self.sources, self.source_cum)
            m = _month(t0)
            season = "rainy" if 6 <= m <= 9 else "winter" if m in (11, 12, 1, 2) else "other"
            cat = self._pick(*self.by_season[season])
        if script:
            cat = next((c for c in self.categories.values() if c.is_dispute), cat)
            t0 = self.now - 240 * DAY
            source = "visit"
        c = a.grid_community[g]
        staff = a.community_staff[c]
        workers = a.grid_workers[g]
        if patrol is not None:
            creator = patrol_worker
        elif source == "visit":
            creator = rng.choice(workers)
        else:
            creator = rng.choice(staff) if rng.random() < 0.7 else rng.choice(workers)
        if cat.urgent_by_default:
            urgent = rng.random() < 0.85
        else:
            urgent = rng.random() < (0.06 if cat.is_dispute else 0.03)

        tl = Timeline(cat, t0, creator, a.user_names)
        if script:
            self._script_fifty(tl, staff, workers)
        else:
            self._play(tl, urgent, creator, staff, workers)

        people = owed = None
        if cat.code == "wage_arrears":
            people = rng.randint(2, 30)
            owed = people * rng.randrange(30, 300) * 100
            if tl.resolution:
                r = rng.random()
                share = 1 if r < 0.65 else rng.uniform(0.4, 0.9) if r < 0.95 else 0
                tl.amount_recovered = Decimal(round(owed * share, -2)).quantize(CENTS)
        title, description = self.words(cat, source, a.courtyard_names[cy], people or 0)
        if owed is not None:
            description = description.replace("，", f"，共计约{owed}元，", 1)
            owed = Decimal(owed).quantize(CENTS)
        name, phone = self.resident()
        reference = self.reference()
        ts = self.ts
        tl.events.sort(key=lambda e: e[0])
        last = tl.events[-1][0]
        out.issues.append(
            (
                issue_id,
                reference,
                title,
                description,
                "urgent" if urgent else "normal",
                source,
                name,
                phone,
                tl.status,
                ts(t0),
                _ts_or_none(ts, tl.listed_at),
                _ts_or_none(ts, tl.started_at),
                _ts_or_none(ts, tl.resolved_at),
                _ts_or_none(ts, tl.revisited_at),
                ts(last),
                _ts_or_none(ts, tl.due_at),
                tl.resolution,
                people,
                owed,
                tl.amount_recovered,
                self.search_document(title, description, name),
                tl.assignee,
                cat.id,
                a.community_ids[c],
                a.courtyard_ids[cy],
                creator,
                a.community_district_id[c],
                a.grid_ids[g],
                patrol_id,
                a.community_subdistrict_id[c],
            )
        )
        out.events.extend(
            (issue_id, actor, action, frm, to, note, ts(t))
            for t, actor, action, frm, to, note in tl.events
        )
        area = (
            a.grid_ids[g],
            a.community_ids[c],
            a.community_subdistrict_id[c],
            a.community_district_id[c],
        )
        self._emit_visits(issue_id, tl, out, area)
        self._emit_mediations(issue_id, tl, out, area)
        return reference

    def _emit_visits(
        self, issue_id: int, tl: Timeline, out: Batch, area: tuple[int, int, int, int]
    ) -> None:
        ts, now = self.ts, self.now
        for v in tl.visits:
            if v.done is not None:
                out.follow_ups.append(
                    (
                        issue_id,
                        v.no,
                        ts(v.due),
                        v.assignee,
                        ts(v.done),
                        v.done_by,
                        v.method,
                        v.sat,
                        v.notes,
                        None,
                        None,
                        ts(v.created),
                        *area,
                    )
                )
            else:
                # What the beat tasks would have written by now: reminded today, escalated once.
                reminded = _local_date(now) if v.due <= now else None
                escalated = None
                if v.due < now - self.grace:
                    escalated = ts(min(v.due + self.grace + self.rng.uniform(0, HOUR), now - 60))
                out.follow_ups.append(
                    (
                        issue_id,
                        v.no,
                        ts(v.due),
                        v.assignee,
                        None,
                        None,
                        "",
                        "",
                        "",
                        reminded,
                        escalated,
                        ts(v.created),
                        *area,
                    )
                )

    def _emit_mediations(
        self, issue_id: int, tl: Timeline, out: Batch, area: tuple[int, int, int, int]
    ) -> None:
        rng, ts = self.rng, self.ts
        for t, mediator, outcome, agreement in tl.mediations:
            if tl.cat.code == "wage_arrears":
                parties = (
                    f"务工人员代表{rng.choice(text.TIBETAN_GIVEN)}、{rng.choice(text.COMPANIES)}"
                )
            else:
                parties = (
                    f"{rng.choice(text.TIBETAN_GIVEN)}{rng.choice(text.TIBETAN_GIVEN)}、"
                    f"{rng.choice(text.HAN_SURNAMES)}{rng.choice(text.HAN_GIVEN)}"
                )
            out.mediations.append(
                (
                    issue_id,
                    mediator,
                    _local_date(t - HOUR),
                    parties,
                    rng.choice(text.MEDIATION_PLACES),
                    self._pick(self.med_methods, self.med_method_cum),
                    outcome,
                    agreement,
                    mediator,
                    ts(t),
                    *area,
                )
            )

    # --- the plot ----------------------------------------------------------------------------

    def _stall(self, age: float) -> str | None:
        """Some issues stop moving: many of this month's, a few of every month's since."""
        rng = self.rng
        if rng.random() >= 0.003 + 0.15 * math.exp(-age / (90 * DAY)):
            return None
        r = rng.random()
        if age < 7 * DAY:
            return COLLECTED if r < 0.4 else LISTED if r < 0.7 else IN_PROGRESS
        return COLLECTED if r < 0.1 else LISTED if r < 0.35 else IN_PROGRESS

    def _play(
        self, tl: Timeline, urgent: bool, creator: int, staff: list[int], workers: list[int]
    ) -> None:
        rng, now, cat = self.rng, self.now, tl.cat
        t = tl.events[0][0]
        stall = self._stall(now - t)
        if urgent and rng.random() < 0.7:
            t += rng.uniform(300, 2 * HOUR)
            if t >= now or stall == COLLECTED:
                return
            by = creator if creator in workers and rng.random() < 0.6 else rng.choice(staff)
            tl.handle_now(t, by)
        else:
            t += rng.lognormvariate(math.log(0.7 * HOUR if urgent else 4 * HOUR), 1.0)
            if t >= now or stall == COLLECTED:
                return
            by = rng.choice(staff)
            r = rng.random()
            assignee = by if r < 0.45 else rng.choice(workers) if r < 0.8 else rng.choice(staff)
            tl.put_on_list(t, by, assignee)
            if rng.random() < 0.05:
                t += rng.uniform(HOUR, DAY)
                if t >= now:
                    return
                tl.assign(t, by, rng.choice(workers + staff))
            t += rng.lognormvariate(math.log(0.06 * cat.limit), 0.9)
            if t >= now or stall == LISTED:
                return
            tl.start(t, tl.assignee)
        for cycle in range(3):
            assert tl.due_at is not None
            if cycle == 0 and rng.random() > 0.1:
                t_res = t + rng.uniform(0.05, 0.95) * max(tl.due_at - t, HOUR)
            elif cycle == 0:
                t_res = max(t, tl.due_at) + rng.expovariate(1 / (0.4 * cat.limit))
            else:
                t_res = t + rng.uniform(0.5, 6) * DAY
            if rng.random() < 0.12:
                at = t + rng.uniform(0.2, 0.8) * (t_res - t)
                if at < now:
                    tl.comment(at, rng.choice([*staff, *workers]), rng.choice(text.COMMENTS))
            if cat.is_dispute:
                self._mediations(tl, t, t_res, staff, stall)
            if t_res >= now or stall == IN_PROGRESS:
                return
            resolver = tl.assignee if rng.random() < 0.75 else rng.choice(staff)
            assert resolver is not None
            tl.resolve(
                t_res,
                resolver,
                rng.choice(
                    text.CATEGORY_TEXT.get(cat.code, text.CATEGORY_TEXT["other"]).resolutions
                ),
            )
            t = self._visits(tl, t_res, allow_unsatisfied=cycle < 2)
            if tl.status != IN_PROGRESS:
                return

    def _mediations(
        self, tl: Timeline, t: float, t_res: float, staff: list[int], stall: str | None
    ) -> None:
        rng, now = self.rng, self.now
        mediator = tl.assignee if tl.assignee is not None and rng.random() < 0.6 else None
        mediator = mediator or rng.choice(staff)
        recorder = rng.choice(staff)
        if rng.random() < 0.15:
            at = t + 0.3 * (t_res - t)
            if at < now:
                tl.mediate(at, recorder, mediator, "failed", rng.choice(text.PARTIAL_AGREEMENTS))
        at = t + 0.8 * (t_res - t)
        if at >= now or (stall == IN_PROGRESS and rng.random() < 0.5):
            return
        if stall == IN_PROGRESS:
            tl.mediate(at, recorder, mediator, "partial", rng.choice(text.PARTIAL_AGREEMENTS))
        else:
            tl.mediate(at, recorder, mediator, "agreement", rng.choice(text.AGREEMENTS))

    def _visits(self, tl: Timeline, t: float, *, allow_unsatisfied: bool) -> float:
        """Make the visits whose day has come; returns when the issue was reopened, if it was."""
        rng, now = self.rng, self.now
        done = t
        for v in tl.pending():
            delay = rng.expovariate(1 / (1.5 * DAY))
            if rng.random() < 0.04:
                delay += rng.expovariate(1 / (20 * DAY))
            done = max(v.due, done) + delay
            if done >= now or rng.random() < 0.012:
                break
            if allow_unsatisfied:
                sat = self._pick(self.sats, self.sat_cum)
            else:
                sat = self._pick(self.sats_ok, self.sat_ok_cum)
            notes = rng.choice(text.UNSATISFIED_NOTES if sat == "unsatisfied" else text.VISIT_NOTES)
            tl.visit(v, done, v.assignee, self._pick(self.methods, self.method_cum), sat, notes)
            if tl.status == IN_PROGRESS:
                return done + 1
        return done

    def _script_fifty(self, tl: Timeline, staff: list[int], workers: list[int]) -> None:
        """A long dispute for the benchmark's "issue page with 50 events": exactly 50 rows."""
        rng = self.rng
        t = tl.events[0][0]
        by = staff[0]
        tl.put_on_list(t + 2 * HOUR, by, by)
        tl.assign(t + 3 * HOUR, by, workers[0])
        tl.start(t + DAY, workers[0])
        tl.mediate(t + 3 * DAY, by, by, "failed", text.PARTIAL_AGREEMENTS[0])
        tl.mediate(t + 6 * DAY, by, by, "partial", text.PARTIAL_AGREEMENTS[1])
        tl.mediate(t + 9 * DAY, by, by, "agreement", text.AGREEMENTS[0])
        tl.resolve(t + 10 * DAY, by, text.CATEGORY_TEXT["dispute"].resolutions[0])
        first = tl.pending()
        if first:
            tl.visit(
                first[0],
                first[0].due + HOUR,
                by,
                "in_person",
                "unsatisfied",
                text.UNSATISFIED_NOTES[0],
            )
        else:
            tl.reopen(t + 11 * DAY, by, "居民再次反映。")
        reopened = tl.events[-1][0]
        tl.mediate(reopened + 20 * DAY, by, by, "agreement", text.AGREEMENTS[1])
        t_res = reopened + 21 * DAY
        tl.resolve(t_res, by, text.CATEGORY_TEXT["dispute"].resolutions[1])
        for v in tl.pending():
            if v.due + HOUR < self.now:
                tl.visit(v, v.due + HOUR, by, "phone", "satisfied", text.VISIT_NOTES[0])
        # Comments fill the weeks of work after the reopening, up to exactly fifty rows.
        missing = 50 - len(tl.events)
        for i in range(missing):
            at = reopened + (i + 1) * (19 * DAY) / (missing + 1)
            tl.comment(at, rng.choice([*staff, *workers]), text.COMMENTS[i % len(text.COMMENTS)])


def _ts_or_none(ts: Callable[[float], Any], t: float | None) -> Any:
    return None if t is None else ts(t)


def aware(t: float) -> datetime:
    """What bulk_create wants, to the second as on PostgreSQL."""
    return datetime.fromtimestamp(int(t), UTC)


def pg_timestamp(t: float) -> str:
    """The text form PostgreSQL's COPY reads, to the second."""
    day, second = divmod(int(t), 86400)
    day_text = _UTC_DAYS.get(day)
    if day_text is None:
        day_text = _UTC_DAYS[day] = datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d ")
    return day_text + _TIMES[second]
