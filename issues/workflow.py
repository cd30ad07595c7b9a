"""Who may do what: the one transition table. Makes no queries; callers pass what it needs."""

from enum import StrEnum
from typing import NamedTuple

from issues.models import Issue


class Actor(StrEnum):
    STAFF = "staff"  # staff of the issue's community (and administrators)
    ASSIGNEE = "assignee"  # the issue's assignee
    LOGGER = "logger"  # the grid worker who logged it, while they still walk its grid


class Transition(NamedTuple):
    sources: frozenset[str]
    target: str
    actors: frozenset[Actor]  # empty: only the system performs it


S, A = Issue.Status, Actor

TRANSITIONS: dict[str, Transition] = {
    "list": Transition(frozenset({S.COLLECTED}), S.LISTED, frozenset({A.STAFF})),
    "handle_now": Transition(
        frozenset({S.COLLECTED}), S.IN_PROGRESS, frozenset({A.STAFF, A.LOGGER})
    ),
    "start": Transition(frozenset({S.LISTED}), S.IN_PROGRESS, frozenset({A.STAFF, A.ASSIGNEE})),
    "resolve": Transition(frozenset({S.IN_PROGRESS}), S.RESOLVED, frozenset({A.STAFF, A.ASSIGNEE})),
    "revisit": Transition(frozenset({S.RESOLVED}), S.REVISITED, frozenset()),
    "reopen": Transition(frozenset({S.RESOLVED, S.REVISITED}), S.IN_PROGRESS, frozenset({A.STAFF})),
    # Closed without resolving (duplicate, referred, not accepted), with a reply to the resident.
    "close": Transition(
        frozenset({S.COLLECTED, S.LISTED, S.IN_PROGRESS}), S.CLOSED, frozenset({A.STAFF})
    ),
}

# Who may write a reply to the resident (答复), the one public entry of the timeline: those who
# act on the issue, not a grid worker who only walks its grid, nor an official.
REPLY_ACTORS: frozenset[Actor] = frozenset({A.STAFF, A.ASSIGNEE})

# The timestamp each state sets when an issue enters it.
ENTERED_AT: dict[str, str] = {
    S.LISTED: "listed_at",
    S.IN_PROGRESS: "started_at",
    S.RESOLVED: "resolved_at",
    S.REVISITED: "revisited_at",
    S.CLOSED: "closed_at",
}


def allowed_actions(actors: set[Actor] | frozenset[Actor], status: str) -> list[str]:
    """The buttons to show: the UI never offers what this refuses."""
    return [name for name, t in TRANSITIONS.items() if status in t.sources and t.actors & actors]


def is_allowed(action: str, actors: set[Actor] | frozenset[Actor], status: str) -> bool:
    return action in allowed_actions(actors, status)


def system_may(action: str, status: str) -> bool:
    """Transitions the system performs on its own (revisit; reopen on an unsatisfied visit)."""
    t = TRANSITIONS[action]
    return status in t.sources and (not t.actors or action == "reopen")


def may_reply(actors: set[Actor] | frozenset[Actor]) -> bool:
    return bool(REPLY_ACTORS & actors)
