"""The dashboard's tallies on PostgreSQL: the triggers that keep them, and the jobs that fold,
check and rebuild them.

A statement on `issues_issue` or `issues_followup` adds, in its own transaction, one row per
key it changed (district, subdistrict, category, local week) holding the differences: the old
rows count negatively, the new ones positively, and keys whose differences are all zero are
left out. So the sums are exact at every moment, whatever wrote the rows: the services, the
admin, a bulk update or a COPY. `compact` folds each key's rows into one; `reconcile` recounts
everything from the source tables and adds a correcting row wherever a sum differs; `rebuild`
starts over.

SQLite, the embedded default, has no tallies: its dashboards count the issues themselves.

What bypasses triggers (TRUNCATE of one table alone, a restore with
session_replication_role = replica) and one statement firing two of a table's triggers
(INSERT … ON CONFLICT DO UPDATE or MERGE on the visits, which the app never writes) can leave
a sum wrong until the nightly recount corrects it.
"""

from __future__ import annotations

import math
import re
import zoneinfo
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from issues.models import FollowUp, Issue

CLOSED = ", ".join(f"'{s}'" for s in Issue.CLOSED_STATUSES)
SATISFIED = ", ".join(f"'{s}'" for s in FollowUp.SATISFIED)
# The grace of FollowUp.ON_TIME_GRACE in seconds, so no session time zone can stretch it.
ON_TIME_GRACE = f"interval '{int(FollowUp.ON_TIME_GRACE.total_seconds())} seconds'"
PATROL = f"'{Issue.Source.PATROL}'"
WEEK_OF_DAY = "(day - (extract(isodow FROM day)::int - 1))"
# Resolution times: whole hours below two days, whole days from there on.
HOUR_BUCKETS = 48
DAY_OFFSET = HOUR_BUCKETS - 2


def bucket_of(seconds: float) -> int:
    """The resolve-time bucket of a duration, as the triggers compute it."""
    if seconds < HOUR_BUCKETS * 3600:
        return max(0, math.floor(seconds / 3600))
    return DAY_OFFSET + math.floor(seconds / 86400)


def at(src: str, column: str) -> str:
    """`src` for the rows placed by `column`: a source relation may filter on `{date}`."""
    return src.replace("{date}", column)


@dataclass(frozen=True)
class Kind:
    table: str
    keys: tuple[str, ...]
    sums: tuple[str, ...]
    source: str
    dates: tuple[str, ...]  # the source's columns that place a row in a week
    areas: tuple[str, ...] = ("district_id", "subdistrict_id")  # the area columns kept

    @property
    def area_list(self) -> str:
        return ", ".join(self.areas)

    def rows(self, src: str, tz: str) -> str:
        """Each source row's contribution, signed by its `sign` column."""
        raise NotImplementedError

    def weekly(self, src: str, tz: str) -> str:
        """The contributions with the Monday of their day as `week`."""
        return f"SELECT *, {WEEK_OF_DAY} AS week FROM ({self.rows(src, tz)}) contribution"

    def grouped(self, src: str, tz: str) -> str:
        keys = ", ".join(self.keys)
        sums = ", ".join(f"sum({s}) AS {s}" for s in self.sums)
        nonzero = " OR ".join(f"sum({s}) <> 0" for s in self.sums)
        return (
            f"SELECT {keys}, {sums} FROM ({self.weekly(src, tz)}) w "
            f"GROUP BY {keys} HAVING {nonzero}"
        )

    def insert(self, select: str, *, pending: bool) -> str:
        cols = ", ".join((*self.keys, *self.sums))
        return (
            f"INSERT INTO {self.table} ({cols}, pending) "
            f"SELECT {cols}, {'true' if pending else 'false'} FROM ({select}) delta"
        )


class IssueKind(Kind):
    def rows(self, src: str, tz: str) -> str:
        day = f"(created_at AT TIME ZONE '{tz}')::date"
        rday = f"(resolved_at AT TIME ZONE '{tz}')::date"
        return (
            f"SELECT {self.area_list}, category_id, {day} AS day, sign AS collected, "
            f"sign * (status IN ({CLOSED}))::int AS closed, "
            f"sign * (source = {PATROL})::int AS hazards, "
            f"0 AS resolved, 0 AS on_time, 0::numeric AS recovered, 0::bigint AS people "
            f"FROM {at(src, 'created_at')} "
            f"UNION ALL "
            f"SELECT {self.area_list}, category_id, {rday}, 0, 0, 0, sign, "
            f"sign * (due_at IS NOT NULL AND resolved_at <= due_at)::int, "
            f"sign * coalesce(amount_recovered, 0), sign * coalesce(people_affected, 0)::bigint "
            f"FROM {at(src, 'resolved_at')} WHERE resolved_at IS NOT NULL"
        )


class ResolveTimeKind(Kind):
    def rows(self, src: str, tz: str) -> str:
        took = "(resolved_at - created_at)"
        secs = f"extract(epoch FROM {took})"
        bucket = (
            f"CASE WHEN {took} < interval '{HOUR_BUCKETS} hours' "
            f"THEN greatest(0, floor({secs} / 3600))::int "
            f"ELSE {DAY_OFFSET} + floor({secs} / 86400)::int END"
        )
        return (
            f"SELECT {self.area_list}, (resolved_at AT TIME ZONE '{tz}')::date AS day, "
            f"{bucket} AS bucket, sign AS resolved FROM {at(src, 'resolved_at')} "
            f"WHERE resolved_at IS NOT NULL"
        )


class VisitKind(Kind):
    def rows(self, src: str, tz: str) -> str:
        return (
            f"SELECT {self.area_list}, (done_at AT TIME ZONE '{tz}')::date AS day, "
            f"sign AS done, sign * (done_at <= due_at + {ON_TIME_GRACE})::int AS on_time, "
            f"sign * (satisfaction IN ({SATISFIED}))::int AS satisfied "
            f"FROM {at(src, 'done_at')} WHERE done_at IS NOT NULL"
        )


class VisitIssueKind(Kind):
    """Issues with a visit done on time (kind 1) or satisfied (kind 2): see VisitIssueTally."""

    @staticmethod
    def qualifies(row: str, kind: int) -> str:
        if kind == ON_TIME:
            return f"{row}done_at IS NOT NULL AND {row}done_at <= {row}due_at + {ON_TIME_GRACE}"
        return f"{row}done_at IS NOT NULL AND {row}satisfaction IN ({SATISFIED})"

    def grouped(self, src: str, tz: str) -> str:
        days = " UNION ALL ".join(
            f"SELECT DISTINCT sign, issue_id, {self.area_list}, {kind} AS kind, "
            f"(done_at AT TIME ZONE '{tz}')::date AS day FROM {src} "
            f"WHERE {self.qualifies('', kind)}"
            for kind in (ON_TIME, SATISFIED_KIND)
        )
        areas = self.area_list
        # Each area chains its own days of an issue: an issue moved by hand can keep visits
        # in two areas, and each counts it once.
        return (
            f"SELECT {areas}, kind, day, next_day, sum(sign) AS n FROM ("
            f"WITH days AS ({days}), seq AS (SELECT *, lead(day) OVER "
            f"(PARTITION BY sign, issue_id, {areas}, kind ORDER BY day) AS following "
            f"FROM days) "
            f"SELECT sign, {areas}, kind, day, day AS next_day FROM seq UNION ALL "
            f"SELECT sign, {areas}, kind, day, following FROM seq "
            f"WHERE following IS NOT NULL) rows "
            f"GROUP BY {areas}, kind, day, next_day HAVING sum(sign) <> 0"
        )

    def changed(self, op: str, tz: str) -> str:
        """The issues whose days with a qualifying visit the statement may have changed."""

        def sig(r: str) -> str:
            return ", ".join(
                [f"{r}.issue_id", *(f"{r}.{a}" for a in self.areas)]
                + [
                    f"CASE WHEN {self.qualifies(r + '.', k)} "
                    f"THEN ({r}.done_at AT TIME ZONE '{tz}')::date END"
                    for k in (ON_TIME, SATISFIED_KIND)
                ]
            )

        def any_day(r: str) -> str:
            return " OR ".join(f"({self.qualifies(r + '.', k)})" for k in (ON_TIME, SATISFIED_KIND))

        if op == "INSERT":
            return f"SELECT n.issue_id FROM new_rows n WHERE {any_day('n')}"
        if op == "DELETE":
            return f"SELECT o.issue_id FROM old_rows o WHERE {any_day('o')}"
        return (
            f"SELECT unnest(ARRAY[o.issue_id, n.issue_id]) AS issue_id "
            f"FROM old_rows o FULL JOIN new_rows n USING (id) "
            f"WHERE o.id IS NULL OR n.id IS NULL OR ({sig('o')}) IS DISTINCT FROM ({sig('n')})"
        )


def _visit_issue_body(op: str, tz: str, kinds: tuple[VisitIssueKind, ...]) -> str:
    """Recount the changed issues' visits before and after the statement, for each kind.

    `kinds` go from the narrowest areas to the widest, whose columns all the others' include.
    """
    widest = kinds[-1]
    cols = f"id, issue_id, {widest.area_list}, done_at, due_at, satisfaction"
    before = [
        f"SELECT {cols} FROM now_rows"
        + (" WHERE id NOT IN (SELECT id FROM new_rows)" if op != "DELETE" else "")
    ]
    if op != "INSERT":
        before.append(f"SELECT {cols} FROM old_rows WHERE issue_id = ANY(changed_ids)")
    recount = " ".join(
        f"WITH now_rows AS (SELECT {cols} FROM {kind.source} "
        f"WHERE issue_id = ANY(changed_ids)), "
        f"before_rows AS ({' UNION ALL '.join(before)}), "
        f"states AS (SELECT 1 AS sign, * FROM now_rows "
        f"UNION ALL SELECT -1 AS sign, * FROM before_rows) "
        f"{kind.insert(kind.grouped('states', tz), pending=True)};"
        for kind in kinds
    )
    return (
        f"SELECT array_agg(DISTINCT issue_id) FILTER (WHERE issue_id IS NOT NULL) "
        f"INTO changed_ids FROM ({widest.changed(op, tz)}) c; "
        # A reminder or an escalation changes no visit's days: nothing more to do.
        f"IF changed_ids IS NOT NULL THEN "
        # Two statements changing visits of one issue at once would each see the other's
        # rows as they were: the issue's row lock puts them one after the other, and the
        # second then reads the first's committed visits, which needs the fresh snapshot
        # each statement takes under READ COMMITTED (Django's default). Above it the count
        # could go wrong silently, so the write is refused instead.
        f"IF current_setting('transaction_isolation') <> 'read committed' THEN RAISE EXCEPTION "
        f"'visits are counted for the dashboards under READ COMMITTED only'; END IF; "
        f"PERFORM 1 FROM issues_issue WHERE id = ANY(changed_ids) ORDER BY id "
        f"FOR NO KEY UPDATE; "
        f"{recount} END IF;"
    )


ON_TIME, SATISFIED_KIND = 1, 2

ISSUES = IssueKind(
    table="issues_issuetally",
    keys=("district_id", "subdistrict_id", "category_id", "week"),
    sums=("collected", "closed", "hazards", "resolved", "on_time", "recovered", "people"),
    source="issues_issue",
    dates=("created_at", "resolved_at"),
)
COMMUNITY_ISSUES = IssueKind(
    table="issues_communityissuetally",
    keys=("district_id", "subdistrict_id", "community_id", "category_id", "week"),
    sums=ISSUES.sums,
    source="issues_issue",
    dates=ISSUES.dates,
    areas=("district_id", "subdistrict_id", "community_id"),
)
RESOLVE_TIMES = ResolveTimeKind(
    table="issues_resolvetimetally",
    keys=("district_id", "week", "bucket"),
    sums=("resolved",),
    source="issues_issue",
    dates=("resolved_at",),
    areas=("district_id",),
)
SUBDISTRICT_RESOLVE_TIMES = ResolveTimeKind(
    table="issues_subdistrictresolvetimetally",
    keys=("district_id", "subdistrict_id", "week", "bucket"),
    sums=("resolved",),
    source="issues_issue",
    dates=("resolved_at",),
)
VISITS = VisitKind(
    table="issues_visittally",
    keys=("district_id", "subdistrict_id", "week"),
    sums=("done", "on_time", "satisfied"),
    source="issues_followup",
    dates=("done_at",),
)
VISIT_ISSUES = VisitIssueKind(
    table="issues_visitissuetally",
    keys=("district_id", "kind", "day", "next_day"),
    sums=("n",),
    source="issues_followup",
    dates=("done_at",),
    areas=("district_id",),
)
SUBDISTRICT_VISIT_ISSUES = VisitIssueKind(
    table="issues_subdistrictvisitissuetally",
    keys=("district_id", "subdistrict_id", "kind", "day", "next_day"),
    sums=("n",),
    source="issues_followup",
    dates=("done_at",),
)
KINDS = (
    ISSUES,
    COMMUNITY_ISSUES,
    RESOLVE_TIMES,
    SUBDISTRICT_RESOLVE_TIMES,
    VISITS,
    VISIT_ISSUES,
    SUBDISTRICT_VISIT_ISSUES,
)
TRIGGERS = {
    "issues_issue": (
        "grassroots_issue_tally",
        (ISSUES, COMMUNITY_ISSUES, RESOLVE_TIMES, SUBDISTRICT_RESOLVE_TIMES),
    ),
    "issues_followup": ("grassroots_visit_tally", (VISITS,)),
}
# The columns the tallies of each table are counted from.
COUNTED = {
    "issues_issue": (
        "district_id",
        "subdistrict_id",
        "community_id",
        "category_id",
        "created_at",
        "resolved_at",
        "status",
        "source",
        "due_at",
        "amount_recovered",
        "people_affected",
    ),
    "issues_followup": ("district_id", "subdistrict_id", "done_at", "due_at", "satisfaction"),
}
# Kinds whose trigger reads more than the statement's rows, each with a function of its own.
OWN_TRIGGERS = [
    ("issues_followup", "grassroots_visit_issue_tally", (VISIT_ISSUES, SUBDISTRICT_VISIT_ISSUES)),
]
# What a dashboard reads, by the level of the areas it covers whole.
BY_LEVEL = {
    "district": {
        "column": "district_id",
        "issues": ISSUES,
        "children": ("subdistrict_id", "district_id"),
        "resolve_times": RESOLVE_TIMES,
        "visit_issues": VISIT_ISSUES,
    },
    "subdistrict": {
        "column": "subdistrict_id",
        "issues": COMMUNITY_ISSUES,
        "children": ("community_id",),
        "resolve_times": SUBDISTRICT_RESOLVE_TIMES,
        "visit_issues": SUBDISTRICT_VISIT_ISSUES,
    },
}


def enabled() -> bool:
    return connection.vendor == "postgresql"


def _source(bodies: dict[str, str], declare: str = "") -> str:
    """A plpgsql function's source running `bodies[TG_OP]`, as `pg_proc.prosrc` holds it."""
    branches = "\n".join(f"IF TG_OP = '{op}' THEN {body} END IF;" for op, body in bodies.items())
    return f"\n{'DECLARE ' + declare if declare else ''}\nBEGIN\n{branches}\nRETURN NULL;\nEND\n"


def _function_sql(function: str, table: str, source: str) -> list[str]:
    """The function of `source`, and its three statement triggers."""
    sql = [
        f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $body${source}$body$"
    ]
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }
    for op, ref in referencing.items():
        name = f"{function}_{op.lower()}"
        sql.append(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        sql.append(
            f"CREATE TRIGGER {name} AFTER {op} ON {table} REFERENCING {ref} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return sql


def _difference_bodies(
    kinds: tuple[Kind, ...], tz: str, counted: tuple[str, ...]
) -> dict[str, str]:
    """Old rows count negatively, new ones positively; one INSERT per kind. An update counts
    only the rows in which a `counted` column changed (a reminder changes none)."""
    old = ", ".join(f"o.{c}" for c in counted)
    new = ", ".join(f"n.{c}" for c in counted)
    # Rows whose id itself changed have no partner: they count as changed too.
    moved = (
        f"SELECT o.id FROM old_rows o LEFT JOIN new_rows n USING (id) "
        f"WHERE n.id IS NULL OR ({old}) IS DISTINCT FROM ({new}) "
        f"UNION SELECT n.id FROM new_rows n LEFT JOIN old_rows o USING (id) WHERE o.id IS NULL"
    )
    changes = {
        "INSERT": "SELECT 1 AS sign, n.* FROM new_rows n",
        "DELETE": "SELECT -1 AS sign, o.* FROM old_rows o",
        "UPDATE": "SELECT -1 AS sign, o.* FROM old_rows o WHERE o.id IN (SELECT id FROM moved) "
        "UNION ALL SELECT 1 AS sign, n.* FROM new_rows n WHERE n.id IN (SELECT id FROM moved)",
    }
    bodies = {}
    for op, select in changes.items():
        ctes = [f"moved AS ({moved})"] if op == "UPDATE" else []
        ctes.append(f"changes AS ({select})")
        for i, kind in enumerate(kinds[:-1]):
            ctes.append(f"k{i} AS ({kind.insert(kind.grouped('changes', tz), pending=True)})")
        last = kinds[-1].insert(kinds[-1].grouped("changes", tz), pending=True)
        bodies[op] = f"WITH {', '.join(ctes)} {last};"
    return bodies


def _functions() -> list[tuple[str, str]]:
    return [(f, t) for t, (f, _k) in TRIGGERS.items()] + [(f, t) for t, f, _k in OWN_TRIGGERS]


def _zone(tz: str | None) -> str:
    """A time zone name, checked, as it is written into the SQL."""
    tz = tz or settings.TIME_ZONE
    if tz not in zoneinfo.available_timezones() and tz != "UTC":
        raise ValueError(f"not a time zone: {tz!r}")
    return tz


def function_sources(tz: str | None = None) -> dict[str, tuple[str, str]]:
    """Each trigger function's table and source, in the site's time zone (or `tz`)."""
    tz = _zone(tz)
    sources = {}
    for table, (function, kinds) in TRIGGERS.items():
        sources[function] = (table, _source(_difference_bodies(kinds, tz, COUNTED[table])))
    for table, function, own_kinds in OWN_TRIGGERS:
        bodies = {op: _visit_issue_body(op, tz, own_kinds) for op in ("INSERT", "UPDATE", "DELETE")}
        sources[function] = (table, _source(bodies, declare="changed_ids bigint[];"))
    return sources


def install_statements(tz: str | None = None) -> list[str]:
    """The SQL that (re)creates the trigger functions and triggers.

    A change to it ships in a migration that installs it (the migrations keep frozen copies;
    issues/tests/test_tallies_migrations.py compares the latest with this).
    """
    statements = []
    for function, (table, source) in function_sources(tz).items():
        statements += _function_sql(function, table, source)
    return statements


def install(tz: str | None = None) -> None:
    """(Re)create the trigger functions and triggers, in the site's time zone."""
    with connection.cursor() as cursor:
        for statement in install_statements(tz):
            cursor.execute(statement)


def installed_sources() -> dict[str, str]:
    """The source of each trigger function installed in the database, by name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)",
            [[function for function, _table in _functions()]],
        )
        return dict(cursor.fetchall())


def installed_time_zone() -> str | None:
    """The time zone the installed triggers count local days in; None when not installed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = %s", [TRIGGERS["issues_issue"][0]]
        )
        row = cursor.fetchone()
    if row is None:
        return None
    found = re.search(r"AT TIME ZONE '([^']+)'", row[0])
    return found.group(1) if found else None


def compact() -> int:
    """Fold each key's rows into one. Returns the number of rows removed."""
    removed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for kind in KINDS:
            keys = ", ".join(kind.keys)
            match = " AND ".join(f"t.{k} = k.{k}" for k in kind.keys)
            sums = ", ".join(f"sum({s})" for s in kind.sums)
            nonzero = " OR ".join(f"sum({s}) <> 0" for s in kind.sums)
            cols = ", ".join((*kind.keys, *kind.sums))
            cursor.execute(
                f"WITH k AS (SELECT DISTINCT {keys} FROM {kind.table} WHERE pending), "
                f"gone AS (DELETE FROM {kind.table} t USING k WHERE {match} RETURNING t.*), "
                f"kept AS (INSERT INTO {kind.table} ({cols}, pending) "
                f"SELECT {keys}, {sums}, false FROM gone GROUP BY {keys} HAVING {nonzero} "
                f"RETURNING 1) "
                f"SELECT (SELECT count(*) FROM gone) - (SELECT count(*) FROM kept)"
            )
            removed += cursor.fetchone()[0]
    return removed


def _against_source(kind: Kind, tz: str, *, correct: bool) -> str:
    """Keys whose tally differs from a recount of the source table, in one snapshot."""
    src = f"(SELECT 1 AS sign, s.* FROM {kind.source} s) AS src"
    keys = ", ".join(kind.keys)
    sums = ", ".join(f"sum({s}) AS {s}" for s in kind.sums)
    diff = ", ".join(f"coalesce(e.{s}, 0) - coalesce(a.{s}, 0) AS {s}" for s in kind.sums)
    differs = " OR ".join(f"coalesce(e.{s}, 0) <> coalesce(a.{s}, 0)" for s in kind.sums)
    cols = ", ".join((*kind.keys, *kind.sums))
    found = f"SELECT {keys}, {diff} FROM e FULL JOIN a USING ({keys}) WHERE {differs}"
    if correct:
        found = f"INSERT INTO {kind.table} ({cols}, pending) SELECT *, true FROM ({found}) d"
    return (
        f"WITH e AS ({kind.grouped(src, tz)}), "
        f"a AS (SELECT {keys}, {sums} FROM {kind.table} GROUP BY {keys}), "
        f"found AS ({found} RETURNING 1) SELECT count(*) FROM found"
        if correct
        else f"WITH e AS ({kind.grouped(src, tz)}), "
        f"a AS (SELECT {keys}, {sums} FROM {kind.table} GROUP BY {keys}) "
        f"SELECT count(*) FROM ({found}) d"
    )


def differences(tz: str | None = None) -> dict[str, int]:
    """The number of keys per table whose sums differ from a recount; all zero when exact."""
    out = {}
    with connection.cursor() as cursor:
        for kind in KINDS:
            cursor.execute(_against_source(kind, _zone(tz), correct=False))
            out[kind.table] = cursor.fetchone()[0]
    return out


def reconcile(tz: str | None = None) -> dict[str, int]:
    """Recount from the source tables; add a correcting row to every key that differs.

    Each statement reads one snapshot, so rows written meanwhile (and their tally rows) are
    either both counted or both not. Returns the number of keys corrected per table.
    """
    fixed = {}
    with transaction.atomic(), connection.cursor() as cursor:
        for kind in KINDS:
            cursor.execute(_against_source(kind, _zone(tz), correct=True))
            fixed[kind.table] = cursor.fetchone()[0]
    return fixed


def rebuild(tz: str | None = None) -> dict[str, int]:
    """Start the tallies over from the source tables, with writes to them held meanwhile."""
    with transaction.atomic(), connection.cursor() as cursor:
        # Writes wait; so does a second rebuild (this mode conflicts with itself), instead of
        # deadlocking with this one over the triggers.
        cursor.execute("LOCK TABLE issues_issue, issues_followup IN SHARE ROW EXCLUSIVE MODE")
        install(tz)
        cursor.execute(f"TRUNCATE {', '.join(k.table for k in KINDS)}")
        counts = {}
        for kind in KINDS:
            src = f"(SELECT 1 AS sign, s.* FROM {kind.source} s) AS src"
            cursor.execute(kind.insert(kind.grouped(src, _zone(tz)), pending=False))
            counts[kind.table] = cursor.rowcount
    return counts


def stats() -> dict[str, Any]:
    """Rows per table, and how many are waiting to be folded."""
    out: dict[str, Any] = {}
    with connection.cursor() as cursor:
        for kind in KINDS:
            cursor.execute(f"SELECT count(*), count(*) FILTER (WHERE pending) FROM {kind.table}")
            rows, pending = cursor.fetchone()
            out[kind.table] = {"rows": rows, "pending": pending}
    return out


# All districts, written so that the district indexes still serve the days counted live.
ALL_DISTRICTS = "district_id = ANY(ARRAY(SELECT id FROM grids_district))"


@dataclass(frozen=True)
class Areas:
    """Whole areas of one level, whose dashboards read the tallies; `ids` None: all."""

    level: str  # "district" or "subdistrict"
    ids: list[int] | None

    @property
    def reads(self) -> dict[str, Any]:
        return BY_LEVEL[self.level]

    def condition(self) -> tuple[str, list[Any]]:
        if self.ids is None:
            if self.level != "district":
                raise ValueError(self)
            return ALL_DISTRICTS, []
        return f"{self.reads['column']} = ANY(%s)", [self.ids]


def period_rows(kind: Kind, areas: Areas, start: date, end: date) -> tuple[str, list]:
    """A relation of `kind`'s keys and sums over the local days start–end, exactly.

    The whole weeks come from the tally; the days before the first Monday and after the last
    Sunday are counted from the source rows, with the same expressions the triggers use.
    """
    tz = settings.TIME_ZONE
    cols = ", ".join((*kind.keys, *kind.sums))
    area, area_params = areas.condition()
    first = start + timedelta(days=-start.weekday() % 7)
    last = end - timedelta(days=(end.weekday() + 1) % 7)
    parts: list[str] = []
    params: list[Any] = []
    if first < last:
        parts.append(f"SELECT {cols} FROM {kind.table} WHERE {area} AND week BETWEEN %s AND %s")
        params += [*area_params, first, last - timedelta(days=6)]
        edges = [(start, first - timedelta(days=1)), (last + timedelta(days=1), end)]
    else:
        edges = [(start, end)]
    edges = [(a, b) for a, b in edges if a <= b]
    if edges:
        zone = timezone.get_current_timezone()
        spans = [
            (datetime.combine(a, time.min, zone), datetime.combine(b, time.max, zone))
            for a, b in edges
        ]
        # Each branch of the contributions reads the rows its own date column places on
        # those days, through that column's covering index.
        on_days = " OR ".join("s.{date} BETWEEN %s AND %s" for _ in spans)
        src = f"(SELECT 1 AS sign, s.* FROM {kind.source} s WHERE {area} AND ({on_days})) AS src"
        parts.append(f"SELECT {cols} FROM ({kind.weekly(src, tz)}) e")
        for _ in kind.dates:
            params += [*area_params, *(v for span in spans for v in span)]
    return " UNION ALL ".join(parts), params


def _fetch(
    kind: Kind, areas: Areas, start: date, end: date, select: str, extra: list[Any] | None = None
) -> list[tuple]:
    rows, params = period_rows(kind, areas, start, end)
    with connection.cursor() as cursor:
        cursor.execute(select.format(rows=rows), [*(extra or []), *params])
        return cursor.fetchall()


def issue_sums(
    areas: Areas, start: date, end: date, child: str | None, wage_id: int | None
) -> list[tuple]:
    """Grouping flags (category, child, week), the three keys, then collected, closed,
    hazards, resolved, on time, money recovered, wage cases resolved and their people: per
    category, per child area, per week, and in all (the row whose three flags are set)."""
    if child is not None and child not in areas.reads["children"]:
        raise ValueError(child)
    col = child or "NULL::int"
    select = (
        f"SELECT GROUPING(category_id), GROUPING({col}), GROUPING(week), "
        f"category_id, {col}, week, sum(collected), sum(closed), sum(hazards), "
        f"sum(resolved), sum(on_time), "
        f"coalesce(sum(recovered) FILTER (WHERE category_id = %s), 0), "
        f"coalesce(sum(resolved) FILTER (WHERE category_id = %s), 0), "
        f"coalesce(sum(people) FILTER (WHERE category_id = %s), 0)::bigint "
        f"FROM ({{rows}}) t GROUP BY GROUPING SETS ((category_id), ({col}), (week), ())"
    )
    return _fetch(areas.reads["issues"], areas, start, end, select, [wage_id] * 3)


def resolve_time_counts(areas: Areas, start: date, end: date) -> list[tuple]:
    """(bucket, issues resolved) in the order of the buckets."""
    select = (
        "SELECT bucket, sum(resolved) FROM ({rows}) t "
        "GROUP BY bucket HAVING sum(resolved) <> 0 ORDER BY bucket"
    )
    return _fetch(areas.reads["resolve_times"], areas, start, end, select)


def visit_sums(areas: Areas, start: date, end: date) -> tuple[int, int, int]:
    """Visits done, done on time, and satisfied."""
    select = (
        "SELECT coalesce(sum(done), 0), coalesce(sum(on_time), 0), "
        "coalesce(sum(satisfied), 0) FROM ({rows}) t"
    )
    return _fetch(VISITS, areas, start, end, select)[0]


def visit_issue_counts(areas: Areas, start: date, end: date) -> dict[int, int]:
    """Issues with a visit on time (kind 1) or satisfied (kind 2) on the days start–end."""
    area, params = areas.condition()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT kind, sum(CASE WHEN next_day = day THEN n ELSE -n END) "
            f"FROM {areas.reads['visit_issues'].table} WHERE {area} AND day BETWEEN %s AND %s "
            f"AND next_day <= %s GROUP BY kind",
            [*params, start, end, end],
        )
        return dict(cursor.fetchall())
