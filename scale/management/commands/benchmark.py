"""Time the pages and jobs that must stay fast at a million issues.

Each measurement runs in this process through Django's test client, logged in as the role that
uses the page: a warm-up, then `--runs` timed runs; it reports the median, the 95th percentile
and the SQL query count. Beside the staff list it runs the list's own two queries (the page and
the tab counts) straight through the database driver: the raw-SQL floor.

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
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from grids.models import Community, Courtyard, Grid
from issues import services
from issues.models import Category, FollowUp, Issue, IssueEvent

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
            "reference": saved.get("issue_with_50_events"),
        }
        User = get_user_model()
        if not h.get("community_id") or not Community.objects.filter(pk=h["community_id"]).exists():
            top = (
                Issue.objects.values("community_id").annotate(n=Count("pk")).order_by("-n").first()
            )
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
        grid = (
            Grid.objects.filter(community=community, grid_workers__is_active=True)
            .annotate(n=Count("issues"))
            .order_by("-n")
            .first()
        )
        h["grid_id"] = grid.pk if grid else None
        h["grid_worker"] = self._user(
            h.get("grid_worker"), grid_worker__grids=grid, grid_worker__is_active=True
        )
        h["subdistrict_id"] = community.subdistrict_id
        h["district_id"] = community.subdistrict.district_id
        if not h.get("reference") or not Issue.objects.filter(reference=h["reference"]).exists():
            busiest = (
                IssueEvent.objects.values("issue_id").annotate(n=Count("pk")).order_by("-n").first()
            )
            h["reference"] = Issue.objects.get(pk=busiest["issue_id"]).reference
        h["issues"] = Issue.objects.count()
        h.setdefault("search_two", "路面")
        h.setdefault("search_four", "路面破损")
        h["admin"] = User.objects.filter(is_superuser=True, is_active=True).first()
        return h

    def _user(self, username: str | None, **lookup: Any) -> Any:
        User = get_user_model()
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
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
        row = {
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

    def client(self, user: Any) -> Client:
        c = Client()
        c.force_login(user)
        return c

    def get(self, client: Client, url: str) -> Callable[[], Any]:
        def run() -> Any:
            r = client.get(url)
            if r.status_code != 200:
                raise CommandError(f"GET {url} answered {r.status_code}")
            return r

        return run

    # --- sections -----------------------------------------------------------------------------

    def lists(self, h: dict[str, Any]) -> None:
        self.stdout.write("Staff list and search")
        staff = self.client(h["staff"])
        category = Category.objects.order_by("sort_order").first()
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
        """The list's own queries through the ORM and straight through the driver."""
        from django.http import QueryDict

        from issues.filters import IssueFilter

        query = QueryDict(url.partition("?")[2])
        page = int(query.get("page", "1"))

        def orm() -> None:
            f = IssueFilter(query, queryset=Issue.objects.visible_to(user), user=user)
            f.is_valid()
            f.without_status.aggregate(
                **{
                    s: Count(
                        "pk", filter=__import__("django.db.models", fromlist=["Q"]).Q(status=s)
                    )
                    for s in Issue.Status.values
                }
            )
            list(f.qs.for_list()[(page - 1) * 50 : page * 50])

        orm()
        with CaptureQueriesContext(connection) as ctx:
            orm()
        sqls = [q["sql"] for q in ctx.captured_queries if "issues_issue" in q["sql"]]
        raw = connection.connection

        def run_raw() -> None:
            # The driver's own cursor (psycopg2 or sqlite3), with no Django layer between.
            cursor = raw.cursor()
            try:
                for sql in sqls:
                    cursor.execute(sql)
                    cursor.fetchall()
            finally:
                cursor.close()

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
        }

    def pages(self, h: dict[str, Any]) -> None:
        self.stdout.write("Issue page and capture")
        issue = Issue.objects.get(reference=h["reference"])
        reader = self._user(None, staff_assignments__community_id=issue.community_id)
        self.measure(
            "issue page, 50 events", self.get(self.client(reader), f"/issues/{h['reference']}/")
        )
        worker = self.client(h["grid_worker"])
        courtyard = Courtyard.objects.filter(grid_id=h["grid_id"]).first()
        category = Category.objects.get(code="road")

        def capture() -> None:
            # Each POST is rolled back, so that repeated runs leave the data set as it was.
            try:
                with transaction.atomic():
                    r = worker.post(
                        "/issues/new/",
                        {
                            "courtyard": courtyard.pk,
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
                        raise CommandError(f"capture answered {r.status_code}")
                    raise Rollback
            except Rollback:
                pass

        self.measure("capture POST", capture)

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
            for chunk in r.streaming_content:
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
