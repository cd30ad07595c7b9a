"""The run's simulated phones and browsers, and the recorder of everything they saw."""

from __future__ import annotations

import contextlib
import http.client
import random
import threading
import time
import urllib.parse
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

REQUEST_TIMEOUT = 30  # seconds; gunicorn's own worker timeout is 30 s too
PATIENCE = 120  # seconds a client keeps resending one request before it gives up
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


def error_kind(exc: BaseException) -> str:
    """How a request failed without an HTTP answer, as a phone would tell it."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionError | http.client.RemoteDisconnected):
        return "connection reset"
    if isinstance(exc, TimeoutError):
        return "timeout"
    return f"other ({type(exc).__name__})"


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
