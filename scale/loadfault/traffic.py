"""The load: grid workers submitting concerns from phones, staff working the list.

Twenty simulated grid workers log in through the login form and submit concerns through the
capture form; about one submission in ten is sent twice with the same token, half of those
after hanging up before the answer (a phone that lost its signal). Three staff members list,
start, mediate (disputes) and resolve the collected issues through the issue page's forms.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from typing import Any

from django.utils import timezone

from scale.loadfault.clients import PATIENCE, TAIL, Client, Recorder, Reply
from scale.loadfault.faults import Faults, fault_plan

TITLES = {
    "road": "路面破损，老人出行不便",
    "parking": "电动车乱停堵住消防通道",
    "sanitation": "垃圾清运不及时",
    "electrical": "楼道电线裸露",
    "drainage": "雨后院内积水",
    "wage_arrears": "工地拖欠工资",
    "dispute": "楼上漏水引发邻里纠纷",
    "micro_wish": "独居老人希望有人读报",
    "participation": "居民建议增设休息座椅",
    "other": "路灯不亮",
}

REFERENCE = r"[0-9A-Z]{4}-[0-9A-Z]{4}"


class Traffic:
    """The clients' threads, and the progress printed while they run."""

    def __init__(
        self, opts: dict[str, Any], people: dict[str, Any], say: Callable[[str], None]
    ) -> None:
        self.opts, self.people, self.say = opts, people, say

    def run(self, rec: Recorder, faults: Faults) -> float:
        """Run the load until every concern is submitted (or time is up); the wall seconds."""
        opts, people = self.opts, self.people
        stop = threading.Event()
        rec.started = time.monotonic()
        deadline = rec.started + opts["seconds"]
        numbers = iter(range(opts["concerns"]))
        numbers_lock = threading.Lock()

        def next_concern() -> int | None:
            if stop.is_set() or time.monotonic() > deadline:
                return None
            with numbers_lock:
                return next(numbers, None)

        def patience_until() -> float:
            return deadline + TAIL

        def progress() -> float:
            """Share of the run done: by concerns submitted, or by time if that is further."""
            return max(rec.concerns_done / opts["concerns"], rec.now() / opts["seconds"])

        phones = [
            threading.Thread(
                target=self.grid_worker,
                args=(n, username, yards, people, rec, next_concern, patience_until),
                name=f"phone-{n}",
                daemon=True,
            )
            for n, (username, yards) in enumerate(people["workers"])
        ]
        offices = [
            threading.Thread(
                target=self.staff_member,
                args=(n, username, people, rec, stop, patience_until),
                name=f"staff-{n}",
                daemon=True,
            )
            for n, username in enumerate(people["staff"])
        ]
        injector = threading.Thread(
            target=faults.inject,
            args=(progress, stop),
            name="faults",
            daemon=True,
        )
        self.say(
            f"Load: {len(phones)} grid workers submit {opts['concerns']:,} concerns, "
            f"{len(offices)} staff work the list, at most {opts['seconds']} s"
        )
        for f in fault_plan(opts):
            self.say(f"  fault planned at {f.at:.0%}: {f.name}")
        rec.mark(f"load started: {len(phones)} grid workers, {len(offices)} staff")
        for t in [*phones, *offices, injector]:
            t.start()
        last = (0.0, 0)
        while any(t.is_alive() for t in phones):
            time.sleep(1)
            now = rec.now()
            if now - last[0] >= 10:
                with rec.lock:
                    done = sum(len(v) for v in rec.times.values())
                    accepted = sum(1 for refs in rec.accepted.values() if refs)
                    resolved = len(rec.resolved)
                    errors = ", ".join(f"{k} {v}" for k, v in rec.errors.most_common()) or "none"
                rate = (done - last[1]) / (now - last[0])
                self.say(
                    f"[{now:4.0f}s] {accepted:,}/{opts['concerns']:,} accepted · "
                    f"{resolved} resolved · {rate:.1f} req/s · errors: {errors}"
                )
                last = (now, done)
        wall = rec.now()
        rec.mark(f"load over: {rec.concerns_done:,} concerns submitted")
        stop.set()
        for t in [*offices, injector]:
            t.join(timeout=PATIENCE + 30)
        return wall

    def grid_worker(
        self,
        n: int,
        username: str,
        yards: list[int],
        people: dict[str, Any],
        rec: Recorder,
        next_concern: Callable[[], int | None],
        patience_until: Callable[[], float],
    ) -> None:
        rng = random.Random(f"{self.opts['seed']}-phone-{n}")
        phone = Client(self.opts["port"], rec, patience_until)
        if not phone.login(username, people["password"]):
            rec.mark(f"{username} could not log in")
            return
        while (number := next_concern()) is not None:
            concern = f"{username}-{number:05}"
            try:
                self.submit(phone, rng, concern, yards, people["categories"], rec)
            finally:
                with rec.lock:
                    rec.concerns_done += 1

    def submit(
        self,
        phone: Client,
        rng: random.Random,
        concern: str,
        yards: list[int],
        categories: list[tuple[int, str, str]],
        rec: Recorder,
    ) -> None:
        """One concern: a fresh form, its POST, and for some a second send of the same form."""
        form = phone.call("capture form", "GET", "/issues/new/")
        if form is None or form.status != 200:
            return
        match = re.search(r'name="token" value="([0-9a-f-]{36})"', form.body)
        if match is None:
            rec.mark(f"{concern}: no token in the capture form")
            return
        token = match.group(1)
        category, code, urgency = rng.choice(categories)
        body = {
            "courtyard": str(rng.choice(yards)),
            "category": str(category),
            "urgency": urgency,
            "title": f"{TITLES.get(code, '居民反映问题')}（{concern}）",
            "description": f"网格员入户走访时居民反映。编号 {concern}。",
            "source": "visit",
            "token": token,
        }
        with rec.lock:
            rec.sent[token] = concern
        twice = rng.random() < self.opts["resend_share"]
        if twice and rng.random() < 0.5:
            # The signal drops after sending: the phone never sees the answer and sends again,
            # at once or after a moment (the resend may race the first copy in the other worker).
            phone.hang_up("POST", "/issues/new/", body)
            with rec.lock:
                rec.resent.add(token)
            time.sleep(rng.choice([0, 0, 0.05, 0.5, 1.5]))
            self.accept(rec, token, phone.call("capture resend", "POST", "/issues/new/", body))
            return
        reply = phone.call("capture POST", "POST", "/issues/new/", body)
        self.accept(rec, token, reply)
        if twice and reply is not None:
            # Tapped again, or resent by a browser that did not trust the first answer.
            with rec.lock:
                rec.resent.add(token)
            self.accept(rec, token, phone.call("capture resend", "POST", "/issues/new/", body))

    @staticmethod
    def accept(rec: Recorder, token: str, reply: Reply | None) -> None:
        if reply is None or reply.status != 302:
            return
        match = re.search(rf"/issues/({REFERENCE})/created/", reply.location)
        with rec.lock:
            rec.accepted[token].add(match.group(1) if match else f"?{reply.location}")

    def staff_member(
        self,
        n: int,
        username: str,
        people: dict[str, Any],
        rec: Recorder,
        stop: threading.Event,
        patience_until: Callable[[], float],
    ) -> None:
        rng = random.Random(f"{self.opts['seed']}-staff-{n}")
        office = Client(self.opts["port"], rec, patience_until)
        if not office.login(username, people["password"]):
            rec.mark(f"{username} could not log in")
            return
        mediated: set[str] = set()
        staff_count = len(people["staff"])
        while not stop.is_set():
            page = office.call(
                "staff list", "GET", "/issues/?status=collected&status=listed&status=in_progress"
            )
            refs: list[str] = []
            if page is not None and page.status == 200:
                found = re.findall(rf'href="/issues/({REFERENCE})/"', page.body)
                refs = list(dict.fromkeys(found))[n::staff_count]
            if not refs:
                stop.wait(2)
                continue
            for ref in refs[:10]:
                if stop.is_set():
                    break
                self.work_issue(office, rng, ref, mediated, rec)
                stop.wait(rng.uniform(0.1, 0.4))

    def work_issue(
        self, office: Client, rng: random.Random, ref: str, mediated: set[str], rec: Recorder
    ) -> None:
        """Take one issue as far as resolved through its page, as a browser follows redirects."""
        for _step in range(8):
            page = office.call("issue page", "GET", f"/issues/{ref}/")
            if page is None or page.status != 200:
                return
            actions = re.findall(
                rf'action="/issues/{ref}/(list|handle_now|start|resolve)/"', page.body
            )
            if not actions:
                return
            seen = re.search(r'name="[a-z_]+-seen_status" value="([a-z_]+)"', page.body)
            if seen is None:
                return
            if "handle_now" in actions and rng.random() < 0.5:
                action = "handle_now"
            else:
                action = next((a for a in ("list", "start", "resolve") if a in actions), "")
            if not action:
                return
            if (
                action == "resolve"
                and f'action="/issues/{ref}/mediation/"' in page.body
                and ref not in mediated
            ):
                reply = office.call(
                    "mediation POST",
                    "POST",
                    f"/issues/{ref}/mediation/",
                    {
                        "mediation-mediated_on": timezone.localdate().isoformat(),
                        "mediation-parties": "当事双方",
                        "mediation-place": "社区调解室",
                        "mediation-method": "in_person",
                        "mediation-outcome": "agreement",
                        "mediation-agreement": "双方达成一致。",
                    },
                )
                if reply is None or reply.status != 302:
                    return
                mediated.add(ref)
                continue
            body = {f"{action}-seen_status": seen.group(1)}
            if action == "resolve":
                body["resolve-resolution"] = "已到现场处理，居民认可。"
                # The concern has a resident: resolving it needs a reply to them.
                body["resolve-reply"] = "已到现场处理，谢谢您的反映。"
            reply = office.call("transition POST", "POST", f"/issues/{ref}/{action}/", body)
            if reply is None:
                return
            if reply.status == 302 and action == "resolve":
                with rec.lock:
                    rec.resolved.add(ref)
                return
