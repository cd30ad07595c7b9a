"""A database that is briefly away answers 503 with Retry-After, not a 500.

While PostgreSQL restarts or fails over, every request that touches it fails with an
OperationalError or InterfaceError. That is not a bug in the request: the same form sent again a
few seconds later works, and resending is safe (a capture carries its submission token, an
action its `seen_status`). So the answer is 503 with Retry-After, which phones and proxies
retry, rather than a 500, which says the request itself is broken.

Place `DatabaseUnavailableMiddleware` near the top of MIDDLEWARE (after the security headers,
before sessions), so that it also covers a session saved or a user loaded by the middleware
inside it. Django turns an exception into a 500 response inside each middleware layer, so such
an exception is recognised through `got_request_exception` and its 500 replaced here.
"""

from __future__ import annotations

import logging
import sqlite3
import sys
from collections.abc import Callable
from typing import Any

from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 5
_MARK = "_grassroots_database_unavailable"


def database_unavailable(exc: BaseException | None) -> bool:
    """True for errors of reaching the database, not of what was asked of it.

    PostgreSQL: no SQLSTATE (refused, closed unexpectedly), class 08 (connection exception) or
    57P (shutting down, starting up). SQLite: busy or locked. Anything else (a bad query, a
    missing table) stays a 500, because sending it again would fail again.
    """
    if isinstance(exc, InterfaceError):
        return True
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if isinstance(cause, sqlite3.Error):
        code = getattr(cause, "sqlite_errorcode", None)
        return code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    pgcode = getattr(cause, "pgcode", None)
    return pgcode is None or pgcode.startswith(("08", "57P"))


def unavailable_response() -> HttpResponse:
    # No request context: the context processors would query the database that is away.
    response = HttpResponse(render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def _mark_request(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Sent while Django handles an uncaught exception: remember that the database was away."""
    if request is not None and database_unavailable(sys.exc_info()[1]):
        setattr(request, _MARK, True)


got_request_exception.connect(_mark_request, dispatch_uid="grassroots.resilience")


class DatabaseUnavailableMiddleware:
    """Answers 503 with Retry-After when the database cannot be reached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code == 500 and getattr(request, _MARK, False):
            return unavailable_response()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not database_unavailable(exception):
            return None
        logger.warning("Database unavailable, answered 503: %s", exception, exc_info=exception)
        return unavailable_response()
