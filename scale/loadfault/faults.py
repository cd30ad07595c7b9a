"""The fault scenarios: what fails, when in the run, and for how long."""

from __future__ import annotations

import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from django.core.management.base import CommandError
from django.db import connection

from scale.loadfault.clients import Recorder
from scale.loadfault.cluster import Services, cut_database, restart_cluster

UNAVAILABLE_GRACE = 10  # seconds after PostgreSQL answers again that a 503 is still allowed


class Fault(NamedTuple):
    at: float  # share of the run (0 to 1) at which it starts
    name: str  # "redis", "worker", "postgres restart" or "postgres disconnect"
    seconds: float  # how long the service stays down (for redis)


def fault_plan(opts: dict[str, Any]) -> list[Fault]:
    """The faults this run injects, in order of their place in the run."""
    plan = []
    if not opts["no_redis_fault"]:
        plan.append(Fault(opts["redis_at"], "redis", opts["redis_down"]))
    if not opts["no_worker_fault"]:
        plan.append(Fault(opts["worker_at"], "worker", 0))
    if opts["pg_fault"] != "none":
        plan.append(Fault(opts["pg_at"], f"postgres {opts['pg_fault']}", opts["pg_down"]))
    return sorted(plan)


class Faults:
    """Injects the planned faults as the run progresses, marking each on the timeline."""

    def __init__(
        self,
        opts: dict[str, Any],
        rec: Recorder,
        services: Services,
        cluster: list[str] | None,
        say: Callable[[str], None],
    ) -> None:
        self.opts, self.rec, self.services, self.cluster, self.say = (
            opts,
            rec,
            services,
            cluster,
            say,
        )

    def inject(self, progress: Callable[[], float], stop: threading.Event) -> None:
        rec = self.rec
        for fault in fault_plan(self.opts):
            while progress() < fault.at:
                if stop.wait(0.5):
                    return
            try:
                if fault.name == "redis":
                    self.redis_outage(fault.seconds)
                elif fault.name == "worker":
                    self.worker_crash()
                elif fault.name == "postgres restart" and self.cluster:
                    self.postgres_restart(self.cluster)
                elif fault.name == "postgres disconnect":
                    self.postgres_disconnect(fault.seconds)
            except (CommandError, OSError, subprocess.SubprocessError) as e:
                rec.mark(f"fault {fault.name} failed: {e}")
                self.say(f"fault {fault.name} failed: {e}")

    def announce(self, text: str) -> None:
        self.rec.mark(text)
        self.say(f"[{self.rec.now():4.0f}s] {text}")

    def redis_outage(self, seconds: float) -> None:
        self.announce("Redis stopped (SIGTERM, no persistence: queued tasks are lost)")
        self.services.stop("redis")
        time.sleep(seconds)
        self.services.redis()
        self.announce(f"Redis started again after {seconds:.0f} s, empty")

    def worker_crash(self) -> None:
        self.announce("Celery worker killed (SIGKILL to its process group)")
        self.services.stop("worker", signal.SIGKILL)
        time.sleep(3)
        self.services.worker()
        self.announce("Celery worker restarted and ready")

    def postgres_restart(self, cluster: list[str]) -> None:
        rec = self.rec
        start = rec.now()
        self.announce(f"PostgreSQL {' '.join(cluster)} restarting (pg_ctlcluster restart)")
        restart_cluster(cluster)
        ready = rec.now()
        with rec.lock:
            rec.pg_windows.append((start, ready + UNAVAILABLE_GRACE))
        self.announce(f"PostgreSQL accepting connections again after {ready - start:.1f} s")

    def postgres_disconnect(self, seconds: float) -> None:
        """The run's database alone goes away: new connections refused, open ones cut."""
        rec = self.rec
        name = connection.settings_dict["NAME"]
        start = rec.now()
        self.announce(f"PostgreSQL: {name} refuses connections and its sessions are cut")
        cut_database(name, seconds)
        ready = rec.now()
        with rec.lock:
            rec.pg_windows.append((start, ready + UNAVAILABLE_GRACE))
        self.announce(f"PostgreSQL: {name} accepts connections again after {seconds:.0f} s")
