"""Draws `seed_scale`'s batches: each issue's place, words and life, with its events,
visits, mediations and the patrols that found hazards (the life itself: `scale.story`)."""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import Callable
from decimal import Decimal
from itertools import accumulate
from typing import Any

from scale import text
from scale.story import (
    _TZ_OFFSET,
    CATEGORY_WEIGHTS,
    CENTS,
    COLLECTED,
    DAY,
    HAZARD_PATROLS,
    HOUR,
    IN_PROGRESS,
    LISTED,
    MEDIATION_METHODS,
    PATROL_HAZARDS,
    PATROL_SHARE,
    PATROLS_PER_ISSUE,
    SATISFACTION,
    SEASON_FACTORS,
    SOURCES,
    VISIT_METHODS,
    YEARS,
    Areas,
    Batch,
    CategoryInfo,
    Timeline,
    _cum,
    _local_date,
    _month,
    _ts_or_none,
)
from scale.words import Words


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
        # Titles, descriptions, residents and references, from the same random stream.
        self.w = Words(rng, references)

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

        people: int | None = None
        owed: int | Decimal | None = None
        if cat.code == "wage_arrears":
            people = rng.randint(2, 30)
            owed = people * rng.randrange(30, 300) * 100
            if tl.resolution:
                r = rng.random()
                share = 1 if r < 0.65 else rng.uniform(0.4, 0.9) if r < 0.95 else 0
                tl.amount_recovered = Decimal(round(owed * share, -2)).quantize(CENTS)
        title, description = self.w.words(cat, source, a.courtyard_names[cy], people or 0)
        if owed is not None:
            description = description.replace("，", f"，共计约{owed}元，", 1)
            owed = Decimal(owed).quantize(CENTS)
        name, phone = self.w.resident()
        reference = self.w.reference()
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
                self.w.search_document(title, description, name),
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
