"""Who may do what: the one transition table. Makes no queries; callers pass what it needs."""

from enum import StrEnum
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from issues.models import Issue


class Actor(StrEnum):
    STAFF = "staff"  # staff of the issue's community (and administrators)
    ASSIGNEE = "assignee"  # the issue's assignee
    LOGGER = "logger"  # the grid worker who logged it, while they still walk its grid
    SYSTEM = "system"  # the app itself: a visit's outcome, the beat jobs


class Transition(NamedTuple):
    sources: frozenset[str]
    target: str
    actors: frozenset[Actor]
    urgent_only: bool = False  # 紧急情况立即办: offered for urgent issues alone


S, A = Issue.Status, Actor

TRANSITIONS: dict[str, Transition] = {
    "list": Transition(frozenset({S.COLLECTED}), S.LISTED, frozenset({A.STAFF})),
    "handle_now": Transition(
        frozenset({S.COLLECTED}), S.IN_PROGRESS, frozenset({A.STAFF, A.LOGGER}), urgent_only=True
    ),
    "start": Transition(frozenset({S.LISTED}), S.IN_PROGRESS, frozenset({A.STAFF, A.ASSIGNEE})),
    "resolve": Transition(frozenset({S.IN_PROGRESS}), S.RESOLVED, frozenset({A.STAFF, A.ASSIGNEE})),
    # When every visit due so far is done and the resident satisfied.
    "revisit": Transition(frozenset({S.RESOLVED}), S.REVISITED, frozenset({A.SYSTEM})),
    # By staff with a reason, and by the system on an unsatisfied visit.
    "reopen": Transition(
        frozenset({S.RESOLVED, S.REVISITED}), S.IN_PROGRESS, frozenset({A.STAFF, A.SYSTEM})
    ),
    # Closed without resolving (duplicate, referred, not accepted), with a reply to the resident.
    "close": Transition(
        frozenset({S.COLLECTED, S.LISTED, S.IN_PROGRESS}), S.CLOSED, frozenset({A.STAFF})
    ),
}

# What the user is told once they have done an action: a sentence of its own for each.
DONE = {
    "list": _("Listed."),
    "handle_now": _("Handling it at once."),
    "start": _("Work has started."),
    "resolve": _("Resolved."),
    "reopen": _("Reopened: it is in progress again."),
    "close": _("Closed without resolving; the reply is on the resident's tracking page."),
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


def allowed_actions(
    actors: set[Actor] | frozenset[Actor], status: str, *, is_urgent: bool = True
) -> list[str]:
    """The buttons to show: the UI never offers what this refuses."""
    return [
        name
        for name, t in TRANSITIONS.items()
        if status in t.sources and t.actors & actors and (is_urgent or not t.urgent_only)
    ]


def is_allowed(
    action: str, actors: set[Actor] | frozenset[Actor], status: str, *, is_urgent: bool = True
) -> bool:
    return action in allowed_actions(actors, status, is_urgent=is_urgent)


def system_may(action: str, status: str) -> bool:
    """Transitions the system performs on its own (revisit; reopen on an unsatisfied visit)."""
    return is_allowed(action, {Actor.SYSTEM}, status)


def may_reply(actors: set[Actor] | frozenset[Actor]) -> bool:
    return bool(REPLY_ACTORS & actors)
