"""A database that is briefly away answers 503 with Retry-After; a broken query stays a 500."""

import sqlite3

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import InterfaceError, OperationalError, ProgrammingError

from grassroots.resilience import database_unavailable
from grids.access import Scope

pytestmark = pytest.mark.django_db

RESILIENCE = "grassroots.resilience.DatabaseUnavailableMiddleware"


class PgError(Exception):
    def __init__(self, pgcode: str | None) -> None:
        super().__init__("pg")
        self.pgcode = pgcode


def wrapped(exc: Exception, cause: BaseException | None) -> Exception:
    exc.__cause__ = cause
    return exc


def sqlite_error(code: int) -> sqlite3.OperationalError:
    error = sqlite3.OperationalError("sqlite")
    error.sqlite_errorcode = code
    return error


@pytest.mark.parametrize(
    ("exc", "unavailable"),
    [
        (wrapped(OperationalError("server closed the connection"), PgError(None)), True),
        (wrapped(OperationalError("terminating connection"), PgError("57P01")), True),
        (wrapped(OperationalError("connection failure"), PgError("08006")), True),
        (wrapped(OperationalError("canceling statement"), PgError("57014")), False),
        (wrapped(OperationalError("database is locked"), sqlite_error(sqlite3.SQLITE_BUSY)), True),
        (wrapped(OperationalError("no such table"), sqlite_error(sqlite3.SQLITE_ERROR)), False),
        (InterfaceError("connection already closed"), True),
        (ProgrammingError("column does not exist"), False),
        (ValueError("not the database"), False),
    ],
)
def test_it_tells_an_absent_database_from_a_broken_query(exc, unavailable):
    assert database_unavailable(exc) is unavailable


@pytest.fixture
def resilient(settings, client, staff):
    after = settings.MIDDLEWARE.index("grassroots.middleware.ContentSecurityPolicyMiddleware")
    settings.MIDDLEWARE = [
        *settings.MIDDLEWARE[: after + 1],
        RESILIENCE,
        *settings.MIDDLEWARE[after + 1 :],
    ]
    client.force_login(staff)
    client.raise_request_exception = False
    return client


def test_it_answers_503_when_the_session_cannot_be_read(resilient, monkeypatch):
    def away(self):
        raise OperationalError("server closed the connection unexpectedly")

    # The first query of a request: the session, read by a middleware before any view.
    monkeypatch.setattr(SessionStore, "load", away)

    r = resilient.get("/issues/")

    assert r.status_code == 503
    assert r["Retry-After"] == "5"
    assert "Content-Security-Policy" in r


def test_it_answers_503_when_the_view_loses_the_database(resilient, monkeypatch):
    def away(user):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(Scope, "for_user", away)

    r = resilient.get("/")

    assert r.status_code == 503
    assert r["Retry-After"] == "5"


def test_it_leaves_a_broken_query_a_500(resilient, monkeypatch):
    def broken(user):
        raise ProgrammingError('column "x" does not exist')

    monkeypatch.setattr(Scope, "for_user", broken)

    assert resilient.get("/").status_code == 500
