"""The loadfault command's own logic: its options, fault plan, event-log replay and figures.

The run itself (gunicorn, Celery, a PostgreSQL restart) is not part of the test suite; see
RELIABILITY.md for how it is run.
"""

import http.client

import pytest
from django.core.management.base import CommandError

from scale.loadfault.clients import error_kind
from scale.loadfault.faults import fault_plan
from scale.loadfault.report import log_records, percentile, replay, within
from scale.management.commands.loadfault import Command


def options(*argv: str) -> dict:
    return vars(Command().create_parser("manage.py", "loadfault").parse_args(argv))


def test_it_defaults_to_the_full_run():
    opts = options()

    assert (opts["concerns"], opts["workers"], opts["staff"]) == (5000, 20, 3)
    assert (opts["web_workers"], opts["pg_fault"], opts["database"]) == (
        2,
        "restart",
        "grassroots_loadfault",
    )
    assert [(f.at, f.name) for f in fault_plan(opts)] == [
        (0.20, "redis"),
        (0.45, "worker"),
        (0.70, "postgres restart"),
    ]
    assert fault_plan(opts)[0].seconds == 10


def test_it_leaves_out_the_faults_turned_off():
    opts = options("--concerns", "300", "--no-pg-restart", "--no-worker-fault", "--json", "r.json")

    assert opts["concerns"] == 300
    assert opts["json_path"] == "r.json"
    assert [f.name for f in fault_plan(opts)] == ["redis"]


def test_it_plans_a_disconnect_of_its_own_database_instead_of_a_restart():
    opts = options("--pg-fault", "disconnect", "--pg-down", "5", "--pg-at", "0.1")

    assert fault_plan(opts)[0] == (0.1, "postgres disconnect", 5.0)


def test_it_refuses_an_unknown_fault():
    with pytest.raises(CommandError, match="invalid choice"):
        options("--pg-fault", "crash")


RESOLVED_DISPUTE = [
    ("create", "", "collected"),
    ("list", "collected", "listed"),
    ("start", "listed", "in_progress"),
    ("mediate", "", ""),
    ("resolve", "in_progress", "resolved"),
    ("schedule", "", ""),
]


def test_it_accepts_a_log_that_replays_to_the_status():
    assert replay(RESOLVED_DISPUTE, "resolved") == []
    assert (
        replay(
            [("create", "", "collected"), ("handle_now", "collected", "in_progress")], "in_progress"
        )
        == []
    )


def test_it_accepts_a_reopened_issue_scheduled_again():
    log = [
        *RESOLVED_DISPUTE,
        ("reopen", "resolved", "in_progress"),
        ("resolve", "in_progress", "resolved"),
        ("schedule", "", ""),
    ]

    assert replay(log, "resolved") == []


def test_it_finds_a_log_that_ends_elsewhere_than_the_status():
    assert replay(RESOLVED_DISPUTE, "in_progress") == [
        "the log ends at resolved but the issue is in_progress"
    ]


def test_it_finds_a_skipped_state_and_an_edge_outside_the_table():
    log = [("create", "", "collected"), ("start", "collected", "in_progress")]

    problems = replay(log, "in_progress")

    assert "start collected→in_progress is not in the table" in problems


def test_it_finds_a_change_from_a_state_the_issue_was_not_in():
    log = [("create", "", "collected"), ("start", "listed", "in_progress")]

    assert replay(log, "in_progress") == ["start from listed while the issue was collected"]


def test_it_finds_visits_scheduled_twice_or_before_resolving():
    assert replay([*RESOLVED_DISPUTE, ("schedule", "", "")], "resolved") == [
        "visits scheduled twice for one resolution"
    ]
    assert replay([("create", "", "collected"), ("schedule", "", "")], "collected") == [
        "visits scheduled while collected"
    ]


def test_it_finds_a_missing_or_second_create_and_a_comment_that_moves_state():
    assert replay([("list", "collected", "listed")], "listed")[0] == (
        "the log does not open with the create event"
    )
    assert "a second create event" in replay(
        [("create", "", "collected"), ("create", "", "collected")], "collected"
    )
    assert replay(
        [("create", "", "collected"), ("comment", "collected", "listed")], "collected"
    ) == ["comment changes the state (collected→listed)"]


def test_it_takes_nearest_rank_percentiles():
    values = list(range(1, 101))

    assert percentile(values, 0.5) == 50
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) == 0.0


def test_it_names_failed_connections_as_a_phone_would():
    assert error_kind(ConnectionRefusedError()) == "connection refused"
    assert error_kind(http.client.RemoteDisconnected()) == "connection reset"
    assert error_kind(BrokenPipeError()) == "connection reset"
    assert error_kind(TimeoutError()) == "timeout"
    assert error_kind(http.client.BadStatusLine("x")) == "other (BadStatusLine)"


def test_it_allows_a_503_only_inside_a_window():
    windows = [(10.0, 25.0)]

    assert within(12.5, windows)
    assert not within(30.0, windows)
    assert not within(1.0, [])


def test_it_sums_up_a_server_log_by_heading_and_final_exception():
    log = """--- started at 12:00:00 ---
Internal Server Error: /issues/AB2C-DE3F/
Traceback (most recent call last):
  File "x.py", line 1, in f
AttributeError: 'SessionStore' object has no attribute '_session_cache'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "y.py", line 2, in g
django.db.utils.OperationalError: server closed the connection unexpectedly
\tThis probably means the server terminated abnormally
Internal Server Error: /issues/ZZ2C-DE3F/
Traceback (most recent call last):
django.db.utils.OperationalError: server closed the connection unexpectedly
Error calling resolve_issue.<locals>.<lambda> in on_commit() during transaction (Error 111).
Traceback (most recent call last):
kombu.exceptions.OperationalError: Error 111 connecting to 127.0.0.1:6390.
Conflict: /issues/AB2C-DE3F/start/
"""

    assert log_records(log) == {
        "Internal Server Error ← django.db.utils.OperationalError: server closed the "
        "connection unexpectedly": 2,
        "on_commit resolve_issue.<locals>.<lambda> failed ← kombu.exceptions.OperationalError: "
        "Error 111 connecting to 127.0.0.1:6390.": 1,
        "Conflict": 1,
    }
