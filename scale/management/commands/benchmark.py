"""Time the pages and jobs that must stay fast at a million issues.

Each measurement runs in this process through Django's test client, logged in as the role that
uses the page: a warm-up, then `--runs` timed runs; it reports the median, the 95th percentile
and the SQL query count. Beside the staff list it times the SQL statements the list page sends
for its issues (the tab counts, the page's ids, then its rows), captured while the page renders
once, straight through the database driver: the raw-SQL floor.

A measured request that is refused stops the run with its status, the errors the page showed
and the handles it used (user, courtyard, category, reference).

    python manage.py benchmark                 # full run (needs seed_scale's data)
    python manage.py benchmark --quick         # a short run that proves the command works
    python manage.py benchmark --json out.json
"""

from __future__ import annotations

import json
import statistics
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Count
from django.http import QueryDict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grids.models import Community, Courtyard, Grid
from issues import services
from issues.filters import IssueFilter
from issues.models import Category, FollowUp, Issue, IssueEvent
from issues.views.issue_list import page_rows
from scale.refusal import refused

TARGETS_MS = {
    "staff list: default": 15,
    "staff list: status+category+grid": 15,
    "staff list: page 20 of a filter": 15,
    "search: two characters": 50,
    "search: four characters": 50,
    "issue page, 50 events": 25,
    "capture POST": 40,
    "dashboard: district, year": 150,
}


class Rollback(Exception):
    pass


class BenchmarkClient(Client):
    benchmark_user: Any  # named when a request is refused


class Command(BaseCommand):
    help = "Time the lists, search, issue page, capture, dashboards, export and beat task."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--quick", action="store_true", help="3 runs each, a 2,000-row export, 2,000 reminders"
        )
        parser.add_argument("--runs", type=int, default=20)
        parser.add_argument("--json", dest="json_path", default="")
        parser.add_argument("--export-rows", type=int, default=100_000)
        parser.add_argument("--reminders", type=int, default=100_000)
        parser.add_argument("--only", default="", help="run only sections whose name has this")

    # --- plumbing -----------------------------------------------------------------------------

    def handle(self, *args: Any, **opts: Any) -> None:
        if not Issue.objects.exists():
            raise CommandError("No issues: run `manage.py seed_scale --issues N` first.")
        self.runs = 3 if opts["quick"] else max(opts["runs"], 3)
        self.warmup = 1 if opts["quick"] else 3
        self.only = opts["only"]
        export_rows = 2_000 if opts["quick"] else opts["export_rows"]
        reminders = 2_000 if opts["quick"] else opts["reminders"]
        self.results: list[dict[str, Any]] = []
        started = time.monotonic()
        h = self.handles()
        self.stdout.write(
            f"Benchmark on {connection.vendor}: {h['issues']:,} issues, {self.runs} runs each\n"
        )
        self.lists(h)
        self.pages(h)
        self.dashboards(h)
        self.export(h, export_rows)
        self.reminders(reminders)
        self.report()
        summary = {
            "database": connection.vendor,
            "issues": h["issues"],
            "runs": self.runs,
            "events": IssueEvent.objects.count() if opts["quick"] else None,
            "results": self.results,
            "seconds": round(time.monotonic() - started, 1),
            "at": timezone.now().isoformat(),
        }
        if opts["json_path"]:
            Path(opts["json_path"]).write_text(json.dumps(summary, indent=2, default=str))
            self.stdout.write(f"Wrote {opts['json_path']}")
        self.stdout.write(
            self.style.SUCCESS(f"Done: {len(self.results)} measurements in {summary['seconds']} s")
        )

    def handles(self) -> dict[str, Any]:
        """Who and what to measure: from seed_scale's var/scale.json, else found in the data."""
        path = Path(settings.VAR_DIR) / "scale.json"
        saved: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        h: dict[str, Any] = {
            "community_id": saved.get("busy_community_id"),
            "staff": saved.get("staff_username"),
            "subdistrict_official": saved.get("subdistrict_official_username"),
            "district_official": saved.get("district_official_username"),
            "grid_worker": saved.get("grid_worker_username"),
            "grid_id": saved.get("busy_grid_id"),
            "reference": saved.get("issue_with_50_events"),
        }
        User = get_user_model()
        if not h.get("community_id") or not Community.objects.filter(pk=h["community_id"]).exists():
            top = (
                Issue.objects.values("community_id").annotate(n=Count("pk")).order_by("-n").first()
            )
            if top is None:
                raise CommandError("There are no issues to time: run seed_scale first.")
            h["community_id"] = top["community_id"]
        community = Community.objects.select_related("subdistrict").get(pk=h["community_id"])
        h["staff"] = self._user(h.get("staff"), staff_assignments__community=community)
        h["subdistrict_official"] = self._user(
            h.get("subdistrict_official"),
            official_assignments__subdistrict_id=community.subdistrict_id,
        )
        h["district_official"] = self._user(
            h.get("district_official"),
            official_assignments__district_id=community.subdistrict.district_id,
        )
        # The grid worker captures in a courtyard of their own grid: the grid seed_scale saved,
        # else the busiest grid that has a worker. The grid and the worker used to be chosen
        # apart, and when two grids tied for busiest the worker's courtyard was refused (400).
        walked = Grid.objects.filter(community=community, grid_workers__is_active=True)
        if not h.get("grid_id") or not walked.filter(pk=h["grid_id"]).exists():
            grid = (
                Grid.objects.filter(pk__in=walked.values("pk"))
                .annotate(n=Count("issues"))
                .order_by("-n", "pk")
                .first()
            )
            h["grid_id"] = grid.pk if grid else None
        h["grid_worker"] = self._user(
            h.get("grid_worker"), grid_worker__grids=h["grid_id"], grid_worker__is_active=True
        )
        h["courtyard"] = Courtyard.objects.filter(grid_id=h["grid_id"]).order_by("pk").first()
        h["subdistrict_id"] = community.subdistrict_id
        h["district_id"] = community.subdistrict.district_id
        if not h.get("reference") or not Issue.objects.filter(reference=h["reference"]).exists():
            busiest = (
                IssueEvent.objects.values("issue_id").annotate(n=Count("pk")).order_by("-n").first()
            )
            if busiest is None:
                raise CommandError("There are no issue events to time: run seed_scale first.")
            h["reference"] = Issue.objects.get(pk=busiest["issue_id"]).reference
        h["issues"] = Issue.objects.count()
        h.setdefault("search_two", "路面")
        h.setdefault("search_four", "路面破损")
        h["admin"] = User.objects.filter(is_superuser=True, is_active=True).first()
        return h

    def _user(self, username: str | None, **lookup: Any) -> Any:
        """The named user if they still match `lookup`, else the first user who does."""
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username, is_active=True, **lookup).first()
            if user:
                return user
        user = User.objects.filter(is_active=True, **lookup).order_by("pk").first()
        if user is None:
            raise CommandError(f"No user found for {lookup}; run seed_scale.")
        return user

    def measure(
        self,
        name: str,
        fn: Callable[[], Any],
        *,
        target: float | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        if self.only and self.only not in name:
            return None
        for _ in range(self.warmup):
            fn()
        times, queries = [], 0
        for _ in range(self.runs):
            with CaptureQueriesContext(connection) as ctx:
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1000)
            queries = len(ctx.captured_queries)
        times.sort()
        row: dict[str, Any] = {
            "name": name,
            "median_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[max(0, int(len(times) * 0.95 + 0.5) - 1)], 2),
            "queries": queries,
            "target_ms": target or TARGETS_MS.get(name),
        }
        row.update(extra or {})
        self.results.append(row)
        met = (
            ""
            if row["target_ms"] is None
            else (" ok" if row["median_ms"] <= row["target_ms"] else " MISSED")
        )
        self.stdout.write(
            f"  {name:<42} {row['median_ms']:>9.2f} ms  p95 {row['p95_ms']:>9.2f}"
            f"  {queries:>3} q{met}"
        )
        return row

    def client(self, user: Any) -> BenchmarkClient:
        c = BenchmarkClient()
        c.force_login(user)
        c.benchmark_user = user  # named when a request is refused
        return c

    def get(self, client: BenchmarkClient, url: str, **handles: Any) -> Callable[[], Any]:
        def run() -> Any:
            r = client.get(url)
            if r.status_code != 200:
                raise refused(f"GET {url}", r, user=client.benchmark_user, **handles)
            return r

        return run

    # --- sections -----------------------------------------------------------------------------

    def lists(self, h: dict[str, Any]) -> None:
        self.stdout.write("Staff list and search")
        staff = self.client(h["staff"])
        category = Category.objects.order_by("sort_order").first()
        if category is None:
            raise CommandError("There are no categories: run migrate first.")
        filtered = (
            f"/issues/?status=listed&status=in_progress&category={category.pk}&grid={h['grid_id']}"
        )
        paged = "/issues/?status=resolved&status=revisited&sort=created&page=20"
        for name, url in [
            ("staff list: default", "/issues/"),
            ("staff list: status+category+grid", filtered),
            ("staff list: page 20 of a filter", paged),
        ]:
            row = self.measure(name, self.get(staff, url))
            if row is not None:
                row.update(self.floor(h["staff"], url))
        district = self.client(h["district_official"])
        self.measure("official list: district, default", self.get(district, "/issues/"))
        self.measure(
            "search: two characters", self.get(district, f"/issues/?status=all&q={h['search_two']}")
        )
        self.measure(
            "search: four characters",
            self.get(district, f"/issues/?status=all&q={h['search_four']}"),
        )

    def floor(self, user: Any, url: str) -> dict[str, Any]:
        """The list's own queries through the ORM, and the page's SQL straight through the driver.

        The statements are those the page sent while rendering once (`page_statements`); the
        ORM side runs the same code the view runs for them (tab counts, then `page_rows`).
        """
        query = QueryDict(url.partition("?")[2])
        statements = page_statements(self.client(user), url)
        size = settings.ISSUES_PER_PAGE

        def orm() -> None:
            f = IssueFilter(query, queryset=Issue.objects.visible_to(user), user=user)
            f.is_valid()
            f.tab_counts()
            page = max(int(query.get("page", "1")), 1)
            page_rows(f.qs, (page - 1) * size, size)

        # The driver's own cursor (psycopg2, or sqlite3 behind Django's placeholder conversion),
        # with no Django layer between.
        raw = connection.cursor().cursor

        def run_raw() -> None:
            for sql, params in statements:
                raw.execute(sql, params)
                raw.fetchall()

        def timed(fn: Callable[[], None]) -> float:
            fn()
            times = []
            for _ in range(self.runs):
                t0 = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t0) * 1000)
            return statistics.median(times)

        orm_ms, raw_ms = timed(orm), timed(run_raw)
        return {
            "list_queries_ms": round(orm_ms, 2),
            "raw_sql_floor_ms": round(raw_ms, 2),
            "ratio_to_floor": round(orm_ms / raw_ms, 2) if raw_ms else None,
            "floor_statements": len(statements),
        }

    def pages(self, h: dict[str, Any]) -> None:
        self.stdout.write("Issue page and capture")
        issue = Issue.objects.get(reference=h["reference"])
        reader = self._user(None, staff_assignments__community_id=issue.community_id)
        self.measure(
            "issue page, 50 events",
            self.get(self.client(reader), f"/issues/{h['reference']}/", reference=h["reference"]),
        )
        self.measure("capture POST", self.capture(h))

    def capture(self, h: dict[str, Any]) -> Callable[[], None]:
        """One capture POST by the grid worker in their courtyard, rolled back each time."""
        worker = self.client(h["grid_worker"])
        courtyard = h["courtyard"]
        category = Category.objects.get(code="road")

        def run() -> None:
            # Each POST is rolled back, so that repeated runs leave the data set as it was.
            try:
                with transaction.atomic():
                    r = worker.post(
                        "/issues/new/",
                        {
                            "courtyard": courtyard.pk if courtyard else "",
                            "category": category.pk,
                            "urgency": "normal",
                            "title": "院内路面破损",
                            "description": "雨后积水，老人出行不便。",
                            "source": "visit",
                            "resident_name": "卓玛",
                            "resident_phone": "13812345678",
                            "token": str(uuid.uuid4()),
                        },
                    )
                    if r.status_code != 302:
                        raise refused(
                            "capture POST",
                            r,
                            user=h["grid_worker"],
                            courtyard=f"{courtyard.pk} {courtyard}" if courtyard else None,
                            grid=h["grid_id"],
                            category=f"{category.pk} {category.code}",
                        )
                    raise Rollback
            except Rollback:
                pass

        return run

    def dashboards(self, h: dict[str, Any]) -> None:
        self.stdout.write("Dashboards")
        levels = [
            ("grid", h["grid_worker"], f"grid={h['grid_id']}"),
            ("community", h["staff"], f"community={h['community_id']}"),
            ("subdistrict", h["subdistrict_official"], f"subdistrict={h['subdistrict_id']}"),
            ("district", h["district_official"], f"district={h['district_id']}"),
        ]
        for level, user, param in levels:
            client = self.client(user)
            for period, label in [("30d", "30 days"), ("year", "year")]:
                self.measure(
                    f"dashboard: {level}, {label}",
                    self.get(client, f"/dashboard/?{param}&period={period}"),
                )

    def export(self, h: dict[str, Any], rows: int) -> None:
        if self.only and self.only not in "export":
            return
        self.stdout.write(f"CSV export of {rows:,} rows")
        user = h["admin"] or h["district_official"]
        nth = (
            Issue.objects.visible_to(user)
            .order_by("-created_at")
            .values_list("created_at", flat=True)[rows - 1 : rows]
            .first()
        )
        url = "/issues/export.csv?status=all"
        if nth is not None:
            url += f"&created_after={timezone.localtime(nth + timedelta(days=1)):%Y-%m-%d}"
        client = self.client(user)

        def consume() -> tuple[int, int]:
            r = client.get(url)
            n = size = 0
            # The export streams; the stubs type a test client's response as a plain one.
            for chunk in r.streaming_content:  # type: ignore[attr-defined]
                n += chunk.count(b"\n")
                size += len(chunk)
            return n - 1, size

        t0 = time.perf_counter()
        count, size = consume()
        seconds = time.perf_counter() - t0
        tracemalloc.start()
        consume()
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        row = {
            "name": "CSV export",
            "rows": count,
            "seconds": round(seconds, 2),
            "rows_per_second": round(count / seconds) if seconds else None,
            "megabytes": round(size / 1e6, 1),
            "peak_python_memory_mb": round(peak / 1e6, 1),
            "target_rows_per_second": 20_000,
        }
        self.results.append(row)
        self.stdout.write(
            f"  {count:,} rows in {seconds:.2f} s = {row['rows_per_second']:,}"
            f" rows/s, {row['megabytes']} MB, peak Python memory "
            f"{row['peak_python_memory_mb']} MB"
        )

    def reminders(self, n: int) -> None:
        if self.only and self.only not in "reminders":
            return
        now = timezone.now()
        self.stdout.write(f"Beat task: remind up to {n:,} due visits")
        try:
            with transaction.atomic():
                ids = list(
                    FollowUp.objects.filter(done_at__isnull=True, due_at__lte=now).values_list(
                        "pk", flat=True
                    )[:n]
                )
                if len(ids) < n:
                    # Not enough due visits in the data: make some due, inside the rollback.
                    more = list(
                        FollowUp.objects.filter(done_at__isnull=True)
                        .exclude(pk__in=ids)
                        .values_list("pk", flat=True)[: n - len(ids)]
                    )
                    FollowUp.objects.filter(pk__in=more).update(due_at=now - timedelta(hours=1))
                    ids += more
                FollowUp.objects.filter(done_at__isnull=True, due_at__lte=now).exclude(
                    pk__in=ids
                ).update(reminded_on=timezone.localdate(now))
                FollowUp.objects.filter(pk__in=ids).update(reminded_on=None)
                t0 = time.perf_counter()
                sent = services.remind_due_follow_ups(now)
                seconds = time.perf_counter() - t0
                raise Rollback
        except Rollback:
            pass
        row = {
            "name": "beat: remind due follow-ups",
            "visits": sent,
            "seconds": round(seconds, 2),
            "per_second": round(sent / seconds) if seconds else None,
        }
        self.results.append(row)
        self.stdout.write(f"  {sent:,} reminders in {seconds:.2f} s = {row['per_second']:,}/s")

    def report(self) -> None:
        self.stdout.write("\nSummary (median ms against target)")
        for r in self.results:
            if "median_ms" in r:
                target = r.get("target_ms")
                verdict = "" if target is None else ("ok" if r["median_ms"] <= target else "MISSED")
                ratio = (
                    f"  list queries {r['ratio_to_floor']}× floor"
                    if r.get("ratio_to_floor")
                    else ""
                )
                self.stdout.write(
                    f"  {r['name']:<42} {r['median_ms']:>9.2f}"
                    f"{'' if target is None else f' / {target}':>8}  {verdict}"
                    f"{ratio}"
                )


def page_statements(client: Client, url: str) -> list[tuple[str, Any]]:
    """The SQL (with its parameters) that rendering the page sends for its issues.

    Read from the page itself, so that the floor follows the view when its queries change:
    the tab counts, the page's ids, then its rows (`issues.views.issue_list.page_rows`).
    """
    sent: list[tuple[str, Any]] = []

    def record(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        if not many and 'FROM "issues_issue"' in sql:
            sent.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        r = client.get(url)
    if r.status_code != 200:
        raise refused(f"GET {url}", r, user=getattr(client, "benchmark_user", None))
    return sent
