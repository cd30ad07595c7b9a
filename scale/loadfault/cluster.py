"""Control of the servers under test: Redis, gunicorn, Celery and the PostgreSQL cluster.

Each server runs in its own process group and logs to the run's folder; PostgreSQL is reached
as DATABASE_URL's user, through the maintenance database for what concerns a whole database.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection


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


def pg_cluster(opts: dict[str, Any]) -> list[str]:
    """The version and name of the local cluster serving DATABASE_URL's port."""
    if opts["pg_cluster"]:
        return opts["pg_cluster"].split()
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


def fresh_database(name: str) -> str:
    """Drop and create the run's own database, point this process at it, migrate it."""
    if connection.vendor != "postgresql":
        raise CommandError(
            "Set DATABASE_URL to the PostgreSQL server to use, e.g. "
            "postgres://postgres@127.0.0.1:5432/postgres (the run makes its own database)."
        )
    from psycopg2 import sql

    s = connection.settings_dict
    connection.close()
    with admin_connection() as admin, admin.cursor() as cursor:
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
def admin_connection() -> Iterator[Any]:
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


def restart_cluster(cluster: list[str]) -> None:
    """`pg_ctlcluster VERSION NAME restart` (root), then wait until PostgreSQL answers again."""
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


def cut_database(name: str, seconds: float) -> None:
    """One database alone goes away: new connections refused, open ones cut, for `seconds`."""
    from psycopg2 import sql

    with admin_connection() as admin, admin.cursor() as cursor:
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
