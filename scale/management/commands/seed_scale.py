"""Load a realistic data set of N issues for load tests and benchmarks.

The areas are a fixed plan of real Lhasa districts and counties whose subdistricts,
communities, grids and courtyards carry names seed_demo does not use; a smaller --issues takes
a smaller part of the plan (each level scaled by the cube root of issues/1,000,000), so the
density of issues per courtyard stays about the same. On PostgreSQL the rows go in with COPY,
in batches, on a second connection while the next batch is drawn; elsewhere with bulk_create.
"""

from __future__ import annotations

import csv
import io
import json
import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections, models, transaction
from django.db.models import Count

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
from issues import tallies
from issues.models import Category, FollowUp, Issue, IssueEvent, Mediation
from scale import story, text

User = get_user_model()

FULL_SCALE = 1_000_000  # issues for which the whole plan of areas is used
STAFF, WORKER, OFFICIAL = "scale-staff-", "scale-worker-", "scale-official-"
DROPPED = "seed_scale_dropped.json"

# Each batch's rows, table by table, parents first.
TABLES: list[tuple[str, type[models.Model], tuple[str, ...]]] = [
    ("patrols", Patrol, story.PATROL_COLUMNS),
    ("issues", Issue, story.ISSUE_COLUMNS),
    ("events", IssueEvent, story.EVENT_COLUMNS),
    ("follow_ups", FollowUp, story.FOLLOW_UP_COLUMNS),
    ("mediations", Mediation, story.MEDIATION_COLUMNS),
]


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
        generator = story.Generator(rng, areas, categories(), now, ts, references, grace)

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


# --- areas and people ----------------------------------------------------------------------


def plan(scale: float) -> list[tuple[int, str, bool, list[int]]]:
    """Districts used, each with the local indices of its subdistricts; all as prefixes.

    Each level takes the same share (the cube root of the scale), so a larger scale only adds
    to what a smaller one created.
    """
    share = scale ** (1 / 3)
    n_districts = min(len(text.DISTRICTS), max(2, round(len(text.DISTRICTS) * share)))
    return [
        (i, name, is_county, list(range(max(1, round(full * share)))))
        for i, (name, is_county, full) in enumerate(text.DISTRICTS[:n_districts])
    ]


def communities_per_subdistrict(scale: float) -> int:
    share = scale ** (1 / 3)
    return min(
        text.COMMUNITIES_PER_SUBDISTRICT, max(2, round(text.COMMUNITIES_PER_SUBDISTRICT * share))
    )


def _subdistrict_name(district: int, j: int, is_county: bool) -> tuple[int, str]:
    offset = sum(full for _, _, full in text.DISTRICTS[:district])
    stem = text.SUBDISTRICT_STEMS[(offset + j) % len(text.SUBDISTRICT_STEMS)]
    suffix = "街道" if not is_county else "镇" if j == 0 else "乡"
    return offset + j, stem + suffix


def _get_or_create_all(
    model: type[models.Model], parent: str, wanted: list[dict[str, Any]]
) -> dict[tuple[int, str], Any]:
    """Rows by (parent id, name): the existing ones, and the missing ones created in bulk."""
    parent_ids = {w[parent] for w in wanted}
    rows = {}
    for chunk in _chunks(sorted(parent_ids), 5_000):
        for obj in model._default_manager.filter(**{f"{parent}__in": chunk}):
            rows[(getattr(obj, parent), obj.name)] = obj
    missing = [model(**w) for w in wanted if (w[parent], w["name"]) not in rows]
    if missing:
        model._default_manager.bulk_create(missing, batch_size=2_000)
        for chunk in _chunks(sorted(parent_ids), 5_000):
            for obj in model._default_manager.filter(**{f"{parent}__in": chunk}):
                rows[(getattr(obj, parent), obj.name)] = obj
    return rows


def _chunks(items: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def ensure_areas(scale: float, rng: random.Random) -> tuple[story.Areas, dict[str, Any]]:
    """The plan's areas, created where missing, as the generator's lists."""
    districts = {}
    subs_wanted = []
    for i, name, is_county, subs in plan(scale):
        district, _ = District.objects.get_or_create(name=name, defaults={"is_county": is_county})
        districts[i] = district
        for j in subs:
            _, sub_name = _subdistrict_name(i, j, is_county)
            subs_wanted.append(
                {"district_id": district.pk, "name": sub_name, "is_township": is_county}
            )
    subdistricts = _get_or_create_all(Subdistrict, "district_id", subs_wanted)

    per_sub = communities_per_subdistrict(scale)
    community_wanted = []
    for i, _, is_county, subs in plan(scale):
        for j in subs:
            g, sub_name = _subdistrict_name(i, j, is_county)
            sub = subdistricts[(districts[i].pk, sub_name)]
            for k in range(per_sub):
                stem = text.COMMUNITY_STEMS[(g * 7 + k) % len(text.COMMUNITY_STEMS)]
                community_wanted.append(
                    {
                        "subdistrict_id": sub.pk,
                        "name": stem + ("村" if is_county and k % 2 else "社区"),
                        "is_village": is_county and bool(k % 2),
                        "_path": g * text.COMMUNITIES_PER_SUBDISTRICT + k,
                    }
                )
    paths = {(w["subdistrict_id"], w["name"]): w.pop("_path") for w in community_wanted}
    communities = _get_or_create_all(Community, "subdistrict_id", community_wanted)

    grid_wanted = [
        {"community_id": communities[key].pk, "name": f"第{m + 1}网格"}
        for key in paths
        for m in range(text.GRIDS_PER_COMMUNITY)
    ]
    grids = _get_or_create_all(Grid, "community_id", grid_wanted)
    grid_path = {}
    for key, path in paths.items():
        for m in range(text.GRIDS_PER_COMMUNITY):
            grid_path[grids[(communities[key].pk, f"第{m + 1}网格")].pk] = (
                path * text.GRIDS_PER_COMMUNITY + m
            )

    courtyard_wanted = [
        _courtyard(grid_id, gp * text.COURTYARDS_PER_GRID + n, rng)
        for grid_id, gp in grid_path.items()
        for n in range(text.COURTYARDS_PER_GRID)
    ]
    courtyards = _get_or_create_all(Courtyard, "grid_id", courtyard_wanted)

    areas = story.Areas()
    community_pos = {}
    sub_district = {s.pk: s.district_id for s in subdistricts.values()}
    for key in paths:
        c = communities[key]
        community_pos[c.pk] = len(areas.community_ids)
        areas.community_ids.append(c.pk)
        areas.community_subdistrict_id.append(c.subdistrict_id)
        areas.community_district_id.append(sub_district[c.subdistrict_id])
        areas.community_staff.append([])
    # Some communities are busier than others: the benchmark's "busy community" is real.
    activity = [rng.lognormvariate(0, 0.5) for _ in areas.community_ids]
    grid_pos = {}
    grid_community = {g.pk: g.community_id for g in grids.values()}
    for grid_id in grid_path:
        grid_pos[grid_id] = len(areas.grid_ids)
        areas.grid_ids.append(grid_id)
        areas.grid_community.append(community_pos[grid_community[grid_id]])
        areas.grid_workers.append([])
        areas.grid_courtyards.append([])
    wanted_keys = {(w["grid_id"], w["name"]) for w in courtyard_wanted}
    for key, cy in courtyards.items():
        if key not in wanted_keys:
            continue
        g = grid_pos[cy.grid_id]
        areas.grid_courtyards[g].append(len(areas.courtyard_ids))
        areas.courtyard_ids.append(cy.pk)
        areas.courtyard_names.append(cy.name)
        areas.courtyard_grid.append(g)
        areas.courtyard_weights.append(max(cy.households, 10) * activity[areas.grid_community[g]])
    handles = {
        "districts": len(districts),
        "subdistricts": len(subs_wanted),
        "communities": len(areas.community_ids),
        "grids": len(areas.grid_ids),
        "courtyards": len(areas.courtyard_ids),
    }
    return areas, handles


def _courtyard(grid_id: int, path: int, rng: random.Random) -> dict[str, Any]:
    stem = text.COURTYARD_STEMS[path % len(text.COURTYARD_STEMS)]
    suffix = text.COURTYARD_SUFFIXES[(path // 10) % len(text.COURTYARD_SUFFIXES)]
    road = text.ROADS[(path // 100) % len(text.ROADS)]
    return {
        "grid_id": grid_id,
        "name": f"{stem}{suffix}" if path % 3 else f"{road}{path % 97 + 1}号院",
        "address": f"拉萨市{road}{path % 300 + 1}号",
        "latitude": round(29.62 + rng.random() * 0.08, 6),
        "longitude": round(91.03 + rng.random() * 0.18, 6),
        "leader_name": _person(rng),
        "leader_phone": f"139{rng.randrange(10**8):08d}",
        "households": int(rng.lognormvariate(4.0, 0.6)) + 8,
    }


def _person(rng: random.Random) -> str:
    if rng.random() < 0.75:
        return rng.choice(text.TIBETAN_GIVEN) + rng.choice(text.TIBETAN_GIVEN)
    return rng.choice(text.HAN_SURNAMES) + rng.choice(text.HAN_GIVEN)


def _next_number(prefix: str) -> int:
    numbers = [
        int(name[len(prefix) :])
        for name in User.objects.filter(username__startswith=prefix).values_list(
            "username", flat=True
        )
        if name[len(prefix) :].isdigit()
    ]
    return max(numbers, default=0) + 1


def ensure_people(areas: story.Areas, rng: random.Random, password_hash: str) -> int:
    """Staff for each community, grid workers for each grid (1–3 grids each), officials for
    each subdistrict and district: the scale users already there are kept, gaps filled."""
    community_ids = areas.community_ids
    for user_id, community_id in StaffAssignment.objects.filter(
        community_id__in=community_ids, user__username__startswith=STAFF
    ).values_list("user_id", "community_id"):
        areas.community_staff[community_ids.index(community_id)].append(user_id)
    grid_pos = {g: i for i, g in enumerate(areas.grid_ids)}
    through = GridWorker.grids.through
    for grid_id, user_id in through.objects.filter(
        grid_id__in=areas.grid_ids, gridworker__user__username__startswith=WORKER
    ).values_list("grid_id", "gridworker__user_id"):
        areas.grid_workers[grid_pos[grid_id]].append(user_id)
    subdistrict_ids = sorted(set(areas.community_subdistrict_id))
    district_ids = sorted(set(areas.community_district_id))
    officials = OfficialAssignment.objects.filter(user__username__startswith=OFFICIAL)
    have_sub = set(officials.values_list("subdistrict_id", flat=True))
    have_district = set(officials.values_list("district_id", flat=True))

    new_users: list[Any] = []
    numbers = {p: _next_number(p) for p in (STAFF, WORKER, OFFICIAL)}

    def user(prefix: str) -> Any:
        username = f"{prefix}{numbers[prefix]:04d}"
        numbers[prefix] += 1
        u = User(
            username=username,
            first_name=_person(rng),
            email=f"{username}@example.org",
            password=password_hash,
        )
        new_users.append(u)
        return u

    staff_for = [
        (user(STAFF), pos)
        for pos, staff in enumerate(areas.community_staff)
        if not staff
        for _ in range(2 if pos % 4 == 0 else 1)
    ]
    workers_for: list[tuple[Any, list[int]]] = []
    for pos in range(len(community_ids)):
        uncovered = [
            g for g, c in enumerate(areas.grid_community) if c == pos and not areas.grid_workers[g]
        ]
        while uncovered:
            take = rng.choice((1, 2, 2, 3, 3, 3))
            workers_for.append((user(WORKER), uncovered[:take]))
            uncovered = uncovered[take:]
    officials_for = [
        (user(OFFICIAL), "subdistrict_id", sub_id)
        for sub_id in subdistrict_ids
        if sub_id not in have_sub
    ] + [
        (user(OFFICIAL), "district_id", district_id)
        for district_id in district_ids
        if district_id not in have_district
    ]

    User.objects.bulk_create(new_users, batch_size=1_000)
    if any(u.pk is None for u in new_users):
        by_name = dict(
            User.objects.filter(username__in=[u.username for u in new_users]).values_list(
                "username", "pk"
            )
        )
        for u in new_users:
            u.pk = by_name[u.username]
    StaffAssignment.objects.bulk_create(
        StaffAssignment(user_id=u.pk, community_id=community_ids[pos]) for u, pos in staff_for
    )
    for u, pos in staff_for:
        areas.community_staff[pos].append(u.pk)
    profiles = GridWorker.objects.bulk_create(
        GridWorker(user_id=u.pk, phone=f"138{rng.randrange(10**8):08d}") for u, _ in workers_for
    )
    if any(p.pk is None for p in profiles):
        profile_ids = dict(
            GridWorker.objects.filter(user_id__in=[u.pk for u, _ in workers_for]).values_list(
                "user_id", "pk"
            )
        )
    else:
        profile_ids = {p.user_id: p.pk for p in profiles}
    through.objects.bulk_create(
        through(gridworker_id=profile_ids[u.pk], grid_id=areas.grid_ids[g])
        for u, gs in workers_for
        for g in gs
    )
    for u, gs in workers_for:
        for g in gs:
            areas.grid_workers[g].append(u.pk)
    OfficialAssignment.objects.bulk_create(
        OfficialAssignment(user_id=u.pk, **{attr: area_id}) for u, attr, area_id in officials_for
    )
    user_ids = {uid for s in areas.community_staff for uid in s}
    user_ids |= {uid for w in areas.grid_workers for uid in w}
    for chunk in _chunks(sorted(user_ids), 5_000):
        for pk, first, last, username in User.objects.filter(pk__in=chunk).values_list(
            "pk", "first_name", "last_name", "username"
        ):
            areas.user_names[pk] = f"{first}{last}" or username
    return len(new_users)


def categories() -> list[story.CategoryInfo]:
    cats = [
        story.CategoryInfo(
            id=c.pk,
            code=c.code,
            limit=c.time_limit_hours * story.HOUR,
            is_dispute=c.is_dispute,
            follow_up_days=sorted({int(d) for d in c.follow_up_days if int(d) >= 0}),
            urgent_by_default=c.default_urgency == "urgent",
        )
        for c in Category.objects.filter(is_active=True)
    ]
    if not cats:
        raise CommandError("There are no active categories; run the migrations first.")
    return cats


def benchmark_handles(areas: story.Areas) -> dict[str, Any]:
    """The busiest scale community, and people whose pages the benchmark opens."""
    busiest = (
        Issue.objects.filter(community_id__in=areas.community_ids)
        .values("community_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    community_id = busiest["community_id"] if busiest else areas.community_ids[0]
    pos = areas.community_ids.index(community_id)
    grid = (
        Issue.objects.filter(community_id=community_id)
        .values("grid_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    grid_id = grid["grid_id"] if grid else areas.grid_ids[areas.grid_community.index(pos)]
    names = dict(
        User.objects.filter(
            pk__in=[*areas.community_staff[pos], *areas.grid_workers[areas.grid_ids.index(grid_id)]]
        ).values_list("pk", "username")
    )
    official = OfficialAssignment.objects.filter(user__username__startswith=OFFICIAL)
    sub_official = official.filter(subdistrict_id=areas.community_subdistrict_id[pos]).first()
    district_official = official.filter(district_id=areas.community_district_id[pos]).first()
    return {
        "busy_community_id": community_id,
        "busy_community_issues": busiest["n"] if busiest else 0,
        "busy_grid_id": grid_id,
        "staff_username": names[areas.community_staff[pos][0]],
        "grid_worker_username": names[areas.grid_workers[areas.grid_ids.index(grid_id)][0]],
        "subdistrict_official_username": sub_official.user.username if sub_official else "",
        "district_official_username": district_official.user.username if district_official else "",
    }


# --- writing rows --------------------------------------------------------------------------


class IdSource:
    """Primary keys taken ahead, so that children name their parents without a round trip."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.next: dict[type[models.Model], int] = {}

    def take(self, model: type[models.Model], n: int) -> list[int]:
        table = model._meta.db_table
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [table, n],
                )
                return [row[0] for row in cursor.fetchall()]
        if model not in self.next:
            top = model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0
            self.next[model] = top + 1
        first = self.next[model]
        self.next[model] += n
        return list(range(first, first + n))


class Writer:
    def put(self, batch: story.Batch) -> None:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class BulkWriter(Writer):
    """SQLite and anything else: bulk_create, fine for the few thousand issues CI loads."""

    def __init__(self, done: Callable[[int], None]) -> None:
        self.done = done

    def put(self, batch: story.Batch) -> None:
        with transaction.atomic():
            for name, model, columns in TABLES:
                model._default_manager.bulk_create(
                    (model(**dict(zip(columns, row, strict=True))) for row in getattr(batch, name)),
                    batch_size=500,
                )
        self.done(len(batch.issues))

    def close(self) -> None:
        pass


@dataclass
class _Copy:
    sql: str
    extra: tuple[Any, ...] = ()
    force_not_null: list[str] = field(default_factory=list)


def _copy_statement(model: type[models.Model], columns: tuple[str, ...]) -> _Copy:
    """COPY … FROM STDIN for these attnames; fields the rows leave out get their default."""
    opts = model._meta
    given = [opts.get_field(c) for c in columns]
    extra_fields, extra = [], []
    for f in opts.concrete_fields:
        if f in given or f.primary_key or f.null:
            continue
        if not f.has_default():
            raise CommandError(f"seed_scale cannot fill {opts.label}.{f.name}; teach it how.")
        extra_fields.append(f)
        value = f.get_db_prep_save(f.get_default(), connection)
        extra.append("t" if value is True else "f" if value is False else value)
    fields = given + extra_fields
    # CSV reads an unquoted empty field as NULL; these columns mean the empty string by it.
    texts = [
        connection.ops.quote_name(f.column)
        for f in fields
        if not f.null and isinstance(f, models.CharField | models.TextField)
    ]
    cols = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    options = "FORMAT csv" + (f", FORCE_NOT_NULL ({', '.join(texts)})" if texts else "")
    return _Copy(f"COPY {opts.db_table} ({cols}) FROM STDIN WITH ({options})", tuple(extra))


class CopyWriter(Writer):
    """PostgreSQL COPY, one transaction per batch.

    Threaded, a second connection copies batch k while this thread draws batch k+1: the
    drawing is Python, the copying is the server, and the machine has two cores.
    """

    def __init__(self, *, threaded: bool, done: Callable[[int], None]) -> None:
        self.done = done
        self.copies = {name: _copy_statement(model, cols) for name, model, cols in TABLES}
        self.error: BaseException | None = None
        self.threaded = threaded
        if threaded:
            self.queue: queue.Queue[list[tuple[str, io.StringIO]] | None] = queue.Queue(1)
            self.thread = threading.Thread(target=self._run, name="seed_scale-copy", daemon=True)
            self.thread.start()

    def _buffers(self, batch: story.Batch) -> tuple[int, list[tuple[str, io.StringIO]]]:
        out = []
        for name, _, _ in TABLES:
            rows = getattr(batch, name)
            copy = self.copies[name]
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            if copy.extra:
                writer.writerows(row + copy.extra for row in rows)
            else:
                writer.writerows(rows)
            buf.seek(0)
            out.append((copy.sql, buf))
        return len(batch.issues), out

    def put(self, batch: story.Batch) -> None:
        item = self._buffers(batch)
        if not self.threaded:
            self._copy(connection, item[1])
            self.done(item[0])
            return
        while True:
            if self.error is not None:
                raise CommandError(f"COPY failed: {self.error}") from self.error
            try:
                self.queue.put(item, timeout=1)  # type: ignore[arg-type]
                return
            except queue.Full:
                continue

    @staticmethod
    def _copy(conn: Any, buffers: list[tuple[str, io.StringIO]]) -> None:
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            for sql, buf in buffers:
                cursor.copy_expert(sql, buf, 1 << 20)

    def _run(self) -> None:
        conn = connections[connection.alias]
        try:
            with conn.cursor() as cursor:
                # A crash loses the batches in flight, and the load is rerun anyway.
                cursor.execute("SET synchronous_commit = off")
            while True:
                item = self.queue.get()
                if item is None:
                    return
                count, buffers = item  # type: ignore[misc]
                self._copy(conn, buffers)
                self.done(count)
        except BaseException as e:
            self.error = e
            # Unblock a producer waiting on a full queue.
            while not self.queue.empty():
                self.queue.get_nowait()
        finally:
            conn.close()

    def close(self) -> None:
        if not self.threaded:
            return
        while self.thread.is_alive():
            try:
                self.queue.put(None, timeout=1)
                break
            except queue.Full:
                continue
        self.thread.join()
        if self.error is not None:
            raise CommandError(f"COPY failed: {self.error}") from self.error


class Progress:
    def __init__(self, write: Callable[[str], None], total: int) -> None:
        self.write = write
        self.total = total
        self.done = 0
        self.started = time.monotonic()
        self.lock = threading.Lock()

    def add(self, n: int) -> None:
        with self.lock:
            self.done += n
            elapsed = time.monotonic() - self.started
            rate = self.done / elapsed if elapsed else 0
            eta = (self.total - self.done) / rate if rate else 0
            self.write(
                f"issues {self.done:,}/{self.total:,} ({100 * self.done // self.total}%) "
                f"{elapsed:.0f} s, ~{rate:,.0f}/s, ETA {_duration(eta)}"
            )


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} m"


# --- indexes and foreign keys ---------------------------------------------------------------


@dataclass
class Dropped:
    """Exact definitions of what a load dropped, as PostgreSQL itself prints them."""

    indexes: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def
    foreign_keys: list[tuple[str, str, str]] = field(default_factory=list)  # table, name, def

    def __bool__(self) -> bool:
        return bool(self.indexes or self.foreign_keys)


def drop_secondary(tables: list[str]) -> Dropped:
    """Drop the B-tree indexes and the foreign keys of these tables, to rebuild after a load.

    Checking ten foreign keys per issue row and maintaining some thirty B-trees cost several
    times what the COPY itself does; building each index once and validating each key with one
    join afterwards does not (100,000 issues: 108 s with everything kept, 34 s so). What stays:
    primary keys and unique constraints (references, one visit number per issue); partial
    indexes, which hold only open issues or pending visits and whose predicates PostgreSQL
    prints in a form that reads back as another text; and the GIN index of the search bigrams,
    which a million rows build in 2.5 minutes on one core at the end but which is kept up in
    the COPY connection while Python draws the next batch. The definitions are saved to a file
    first, so that an interrupted run restores them the next time.
    """
    dropped = Dropped()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x
            JOIN pg_class i ON i.oid = x.indexrelid
            JOIN pg_class t ON t.oid = x.indrelid
            JOIN pg_am am ON am.oid = i.relam
            WHERE t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
              AND am.amname = 'btree' AND x.indpred IS NULL
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
            ORDER BY t.relname, i.relname
            """,
            [tables],
        )
        dropped.indexes = [tuple(row) for row in cursor.fetchall()]
        cursor.execute(
            """
            SELECT t.relname, c.conname, pg_get_constraintdef(c.oid)
            FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid
            WHERE c.contype = 'f' AND t.relname = ANY(%s) AND pg_table_is_visible(t.oid)
            ORDER BY t.relname, c.conname
            """,
            [tables],
        )
        dropped.foreign_keys = [tuple(row) for row in cursor.fetchall()]
        (settings.VAR_DIR / DROPPED).write_text(
            json.dumps(
                {"indexes": dropped.indexes, "foreign_keys": dropped.foreign_keys},
                ensure_ascii=False,
            )
        )
        quote = connection.ops.quote_name
        for table, name, _ in dropped.foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for _, name, _ in dropped.indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    return dropped


def restore_secondary(dropped: Dropped) -> None:
    """Build the indexes as they were, then add the foreign keys back, which checks every row.

    The issues' indexes and the others' build on two connections at once, one per core.
    """
    issues = [i for i in dropped.indexes if i[0] == Issue._meta.db_table]
    others = [i for i in dropped.indexes if i[0] != Issue._meta.db_table]
    errors: list[BaseException] = []

    def build(indexes: list[tuple[str, str, str]]) -> None:
        conn = connections.create_connection(connection.alias)
        try:
            with conn.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '1GB'")
                for _, _, definition in indexes:
                    cursor.execute(_if_not_exists(definition))
        except BaseException as e:
            errors.append(e)
        finally:
            conn.close()

    threads = [threading.Thread(target=build, args=(part,)) for part in (issues, others) if part]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise CommandError(f"Rebuilding an index failed: {errors[0]}") from errors[0]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT conrelid::regclass::text, conname FROM pg_constraint")
        present = set(cursor.fetchall())
        for table, name, definition in dropped.foreign_keys:
            if (table, name) not in present:
                cursor.execute(
                    f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}"
                )
    (settings.VAR_DIR / DROPPED).unlink(missing_ok=True)


def _if_not_exists(definition: str) -> str:
    for prefix in ("CREATE INDEX ", "CREATE UNIQUE INDEX "):
        if definition.startswith(prefix):
            return prefix + "IF NOT EXISTS " + definition[len(prefix) :]
    return definition


def restore_interrupted(write: Callable[[str], None]) -> None:
    """Put back what a load that did not finish dropped."""
    path = settings.VAR_DIR / DROPPED
    if path.exists():
        saved = json.loads(path.read_text())
        dropped = Dropped(
            [tuple(i) for i in saved["indexes"]], [tuple(f) for f in saved["foreign_keys"]]
        )
        write(
            f"restoring {len(dropped.indexes)} indexes and {len(dropped.foreign_keys)} foreign "
            "keys an interrupted run dropped …"
        )
        restore_secondary(dropped)
