"""The life of each issue in `seed_scale`, played forward as the services would have written it.

An issue is logged, listed (or handled at once if urgent), started, mediated if it is a
dispute, resolved, visited and revisited, or reopened after an unsatisfied visit, with each
step a realistic delay after the one before. A step that would fall after "now" does not
happen, so recent issues are the ones still open. Every step leaves the rows the services
leave: the state timestamps on the issue, one event with its from/to states, a mediation, the
follow-up visits. Times are epoch seconds until a row is emitted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from itertools import accumulate
from typing import Any

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
        self.listed_at: float | None = None
        self.started_at: float | None = None
        self.resolved_at: float | None = None
        self.revisited_at: float | None = None
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

    def start(self, t: float, by: int | None) -> None:
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
