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
import http.client
import json
import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    GridWorker,
    StaffAssignment,
    Subdistrict,
)
from issues.models import Category
from scale.loadfault.clients import Recorder
from scale.loadfault.cluster import (
    Services,
    fresh_database,
    pg_cluster,
    port_in_use,
    wait_until,
)
from scale.loadfault.faults import Faults
from scale.loadfault.report import Report
from scale.loadfault.traffic import Traffic


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
        cluster = pg_cluster(opts) if opts["pg_fault"] == "restart" else None

        self.say(f"Database {opts['database']}: dropping, creating, migrating, seeding")
        url = fresh_database(opts["database"])
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
        afterwards = Report(opts, self.var, self.say)
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
            faults = Faults(opts, rec, services, cluster, self.say)
            wall = Traffic(opts, people, self.say).run(rec, faults)
            self.say(f"Load over after {wall:.0f} s; waiting for the follow-ups (sweep)")
            settle = afterwards.settle(rec)
        finally:
            services.stop_all()
            connection.close()
        report = afterwards.build(rec, wall, settle)
        Report.print(report, self.stdout.write, self.style)
        if opts["json_path"]:
            Path(opts["json_path"]).write_text(json.dumps(report, ensure_ascii=False, indent=2))
            self.say(f"Report written to {opts['json_path']}")
        failed = [name for name, check in report["checks"].items() if not check["ok"]]
        if failed:
            raise CommandError(f"{len(failed)} check(s) failed: {', '.join(failed)}")

    def say(self, message: str) -> None:
        self.stdout.write(f"» {message}")
        self.stdout.flush()

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


# With --without-resilience: the run's servers as without the 503 middleware, to show what a
# database outage did before it.
WITHOUT_RESILIENCE_SETTINGS = """
_resilience = "grassroots.resilience.DatabaseUnavailableMiddleware"
MIDDLEWARE = [m for m in MIDDLEWARE if m != _resilience]  # noqa: F405
"""
