"""Afterwards: waiting for the sweeps, the checks that nothing was lost or doubled, the report.

Every accepted submission must be stored exactly once, every resolved issue must have its
follow-up visits, no response may be a 500 (503 only during the PostgreSQL outage), and each
issue's event log must replay through the transition table to its status.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from django.core.management.color import Style
from django.db import connection

from issues.models import Issue, IssueEvent, Notification
from issues.workflow import TRANSITIONS
from scale.loadfault.clients import PATIENCE, Recorder
from scale.loadfault.cluster import log_tail
from scale.loadfault.traffic import REFERENCE


def replay(events: Sequence[tuple[str, str, str]], status: str) -> list[str]:
    """What is wrong with one issue's event log, given as (action, from, to) in order.

    The log must open with its one create event, each change of state must be a row of the
    transition table starting where the previous one ended, other events change no state,
    visits are scheduled at most once per resolution and only while resolved, and the last
    state must be the issue's status. An empty list means the log is consistent.
    """
    problems: list[str] = []
    if not events or events[0][0] != IssueEvent.Action.CREATE:
        problems.append("the log does not open with the create event")
    current = ""
    scheduled = 0
    for action, from_status, to_status in events:
        if action == IssueEvent.Action.CREATE:
            if current:
                problems.append("a second create event")
            current = to_status or Issue.Status.COLLECTED
        elif action in TRANSITIONS:
            t = TRANSITIONS[action]
            if from_status != current:
                problems.append(f"{action} from {from_status} while the issue was {current}")
            if from_status not in t.sources or to_status != t.target:
                problems.append(f"{action} {from_status}→{to_status} is not in the table")
            current = to_status
            if action == "resolve":
                scheduled = 0
        elif from_status or to_status:
            problems.append(f"{action} changes the state ({from_status}→{to_status})")
        if action == IssueEvent.Action.SCHEDULE:
            scheduled += 1
            if current != Issue.Status.RESOLVED:
                problems.append(f"visits scheduled while {current}")
            elif scheduled == 2:
                problems.append("visits scheduled twice for one resolution")
    if current != status:
        problems.append(f"the log ends at {current or 'nothing'} but the issue is {status}")
    return problems


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of `values` (0 < q <= 1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1))]


EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?\w*(?:Error|Exception|Exit)(?::|$)")
CONTINUATION = ("Traceback", "During handling", "The above exception", "---", " ", "\t")


def log_records(text: str) -> Counter[str]:
    """The records of a server log, each as its first line and the exception it ended with.

    A traceback's last exception line is the one that was raised; references are folded, so
    that the same failure on two issues counts as one kind.
    """
    counts: Counter[str] = Counter()
    heading, cause = "", ""
    for line in [*text.splitlines(), "end"]:
        if not line.strip() or line.startswith(CONTINUATION):
            continue
        if EXCEPTION_LINE.match(line):
            cause = line[:140]
            continue
        if heading:
            counts[f"{heading} ← {cause}" if cause else heading] += 1
        heading, cause = re.sub(REFERENCE, "<ref>", line).split(" (")[0].split(": ")[0], ""
        if heading.startswith("Error calling"):
            heading = re.sub(
                r"Error calling (\S+) in on_commit\(\).*", r"on_commit \1 failed", line
            )
    return counts


def within(t: float, windows: Iterable[tuple[float, float]]) -> bool:
    return any(start <= t <= end for start, end in windows)


class Report:
    """What the run's clients, servers and database show once the load is over."""

    def __init__(self, opts: dict[str, Any], var: Path, say: Callable[[str], None]) -> None:
        self.opts, self.var, self.say = opts, var, say

    def settle(self, rec: Recorder) -> dict[str, Any]:
        """Wait for every resolved issue to have its visits and every notification its email:
        beat's sweeps find those whose task was lost."""
        started = time.monotonic()
        missing = self.missing_follow_ups()
        undelivered = self.undelivered()
        while (missing or undelivered) and time.monotonic() - started < self.opts["settle"]:
            time.sleep(5)
            missing = self.missing_follow_ups()
            undelivered = self.undelivered()
            self.say(
                f"  {len(missing)} resolved issue(s) still without their visits, "
                f"{undelivered} notification(s) not yet emailed"
            )
        return {
            "seconds": round(time.monotonic() - started, 1),
            "missing": missing,
            "undelivered": undelivered,
        }

    def undelivered(self) -> int:
        connection.close_if_unusable_or_obsolete()
        return Notification.objects.filter(delivered_at__isnull=True).count()

    def missing_follow_ups(self) -> list[str]:
        """Resolved issues without exactly their category's visits for the latest resolution."""
        connection.close_if_unusable_or_obsolete()
        missing = []
        for issue in Issue.objects.filter(status=Issue.Status.RESOLVED).select_related("category"):
            expected = len({int(d) for d in issue.category.follow_up_days if int(d) >= 0})
            scheduled = issue.follow_ups.filter(created_at__gte=issue.resolved_at).count()
            if scheduled != expected:
                missing.append(issue.reference)
        return missing

    def checks(self, rec: Recorder, settle: dict[str, Any]) -> dict[str, dict[str, Any]]:
        stored: dict[str, list[str]] = defaultdict(list)
        for token, reference in Issue.objects.values_list("submission_token", "reference"):
            stored[str(token)].append(reference)
        accepted = {t: refs for t, refs in rec.accepted.items() if refs}
        not_once = [t for t in accepted if len(stored.get(t, [])) != 1]
        answered_differently = [
            t for t, refs in accepted.items() if len(refs) != 1 or refs != set(stored.get(t, []))
        ]
        strangers = [t for t in stored if t not in rec.sent]
        concerns = Counter(rec.sent[t] for t in stored if t in rec.sent)
        doubled = [c for c, n in concerns.items() if n > 1]
        resent = [t for t in rec.resent if t in accepted]
        resent_bad = [t for t in resent if len(stored.get(t, [])) != 1]

        log_problems: dict[str, list[str]] = {}
        events: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
        for issue_id, action, from_status, to_status in IssueEvent.objects.order_by(
            "pk"
        ).values_list("issue_id", "action", "from_status", "to_status"):
            events[issue_id].append((action, from_status, to_status))
        issues = list(Issue.objects.values_list("pk", "reference", "status"))
        for pk, reference, status in issues:
            problems = replay(events.get(pk, []), status)
            if problems:
                log_problems[reference] = problems

        server_errors = [e for e in rec.server_errors if e[2] != 503]
        stray_503 = [t for t in rec.unavailable_at if not within(t, rec.pg_windows)]
        resolved = Issue.objects.filter(status=Issue.Status.RESOLVED).count()
        return {
            "accepted submissions stored exactly once": {
                "ok": not not_once and not answered_differently and not doubled and not strangers,
                "accepted": len(accepted),
                "stored": sum(len(v) for v in stored.values()),
                "not stored exactly once": not_once[:20],
                "answered with another reference": answered_differently[:20],
                "concerns stored twice": doubled[:20],
                "stored but never sent": strangers[:20],
                "stored without an answer (lost, resend gave up)": len(
                    [t for t in stored if t in rec.sent and t not in accepted]
                ),
            },
            "resent submissions not doubled": {
                "ok": not resent_bad,
                "resent": len(resent),
                "hung up before the answer": rec.hung_up,
                "doubled or missing": resent_bad[:20],
            },
            "every resolved issue has its follow-ups": {
                "ok": not settle["missing"],
                "resolved": resolved,
                "missing": settle["missing"][:20],
                "waited seconds": settle["seconds"],
            },
            "no 500 responses": {
                "ok": not server_errors,
                "count": len(server_errors),
                "first": [
                    {"t": round(t, 1), "request": k, "status": s, "path": p}
                    for t, k, s, p in server_errors[:10]
                ],
            },
            "503 only during the PostgreSQL restart": {
                "ok": not stray_503,
                "503 responses": len(rec.unavailable_at),
                "outside the restart": [round(t, 1) for t in stray_503[:20]],
            },
            "event log consistent": {
                "ok": not log_problems,
                "issues": len(issues),
                "events": sum(len(v) for v in events.values()),
                "problems": dict(list(log_problems.items())[:20]),
                "issues with problems": len(log_problems),
            },
            "every notification emailed": {
                "ok": not settle.get("undelivered"),
                "not delivered": settle.get("undelivered", 0),
                "waited seconds": settle["seconds"],
            },
        }

    def build(self, rec: Recorder, wall: float, settle: dict[str, Any]) -> dict[str, Any]:
        checks = self.checks(rec, settle)
        total = sum(len(v) for v in rec.times.values())
        kinds = {
            kind: {
                "count": len(times),
                "per_second": round(len(times) / wall, 1),
                "p50_ms": round(percentile(times, 0.5), 1),
                "p99_ms": round(percentile(times, 0.99), 1),
            }
            for kind, times in sorted(rec.times.items())
        }
        every = [ms for times in rec.times.values() for ms in times]
        return {
            "options": {
                k: self.opts[k]
                for k in ("concerns", "workers", "staff", "seconds", "web_workers", "resend_share")
            },
            "resilience_middleware": not self.opts["without_resilience"],
            "wall_seconds": round(wall, 1),
            "requests": total,
            "requests_per_second": round(total / wall, 1) if wall else 0,
            "p50_ms": round(percentile(every, 0.5), 1),
            "p99_ms": round(percentile(every, 0.99), 1),
            "by_kind": kinds,
            "errors": dict(rec.errors.most_common()),
            "errors_by_request": dict(rec.errors_by_request.most_common()),
            "gave_up": dict(rec.gave_up),
            "conflicts_409": rec.conflicts,
            "statuses": dict(sorted(rec.statuses.items())),
            "concerns_submitted": len(rec.sent),
            "resolved_by_staff": len(rec.resolved),
            "timeline": [{"t": round(t, 1), "event": e} for t, e in rec.timeline],
            "server_log": self.server_log(),
            "checks": checks,
            "observations": self.observations(),
        }

    def observations(self) -> dict[str, Any]:
        """Figures reported beside the checks: what the faults cost that nothing brings back."""
        notifications = Notification.objects.count()
        emails = sum(
            path.read_bytes().count(b"\n" + b"-" * 79 + b"\n")
            for path in (self.var / "mail").glob("*")
        )
        return {
            "notification emails": {
                "notifications": notifications,
                "emails sent": emails,
                "never emailed": max(0, notifications - emails),
                "emailed twice (at least)": max(0, emails - notifications),
            }
        }

    def server_log(self) -> dict[str, Any]:
        """What gunicorn and the worker logged: the exceptions behind any 500, and task errors."""
        web = log_records(log_tail(self.var / "web.log", 0))
        worker = log_tail(self.var / "worker.log", 0)
        return {
            "internal_server_errors": sum(
                n for k, n in web.items() if k.startswith("Internal Server Error")
            ),
            "answered_503": sum(n for k, n in web.items() if k.startswith("Database unavailable")),
            "records": dict(web.most_common(10)),
            "worker_error_lines": len(re.findall(r"ERROR/", worker)),
            "worker_retries": len(re.findall(r"Retry in \d+", worker)),
            "logs": str(self.var),
        }

    @staticmethod
    def print(r: dict[str, Any], out: Callable[[str], Any], style: Style) -> None:
        out("")
        out(
            f"{r['requests']:,} requests in {r['wall_seconds']} s = "
            f"{r['requests_per_second']} req/s; p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms"
        )
        for kind, k in r["by_kind"].items():
            out(
                f"  {kind:<16} {k['count']:7,}  {k['per_second']:6.1f}/s  "
                f"p50 {k['p50_ms']:7.1f} ms  p99 {k['p99_ms']:7.1f} ms"
            )
        out(f"Errors by kind: {r['errors'] or 'none'}")
        if r["errors_by_request"]:
            out(f"  by request: {r['errors_by_request']}")
        out(f"Gave up after {PATIENCE} s of resending: {r['gave_up'] or 'never'}")
        out(f"409 (another staff member moved the issue first): {r['conflicts_409']}")
        out("Fault timeline:")
        for item in r["timeline"]:
            out(f"  {item['t']:6.1f} s  {item['event']}")
        log = r["server_log"]
        out(
            f"Server log: {log['internal_server_errors']} internal server errors, "
            f"{log['answered_503']} answered 503; worker: {log['worker_error_lines']} "
            f"error lines, {log['worker_retries']} retries ({log['logs']})"
        )
        for line, n in log["records"].items():
            out(f"  {n:5} × {line}")
        for name, figures in r["observations"].items():
            out(f"Observed, {name}: {json.dumps(figures, ensure_ascii=False)}")
        out("Checks:")
        for name, check in r["checks"].items():
            details = {k: v for k, v in check.items() if k != "ok" and v not in ([], {}, 0)}
            mark = style.SUCCESS("PASS") if check["ok"] else style.ERROR("FAIL")
            out(f"  {mark} {name}: {json.dumps(details, ensure_ascii=False)}")
