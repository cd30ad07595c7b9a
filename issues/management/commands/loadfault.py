"""Load and faults: phones on a bad network, staff at work, and the services failing under them.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres GRASSROOTS_TESTING=true \\
        flock /tmp/heavy.lock python manage.py loadfault

Builds its own database (`grassroots_loadfault` by default: dropped, created, migrated, seeded
with one community of ten grids, twenty grid workers and three staff) on the PostgreSQL server
of DATABASE_URL, and runs on loopback, each in its own process group: a Redis server of its own
(port 6390, no persistence), gunicorn with two workers, a Celery worker and Celery beat (beat
intervals of seconds), all with production settings.

Twenty simulated grid workers log in through the login form and submit concerns through the
capture form; about one submission in ten is sent twice with the same token, half of those
after hanging up before the answer (a phone that lost its signal). Every client retries a
refused connection or a 5xx with the same form, as a phone does. Three staff members list,
start, mediate (disputes) and resolve the collected issues through the issue page's forms.

Faults, by progress through the run: at 20 % Redis stops for 10 s; at 45 % the Celery worker
is killed (SIGKILL) and restarted; at 70 % PostgreSQL restarts (`pg_ctlcluster ... restart`,
which needs root and disconnects every client of that server: hence the lock). Without root,
`--pg-fault disconnect` cuts and refuses the connections of the run's own database for 10 s
instead; `--no-pg-restart` leaves PostgreSQL alone. `--concerns 300` makes a short run.

Then it checks that every accepted submission is stored exactly once, that every resolved issue
has its follow-up visits (waiting for beat's sweep), that no response was a 500 (503 only
during the PostgreSQL restart), and that each issue's event log replays through the transition
table to its status. It reports requests per second, p50/p99 per kind of request, errors by
kind and the checks, and exits non-zero when a check fails. Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    GridWorker,
    StaffAssignment,
    Subdistrict,
)
from issues.models import Category, Issue, IssueEvent, Notification
from issues.workflow import TRANSITIONS

REQUEST_TIMEOUT = 30  # seconds; gunicorn's own worker timeout is 30 s too
PATIENCE = 120  # seconds a client keeps resending one request before it gives up
UNAVAILABLE_GRACE = 10  # seconds after PostgreSQL answers again that a 503 is still allowed
TAIL = 60  # seconds in-flight requests may run past the load deadline

# What each kind of request answers when all is well; anything else is counted as an error.
EXPECTED: dict[str, tuple[int, ...]] = {
    "login form": (200,),
    "login": (302,),
    "capture form": (200,),
    "capture POST": (302,),
    "capture resend": (302,),
    "staff list": (200,),
    "issue page": (200,),
    "transition POST": (302, 409),  # 409: another staff member moved the issue first
    "mediation POST": (302, 409),  # 409: resolved by another staff member meanwhile
}

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


# --- Pure parts: the fault plan, the replay of an event log, figures ----------------------------


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


def error_kind(exc: BaseException) -> str:
    """How a request failed without an HTTP answer, as a phone would tell it."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionError | http.client.RemoteDisconnected):
        return "connection reset"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"other ({type(exc).__name__})"


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


# --- Recording ---------------------------------------------------------------------------------


@dataclass
class Recorder:
    """Everything the clients saw, shared by all their threads."""

    started: float = field(default_factory=time.monotonic)
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    errors_by_request: Counter[str] = field(default_factory=Counter)
    unavailable_at: list[float] = field(default_factory=list)
    server_errors: list[tuple[float, str, int, str]] = field(default_factory=list)
    sent: dict[str, str] = field(default_factory=dict)  # token -> concern
    accepted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    resent: set[str] = field(default_factory=set)
    hung_up: int = 0
    gave_up: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    resolved: set[str] = field(default_factory=set)
    concerns_done: int = 0
    timeline: list[tuple[float, str]] = field(default_factory=list)
    pg_windows: list[tuple[float, float]] = field(default_factory=list)

    def now(self) -> float:
        return time.monotonic() - self.started

    def response(self, kind: str, status: int, ms: float, path: str) -> None:
        t = self.now()
        with self.lock:
            self.times[kind].append(ms)
            self.statuses[f"{kind} {status}"] += 1
            if status == 409:
                self.conflicts += 1
            if status not in EXPECTED[kind]:
                name = str(status) if status >= 500 else f"{status // 100}xx ({status})"
                self.errors[name] += 1
                self.errors_by_request[f"{kind}: {name}"] += 1
            if status == 503:
                self.unavailable_at.append(t)
            if status >= 500:
                self.server_errors.append((t, kind, status, path))

    def failure(self, kind: str, exc: BaseException) -> None:
        name = error_kind(exc)
        with self.lock:
            self.errors[name] += 1
            self.errors_by_request[f"{kind}: {name}"] += 1

    def mark(self, text: str) -> None:
        with self.lock:
            self.timeline.append((self.now(), text))


class Reply(NamedTuple):
    status: int
    location: str
    body: str
    retry_after: float


class Client:
    """One phone or browser: its own keep-alive connection and cookies, and a phone's patience."""

    def __init__(self, port: int, rec: Recorder, patience_until: Callable[[], float]) -> None:
        self.port = port
        self.rec = rec
        self.patience_until = patience_until
        self.conn: http.client.HTTPConnection | None = None
        self.cookies: dict[str, str] = {}

    def _send(
        self, conn: http.client.HTTPConnection, method: str, path: str, body: dict[str, str] | None
    ) -> None:
        headers = {
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        data = None
        if body is not None:
            body = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **body}
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=data, headers=headers)

    def once(self, method: str, path: str, body: dict[str, str] | None = None) -> Reply:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        try:
            self._send(self.conn, method, path, body)
            response = self.conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = None
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        try:
            retry_after = float(response.headers.get("Retry-After") or 0)
        except ValueError:
            retry_after = 0
        return Reply(
            response.status,
            response.headers.get("Location") or "",
            payload.decode("utf-8", "replace"),
            retry_after,
        )

    def hang_up(self, method: str, path: str, body: dict[str, str]) -> None:
        """Send a form and drop the line before the answer comes: the signal was lost."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=REQUEST_TIMEOUT)
        with contextlib.suppress(OSError, http.client.HTTPException):
            self._send(conn, method, path, body)
        conn.close()
        with self.rec.lock:
            self.rec.hung_up += 1

    def call(
        self, kind: str, method: str, path: str, body: dict[str, str] | None = None
    ) -> Reply | None:
        """Send until the server answers other than with a 5xx, resending the same request."""
        give_up = min(time.monotonic() + PATIENCE, self.patience_until())
        delay = 0.5
        while True:
            t0 = time.perf_counter()
            reply = None
            try:
                reply = self.once(method, path, body)
            except (http.client.HTTPException, OSError) as e:
                self.rec.failure(kind, e)
            else:
                self.rec.response(kind, reply.status, (time.perf_counter() - t0) * 1000, path)
                if reply.status < 500:
                    return reply
            wait = min(max(delay, reply.retry_after if reply else 0), 5)
            if time.monotonic() + wait > give_up:
                with self.rec.lock:
                    self.rec.gave_up[kind] += 1
                return None
            time.sleep(wait * random.uniform(0.8, 1.2))
            delay = min(delay * 2, 4)

    def login(self, username: str, password: str) -> bool:
        if self.call("login form", "GET", "/accounts/login/") is None:
            return False
        reply = self.call(
            "login", "POST", "/accounts/login/", {"username": username, "password": password}
        )
        return reply is not None and reply.status == 302


# --- The processes under test -------------------------------------------------------------------


class Services:
    """Redis, gunicorn, the Celery worker and beat: each in its own process group, logged."""

    def __init__(self, opts: dict[str, Any], env: dict[str, str], var: Path) -> None:
        self.opts = opts
        self.env = env
        self.var = var
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: dict[str, Any] = {}

    def start(self, name: str, argv: list[str]) -> None:
        log = self.logs.get(name) or open(self.var / f"{name}.log", "ab")  # noqa: SIM115
        self.logs[name] = log
        log.write(f"\n--- started at {time.strftime('%H:%M:%S')} ---\n".encode())
        log.flush()
        self.procs[name] = subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str, sig: int = signal.SIGTERM, wait: float = 20) -> None:
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)

    def stop_all(self) -> None:
        for name in ("beat", "worker", "web", "redis"):
            self.stop(name)
        for log in self.logs.values():
            log.close()

    def redis(self) -> None:
        port = self.opts["redis_port"]
        self.start(
            "redis",
            [
                tool("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.var),
            ],
        )
        wait_until(lambda: redis_answers(port), 15, "Redis did not start")

    def web(self) -> None:
        self.start(
            "web",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "grassroots.wsgi",
                "--workers",
                str(self.opts["web_workers"]),
                "--bind",
                f"127.0.0.1:{self.opts['port']}",
                "--timeout",
                "30",
                "--log-level",
                "warning",
            ],
        )

    def worker(self) -> None:
        offset = log_size(self.var / "worker.log")
        self.start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "grassroots",
                "worker",
                "--loglevel=INFO",
                "--concurrency=2",
                "--hostname=loadfault@%h",
            ],
        )
        wait_until(
            lambda: " ready." in log_tail(self.var / "worker.log", offset),
            60,
            "The Celery worker did not become ready",
        )

    def beat(self) -> None:
        self.start(
            "beat",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "grassroots",
                "beat",
                "--loglevel=INFO",
                f"--pidfile={self.var / 'beat.pid'}",
            ],
        )


def tool(name: str) -> str:
    """The full path of a server tool this run needs."""
    path = shutil.which(name)
    if path is None:
        raise CommandError(f"{name} is not installed (or not on PATH).")
    return path


def wait_until(test: Callable[[], bool], seconds: float, message: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.2)
    raise CommandError(message)


def port_in_use(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def log_size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def log_tail(path: Path, offset: int) -> str:
    if not path.exists():
        return ""
    with path.open("rb") as f:
        f.seek(offset)
        return f.read().decode("utf-8", "replace")


# --- The command --------------------------------------------------------------------------------


class Command(BaseCommand):
    help = (
        "Load and faults on loopback: phones submit concerns and staff resolve issues while "
        "Redis, the Celery worker and PostgreSQL fail; then check nothing was lost or doubled."
    )

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--concerns", type=int, default=5000, help="concerns to submit")
        parser.add_argument("--workers", type=int, default=20, help="simulated grid workers")
        parser.add_argument("--staff", type=int, default=3, help="simulated staff members")
        parser.add_argument(
            "--seconds", type=int, default=420, help="longest load phase; faults keep their share"
        )
        parser.add_argument(
            "--settle", type=int, default=120, help="longest wait for follow-ups afterwards"
        )
        parser.add_argument(
            "--resend-share", type=float, default=0.1, help="share of submissions sent twice"
        )
        parser.add_argument("--database", default="grassroots_loadfault")
        parser.add_argument("--port", type=int, default=8099, help="gunicorn's loopback port")
        parser.add_argument("--redis-port", type=int, default=6390, help="the run's own Redis")
        parser.add_argument("--web-workers", type=int, default=2, help="gunicorn workers")
        parser.add_argument("--redis-at", type=float, default=0.20)
        parser.add_argument("--redis-down", type=float, default=10.0, help="seconds")
        parser.add_argument("--worker-at", type=float, default=0.45)
        parser.add_argument("--pg-at", type=float, default=0.70)
        parser.add_argument("--no-redis-fault", action="store_true")
        parser.add_argument("--no-worker-fault", action="store_true")
        parser.add_argument(
            "--pg-fault",
            choices=["restart", "disconnect", "none"],
            default="restart",
            help="restart: pg_ctlcluster restart (root; every database on the server); "
            "disconnect: refuse and cut the run's own database's connections for --pg-down s",
        )
        parser.add_argument(
            "--no-pg-restart",
            dest="pg_fault",
            action="store_const",
            const="none",
            help="leave PostgreSQL alone (same as --pg-fault none)",
        )
        parser.add_argument("--pg-down", type=float, default=10.0, help="seconds (disconnect)")
        parser.add_argument(
            "--pg-cluster", default="", help='e.g. "15 main"; found by port when empty'
        )
        parser.add_argument(
            "--without-resilience",
            action="store_true",
            help="run without the 503 middleware, to see what the faults do to the bare app",
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--json", dest="json_path", default="", help="write the report here")

    def handle(self, *args: Any, **opts: Any) -> None:
        for name in ("concerns", "workers", "staff", "seconds"):
            if opts[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        if "loadfault" not in opts["database"]:
            raise CommandError("The run's database is dropped first: its name must say loadfault.")
        for port in (opts["port"], opts["redis_port"]):
            if port_in_use(port):
                raise CommandError(f"Port {port} on 127.0.0.1 is in use; choose another.")
        self.opts = opts
        self.var = Path(settings.BASE_DIR) / "var" / "loadfault"
        self.var.mkdir(parents=True, exist_ok=True)
        for stale in ("web.log", "worker.log", "beat.log", "redis.log", "celerybeat-schedule"):
            (self.var / stale).unlink(missing_ok=True)
        shutil.rmtree(self.var / "mail", ignore_errors=True)
        cluster = self.pg_cluster() if opts["pg_fault"] == "restart" else None

        self.say(f"Database {opts['database']}: dropping, creating, migrating, seeding")
        url = self.fresh_database(opts["database"])
        people = self.seed()
        connection.close()

        env = self.environment(url)
        services = Services(opts, env, self.var)
        self.say("Collecting static files for production settings")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )
        rec, wall, settle = Recorder(), 0.0, {}
        try:
            self.say(
                f"Starting Redis :{opts['redis_port']}, gunicorn :{opts['port']} "
                f"({opts['web_workers']} workers), the Celery worker and beat"
            )
            services.redis()
            services.web()
            services.worker()
            services.beat()
            wait_until(self.healthy, 60, "gunicorn did not answer /healthz with 200 in 60 s")
            wall = self.run_load(rec, services, people, cluster)
            self.say(f"Load over after {wall:.0f} s; waiting for the follow-ups (sweep)")
            settle = self.settle(rec)
        finally:
            services.stop_all()
            connection.close()
        report = self.report(rec, wall, settle)
        self.print_report(report)
        if opts["json_path"]:
            Path(opts["json_path"]).write_text(json.dumps(report, ensure_ascii=False, indent=2))
            self.say(f"Report written to {opts['json_path']}")
        failed = [name for name, check in report["checks"].items() if not check["ok"]]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")

    def say(self, message: str) -> None:
        self.stdout.write(f"» {message}")
        self.stdout.flush()

    # --- Set-up ---------------------------------------------------------------------------------

    def pg_cluster(self) -> list[str]:
        """The version and name of the local cluster serving DATABASE_URL's port."""
        if self.opts["pg_cluster"]:
            return self.opts["pg_cluster"].split()
        port = str(connection.settings_dict.get("PORT") or 5432)
        try:
            out = subprocess.run(
                [tool("pg_lsclusters"), "--no-header"], capture_output=True, text=True, check=True
            ).stdout
        except (OSError, subprocess.CalledProcessError) as e:
            raise CommandError(
                f"pg_lsclusters failed ({e}); give --pg-cluster or --no-pg-restart"
            ) from e
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2] == port:
                return parts[:2]
        raise CommandError(f"No local PostgreSQL cluster on port {port}; use --no-pg-restart")

    def fresh_database(self, name: str) -> str:
        """Drop and create the run's own database, point this process at it, migrate it."""
        if connection.vendor != "postgresql":
            raise CommandError(
                "Set DATABASE_URL to the PostgreSQL server to use, e.g. "
                "postgres://postgres@127.0.0.1:5432/postgres (the run makes its own database)."
            )
        from psycopg2 import sql

        s = connection.settings_dict
        connection.close()
        with self.admin_connection() as admin, admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        # As Django's test runner does for its test database.
        s["NAME"] = name
        call_command("migrate", verbosity=0, interactive=False)
        auth = ""
        if s["USER"]:
            auth = urllib.parse.quote(s["USER"], safe="")
            if s["PASSWORD"]:
                auth += ":" + urllib.parse.quote(s["PASSWORD"], safe="")
            auth += "@"
        return f"postgres://{auth}{s['HOST']}:{s['PORT'] or 5432}/{name}"

    @contextlib.contextmanager
    def admin_connection(self) -> Iterator[Any]:
        """An autocommit connection to the maintenance database, as DATABASE_URL's user."""
        import psycopg2

        s = connection.settings_dict
        admin = psycopg2.connect(
            dbname="postgres",
            host=s["HOST"] or None,
            port=s["PORT"] or None,
            user=s["USER"] or None,
            password=s["PASSWORD"] or None,
        )
        admin.autocommit = True
        try:
            yield admin
        finally:
            admin.close()

    @transaction.atomic
    def seed(self) -> dict[str, Any]:
        """One community of ten grids with three courtyards each, its workers and staff."""
        password = secrets.token_urlsafe(12)
        hashed = make_password(password)
        User = get_user_model()
        district = District.objects.create(name="负载测试区")
        subdistrict = Subdistrict.objects.create(district=district, name="负载测试街道")
        community = Community.objects.create(subdistrict=subdistrict, name="负载测试社区")
        grids = [Grid.objects.create(community=community, name=f"第{n}网格") for n in range(1, 11)]
        courtyards: dict[int, list[int]] = {}
        for grid in grids:
            courtyards[grid.pk] = [
                Courtyard.objects.create(grid=grid, name=f"{grid.name}{n}号大院", households=40).pk
                for n in range(1, 4)
            ]
        workers = []
        for n in range(1, self.opts["workers"] + 1):
            user = User.objects.create(
                username=f"lf-gw{n:02}", first_name=f"网格员{n}", email=f"lf-gw{n:02}@example.org"
            )
            User.objects.filter(pk=user.pk).update(password=hashed)
            grid = grids[(n - 1) % len(grids)]
            GridWorker.objects.create(user=user).grids.add(grid)
            workers.append((user.username, courtyards[grid.pk]))
        staff = []
        for n in range(1, self.opts["staff"] + 1):
            user = User.objects.create(
                username=f"lf-staff{n}", first_name=f"社区干部{n}", email=f"lf-staff{n}@example.org"
            )
            User.objects.filter(pk=user.pk).update(password=hashed)
            StaffAssignment.objects.create(user=user, community=community)
            staff.append(user.username)
        categories = [
            (c.pk, c.code, c.default_urgency) for c in Category.objects.filter(is_active=True)
        ]
        if not categories:
            raise CommandError("No categories: the data migration did not run.")
        return {"password": password, "workers": workers, "staff": staff, "categories": categories}

    def environment(self, url: str) -> dict[str, str]:
        """Production settings on loopback, with this run's database, Redis and folders."""
        settings_dir = self.var / "settings"
        settings_dir.mkdir(exist_ok=True)
        extra = WITHOUT_RESILIENCE_SETTINGS if self.opts["without_resilience"] else ""
        # Notification emails are written to files, so that those never sent can be counted.
        (settings_dir / "loadfault_settings.py").write_text(
            "from grassroots.settings import *  # noqa: F403\n"
            f"EMAIL_FILE_PATH = {str(self.var / 'mail')!r}\n" + extra
        )
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "loadfault_settings",
            "PYTHONPATH": os.pathsep.join(
                [str(settings_dir), str(settings.BASE_DIR), os.environ.get("PYTHONPATH", "")]
            ).rstrip(os.pathsep),
            "DATABASE_URL": url,
            "REDIS_URL": f"redis://127.0.0.1:{self.opts['redis_port']}/0",
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "false",
            "GRASSROOTS_VAR_DIR": str(self.var),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "GRASSROOTS_SWEEP_EVERY_SECONDS": "10",
            "GRASSROOTS_REDELIVER_EVERY_SECONDS": "10",
            "GRASSROOTS_REDELIVER_AFTER_SECONDS": "20",
            "GRASSROOTS_REMIND_EVERY_SECONDS": "30",
            "GRASSROOTS_ESCALATE_EVERY_SECONDS": "60",
            "LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("GRASSROOTS_TESTING", None)
        return env

    def healthy(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.opts["port"], timeout=5)
            conn.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
            return conn.getresponse().status == 200
        except OSError:
            return False

    # --- The load -------------------------------------------------------------------------------

    def run_load(
        self, rec: Recorder, services: Services, people: dict[str, Any], cluster: list[str] | None
    ) -> float:
        opts = self.opts
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
        faults = threading.Thread(
            target=self.inject_faults,
            args=(rec, services, cluster, progress, stop),
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
        for t in [*phones, *offices, faults]:
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
        for t in [*offices, faults]:
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

    # --- Faults ---------------------------------------------------------------------------------

    def inject_faults(
        self,
        rec: Recorder,
        services: Services,
        cluster: list[str] | None,
        progress: Callable[[], float],
        stop: threading.Event,
    ) -> None:
        for fault in fault_plan(self.opts):
            while progress() < fault.at:
                if stop.wait(0.5):
                    return
            try:
                if fault.name == "redis":
                    self.redis_outage(rec, services, fault.seconds)
                elif fault.name == "worker":
                    self.worker_crash(rec, services)
                elif fault.name == "postgres restart" and cluster:
                    self.postgres_restart(rec, cluster)
                elif fault.name == "postgres disconnect":
                    self.postgres_disconnect(rec, fault.seconds)
            except (CommandError, OSError, subprocess.SubprocessError) as e:
                rec.mark(f"fault {fault.name} failed: {e}")
                self.say(f"fault {fault.name} failed: {e}")

    def announce(self, rec: Recorder, text: str) -> None:
        rec.mark(text)
        self.say(f"[{rec.now():4.0f}s] {text}")

    def redis_outage(self, rec: Recorder, services: Services, seconds: float) -> None:
        self.announce(rec, "Redis stopped (SIGTERM, no persistence: queued tasks are lost)")
        services.stop("redis")
        time.sleep(seconds)
        services.redis()
        self.announce(rec, f"Redis started again after {seconds:.0f} s, empty")

    def worker_crash(self, rec: Recorder, services: Services) -> None:
        self.announce(rec, "Celery worker killed (SIGKILL to its process group)")
        services.stop("worker", signal.SIGKILL)
        time.sleep(3)
        services.worker()
        self.announce(rec, "Celery worker restarted and ready")

    def postgres_restart(self, rec: Recorder, cluster: list[str]) -> None:
        start = rec.now()
        self.announce(rec, f"PostgreSQL {' '.join(cluster)} restarting (pg_ctlcluster restart)")
        result = subprocess.run(
            [tool("pg_ctlcluster"), *cluster, "restart"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode:
            raise CommandError(f"pg_ctlcluster restart: {result.stderr.strip()}")
        s = connection.settings_dict
        host, port = s["HOST"] or "127.0.0.1", str(s["PORT"] or 5432)
        wait_until(
            lambda: (
                subprocess.run(
                    [tool("pg_isready"), "-q", "-h", host, "-p", port], check=False
                ).returncode
                == 0
            ),
            60,
            "PostgreSQL did not come back within 60 s",
        )
        ready = rec.now()
        with rec.lock:
            rec.pg_windows.append((start, ready + UNAVAILABLE_GRACE))
        self.announce(rec, f"PostgreSQL accepting connections again after {ready - start:.1f} s")

    def postgres_disconnect(self, rec: Recorder, seconds: float) -> None:
        """The run's database alone goes away: new connections refused, open ones cut."""
        from psycopg2 import sql

        name = connection.settings_dict["NAME"]
        start = rec.now()
        self.announce(rec, f"PostgreSQL: {name} refuses connections and its sessions are cut")
        with self.admin_connection() as admin, admin.cursor() as cursor:
            db = sql.Identifier(name)
            cursor.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(db))
            try:
                cursor.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = %s AND pid <> pg_backend_pid()",
                    [name],
                )
                time.sleep(seconds)
            finally:
                cursor.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(db))
        ready = rec.now()
        with rec.lock:
            rec.pg_windows.append((start, ready + UNAVAILABLE_GRACE))
        self.announce(rec, f"PostgreSQL: {name} accepts connections again after {seconds:.0f} s")

    # --- Afterwards -----------------------------------------------------------------------------

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

    def report(self, rec: Recorder, wall: float, settle: dict[str, Any]) -> dict[str, Any]:
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

    def print_report(self, r: dict[str, Any]) -> None:
        out = self.stdout.write
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
            mark = self.style.SUCCESS("PASS") if check["ok"] else self.style.ERROR("FAIL")
            out(f"  {mark} {name}: {json.dumps(details, ensure_ascii=False)}")


# With --without-resilience: the run's servers as without the 503 middleware, to show what a
# database outage did before it.
WITHOUT_RESILIENCE_SETTINGS = """
_resilience = "grassroots.resilience.DatabaseUnavailableMiddleware"
MIDDLEWARE = [m for m in MIDDLEWARE if m != _resilience]  # noqa: F405
"""
