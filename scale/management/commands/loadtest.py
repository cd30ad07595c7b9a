"""HTTP throughput: gunicorn with N workers on loopback, and a bounded load generator.

    python manage.py loadtest --seconds 30 --concurrency 8

Starts gunicorn on 127.0.0.1 (production settings, this DATABASE_URL and REDIS_URL), logs in as
a staff member and a grid worker through the real login form, then for at most 60 seconds
sends the staff list (GET /issues/) and the capture form (POST /issues/new/) from concurrent
keep-alive connections. Reports requests per second, p50/p99 latency and errors by status.
Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import os
import re
import secrets
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from issues.models import Category, Courtyard
from scale.management.commands.benchmark import Command as Benchmark


class Session:
    """One keep-alive connection with its own cookies, as one phone or browser tab."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        headers = {
            "Host": "127.0.0.1",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
            headers["Referer"] = "http://127.0.0.1/"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
            payload = response.read()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, payload

    def login(self, username: str, password: str) -> None:
        self.request("GET", "/accounts/login/")
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            {
                "username": username,
                "password": password,
                "csrfmiddlewaretoken": self.cookies.get("csrftoken", ""),
            },
        )
        if status != 302:
            raise CommandError(f"Could not log in as {username} (HTTP {status}).")


class Command(BaseCommand):
    help = "Run gunicorn on loopback and measure the staff list and capture under load."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seconds", type=int, default=30)
        parser.add_argument("--concurrency", type=int, default=8)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--port", type=int, default=8077)
        parser.add_argument("--password", default="grassroots-demo")
        parser.add_argument(
            "--capture-share",
            type=float,
            default=0.2,
            help="share of requests that are capture POSTs (0 to 1)",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        seconds = min(max(opts["seconds"], 5), 60)
        h = Benchmark().handles()
        port = opts["port"]
        env = {
            **os.environ,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(50),
            "SECURE_SSL_REDIRECT": "false",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("GRASSROOTS_TESTING", None)
        self.stdout.write("Collecting static files for production settings")
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=settings.BASE_DIR,
            env=env,
            check=True,
        )
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "grassroots.wsgi",
                "--workers",
                str(opts["workers"]),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=settings.BASE_DIR,
            env=env,
        )
        try:
            self.wait_for(port)
            self.run_load(h, port, seconds, opts)
        finally:
            server.terminate()
            server.wait(timeout=20)

    def wait_for(self, port: int) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                Session(port).request("GET", "/healthz")
                return
            except OSError:
                time.sleep(0.3)
        raise CommandError("gunicorn did not start within 30 s")

    def run_load(self, h: dict[str, Any], port: int, seconds: int, opts: dict[str, Any]) -> None:
        courtyard = Courtyard.objects.filter(grid_id=h["grid_id"]).first()
        if courtyard is None:
            raise CommandError(f"Grid {h['grid_id']} has no courtyard to capture issues in.")
        category = Category.objects.get(code="road")
        concurrency = opts["concurrency"]
        share = opts["capture_share"]
        results: dict[str, list[float]] = {"staff list": [], "capture POST": []}
        errors: Counter[str] = Counter()
        lock = threading.Lock()
        deadline = time.monotonic() + seconds

        def worker(n: int) -> None:
            staff = Session(port)
            staff.login(h["staff"].username, opts["password"])
            phone = Session(port)
            phone.login(h["grid_worker"].username, opts["password"])
            status: int | str  # a refused connection counts by its exception's name
            status, page = phone.request("GET", "/issues/new/")
            token_match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
            i = 0
            while time.monotonic() < deadline:
                i += 1
                capture = share > 0 and (i * share) % 1 < share
                t0 = time.perf_counter()
                try:
                    if capture:
                        status, _ = phone.request(
                            "POST",
                            "/issues/new/",
                            {
                                "csrfmiddlewaretoken": token_match.group(1).decode()
                                if token_match
                                else "",
                                "courtyard": str(courtyard.pk),
                                "category": str(category.pk),
                                "urgency": "normal",
                                "title": f"负载测试 路面破损 {n}-{i}",
                                "description": "雨后积水。",
                                "source": "visit",
                                "token": str(uuid.uuid4()),
                            },
                        )
                        ok = status == 302
                    else:
                        status, _ = staff.request("GET", "/issues/")
                        ok = status == 200
                except (http.client.HTTPException, OSError) as e:
                    status, ok = type(e).__name__, False
                elapsed = (time.perf_counter() - t0) * 1000
                with lock:
                    results["capture POST" if capture else "staff list"].append(elapsed)
                    if not ok:
                        errors[str(status)] += 1

        self.stdout.write(
            f"Load: {concurrency} connections for {seconds} s against gunicorn "
            f"with {opts['workers']} workers on 127.0.0.1:{port}"
        )
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(concurrency)]
        started = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - started
        total = sum(len(v) for v in results.values())
        self.stdout.write(f"\n{total:,} requests in {wall:.1f} s = {total / wall:.1f} req/s")
        for name, times in results.items():
            if not times:
                continue
            times.sort()
            p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
            self.stdout.write(
                f"  {name:<14} {len(times) / wall:8.1f} req/s   p50 "
                f"{statistics.median(times):7.1f} ms   p99 {p99:7.1f} ms"
            )
        self.stdout.write(f"Errors: {dict(errors) or 'none'}")
        self.stdout.write("Capture POSTs created real issues titled 负载测试 (load test).")
