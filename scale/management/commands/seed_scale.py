"""Load a realistic data set of N issues for load tests and benchmarks.

The areas are a fixed plan of real Lhasa districts and counties whose subdistricts,
communities, grids and courtyards carry names seed_demo does not use; a smaller --issues takes
a smaller part of the plan (each level scaled by the cube root of issues/1,000,000), so the
density of issues per courtyard stays about the same. On PostgreSQL the rows go in with COPY,
in batches, on a second connection while the next batch is drawn; elsewhere with bulk_create.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    Patrol,
    Subdistrict,
)
from issues import tallies
from issues.models import Issue
from scale import story
from scale.areas import (
    FULL_SCALE,
    benchmark_handles,
    categories,
    ensure_areas,
    ensure_people,
)
from scale.generator import Generator
from scale.writing import (
    TABLES,
    BulkWriter,
    CopyWriter,
    Dropped,
    IdSource,
    Progress,
    Writer,
    drop_secondary,
    restore_interrupted,
    restore_secondary,
)

User = get_user_model()


class Command(BaseCommand):
    help = (
        "Load N realistic issues (with events, follow-up visits, mediations and patrols) into "
        "scale areas of about 7 districts, 40 subdistricts, 400 communities, 4,000 grids and "
        "40,000 courtyards at a million issues (fewer for fewer issues), with about 2,000 users "
        "named scale-staff-…, scale-worker-… and scale-official-…. Running it again adds N more "
        "issues to the same areas and users, creating only what is missing. Writes benchmark "
        "handles to var/scale.json."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--issues", type=int, default=100_000, help="issues to add")
        parser.add_argument("--seed", type=int, default=1, help="random seed (references aside)")
        parser.add_argument("--batch", type=int, default=50_000, help="issues per COPY batch")
        parser.add_argument(
            "--password", default="grassroots-demo", help="the password of new scale users"
        )
        parser.add_argument(
            "--area-scale",
            type=float,
            default=None,
            help="share of the full plan of areas, 0–1 (default: issues / 1,000,000)",
        )
        parser.add_argument(
            "--indexes",
            choices=["auto", "rebuild", "keep"],
            default="auto",
            help="PostgreSQL: drop the secondary indexes of the loaded tables and rebuild them "
            "after the load (auto: when the load at least doubles the issues)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["issues"]
        if n < 1:
            raise CommandError("--issues must be at least 1.")
        batch_size = max(1, options["batch"])
        scale = options["area_scale"] or min(1.0, n / FULL_SCALE)
        if not 0 < scale <= 1:
            raise CommandError("--area-scale must be above 0 and at most 1.")
        rng = random.Random(options["seed"])
        postgres = connection.vendor == "postgresql"
        timings: dict[str, float] = {}
        started = time.monotonic()
        if postgres:
            restore_interrupted(self.stdout.write)

        with transaction.atomic():
            areas, handles = ensure_areas(scale, rng)
            people = ensure_people(areas, rng, make_password(options["password"]))
        timings["areas and users"] = time.monotonic() - started
        self.stdout.write(
            f"areas: {len(areas.community_ids):,} communities, {len(areas.grid_ids):,} grids, "
            f"{len(areas.courtyard_ids):,} courtyards; {people:,} new users "
            f"({timings['areas and users']:.1f} s)"
        )

        existing = Issue.objects.count()
        references = set(Issue.objects.values_list("reference", flat=True).iterator(50_000))
        grace = settings.FOLLOW_UP_GRACE.total_seconds()
        now = time.time()
        in_transaction = connection.in_atomic_block
        ts = story.pg_timestamp if postgres else story.aware
        generator = Generator(rng, areas, categories(), now, ts, references, grace)

        dropped = Dropped()
        mode = options["indexes"]
        if (
            postgres
            and not in_transaction
            and (mode == "rebuild" or (mode == "auto" and n >= max(existing, 100_000)))
        ):
            t = time.monotonic()
            dropped = drop_secondary([model._meta.db_table for _, model, _ in TABLES])
            timings["drop indexes, keys"] = time.monotonic() - t

        progress = Progress(self.stdout.write, n)
        added: dict[str, int] = dict.fromkeys((name for name, _, _ in TABLES), 0)
        scripted = ""
        t = time.monotonic()
        try:
            if postgres:
                writer: Writer = CopyWriter(threaded=not in_transaction, done=progress.add)
            else:
                writer = BulkWriter(done=progress.add)
            ids = IdSource(postgres)
            try:
                for first in range(0, n, batch_size):
                    size = min(batch_size, n - first)
                    batch = generator.batch(
                        ids.take(Issue, size),
                        ids.take(Patrol, generator.patrols_for(size)),
                        scripted=first == 0,
                    )
                    scripted = scripted or batch.scripted_reference
                    for name, _, _ in TABLES:
                        added[name] += len(getattr(batch, name))
                    writer.put(batch)
            finally:
                writer.close()
            timings["issues"] = time.monotonic() - t
        finally:
            if dropped:
                t = time.monotonic()
                self.stdout.write(
                    f"rebuilding {len(dropped.indexes)} indexes and "
                    f"{len(dropped.foreign_keys)} foreign keys …"
                )
                restore_secondary(dropped)
                timings["rebuild indexes, keys"] = time.monotonic() - t

        if postgres:
            t = time.monotonic()
            folded = tallies.compact()
            timings["fold dashboard tallies"] = time.monotonic() - t
            self.stdout.write(f"dashboard tallies: {folded:,} rows folded")
            t = time.monotonic()
            tables = ", ".join(
                [model._meta.db_table for _, model, _ in TABLES] + [k.table for k in tallies.KINDS]
            )
            with connection.cursor() as cursor:
                if in_transaction:
                    cursor.execute(f"ANALYZE {tables}")
                else:
                    # Also sets the visibility map, as autovacuum would after a while (if it
                    # runs at all), so that the benchmark sees index-only scans from the start.
                    cursor.execute(f"VACUUM (ANALYZE) {tables}")
            timings["vacuum, analyze"] = time.monotonic() - t

        handles["issue_with_50_events"] = scripted
        handles.update(benchmark_handles(areas))
        path = settings.VAR_DIR / "scale.json"
        path.write_text(json.dumps(handles, ensure_ascii=False, indent=2) + "\n")
        timings["total"] = time.monotonic() - started
        self.summary(added, timings, handles, path)

    def summary(
        self,
        added: dict[str, int],
        timings: dict[str, float],
        handles: dict[str, Any],
        path: Any,
    ) -> None:
        out = self.stdout.write
        out("")
        out(f"{'table':<24}{'added':>12}{'total':>12}")
        for name, model, _ in TABLES:
            total = model._default_manager.count()
            out(f"{model._meta.db_table:<24}{added[name]:>12,}{total:>12,}")
        for model in (District, Subdistrict, Community, Grid, Courtyard, User):
            out(f"{model._meta.db_table:<24}{'':>12}{model._default_manager.count():>12,}")
        out("")
        for phase, seconds in timings.items():
            out(f"{phase:<24}{seconds:>10.1f} s")
        out("")
        out(f"Issue with 50 events: {handles['issue_with_50_events']}")
        out(f"Benchmark handles written to {path}")
