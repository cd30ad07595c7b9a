"""The areas and people of `seed_scale`: a fixed plan of Lhasa's districts and counties, scaled.

Subdistricts, communities, grids and courtyards carry names seed_demo does not use; a smaller
run takes a smaller part of the plan (each level scaled by the cube root of issues/1,000,000).
Existing rows are reused, so a second run adds only what is missing.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from typing import Any, TypeVar

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db.models import Count

from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    GridWorker,
    OfficialAssignment,
    StaffAssignment,
    Subdistrict,
)
from issues.models import Category, Issue
from scale import story, text

User = get_user_model()

FULL_SCALE = 1_000_000  # issues for which the whole plan of areas is used
STAFF, WORKER, OFFICIAL = "scale-staff-", "scale-worker-", "scale-official-"


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


_Area = TypeVar("_Area", Subdistrict, Community, Grid, Courtyard)


def _get_or_create_all(
    model: type[_Area], parent: str, wanted: list[dict[str, Any]]
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
