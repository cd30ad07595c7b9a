"""Who may do what to a micro-wish: the one transition table. Makes no queries."""

from enum import StrEnum
from typing import NamedTuple

from django.utils.translation import gettext_lazy as _

from wishes.models import Wish


class Actor(StrEnum):
    STAFF = "staff"  # staff of the wish's community (and administrators)
    LOGGER = "logger"  # the grid worker who logged it, while they still walk its grid
    PROVIDER = "provider"  # a provider the wish is dispatched to and which has not handed it back


class Transition(NamedTuple):
    sources: frozenset[str]
    target: str
    actors: frozenset[Actor]  # empty: only the system performs it


S, A = Wish.Status, Actor

TRANSITIONS: dict[str, Transition] = {
    "verify": Transition(frozenset({S.COLLECTED}), S.VERIFIED, frozenset({A.STAFF})),
    "decline": Transition(frozenset({S.COLLECTED}), S.DECLINED, frozenset({A.STAFF})),
    # Dispatching again while dispatched adds providers (one-to-many, many-to-one).
    "dispatch": Transition(
        frozenset({S.VERIFIED, S.DISPATCHED}), S.DISPATCHED, frozenset({A.STAFF})
    ),
    # Staff take, hand back and complete on behalf of a provider that has no login.
    "take": Transition(
        frozenset({S.DISPATCHED, S.TAKEN}), S.TAKEN, frozenset({A.PROVIDER, A.STAFF})
    ),
    # Back to "verified" only when no other provider still holds it (services.hand_back_wish).
    "hand_back": Transition(
        frozenset({S.DISPATCHED, S.TAKEN}), S.VERIFIED, frozenset({A.PROVIDER, A.STAFF})
    ),
    "complete": Transition(frozenset({S.TAKEN}), S.DONE, frozenset({A.PROVIDER, A.STAFF})),
    "record_satisfaction": Transition(
        frozenset({S.DONE}), S.REVISITED, frozenset({A.STAFF, A.LOGGER})
    ),
}

# What the user is told once they have done an action.
DONE = {
    "verify": _("Verified: the wish is on the needs list."),
    "decline": _("Declined."),
    "dispatch": _("Dispatched."),
    "take": _("Taken: the wish is yours to fulfil."),
    "hand_back": _("Handed back to the community."),
    "complete": _("Marked as fulfilled."),
    "record_satisfaction": _("Satisfaction recorded."),
}

# The timestamp each state sets when a wish enters it.
ENTERED_AT: dict[str, str] = {
    S.VERIFIED: "verified_at",
    S.DECLINED: "declined_at",
    S.DISPATCHED: "dispatched_at",
    S.TAKEN: "taken_at",
    S.DONE: "done_at",
    S.REVISITED: "revisited_at",
}


def allowed_actions(actors: set[Actor] | frozenset[Actor], status: str) -> list[str]:
    """The buttons to show: the UI never offers what this refuses."""
    return [name for name, t in TRANSITIONS.items() if status in t.sources and t.actors & actors]


def is_allowed(action: str, actors: set[Actor] | frozenset[Actor], status: str) -> bool:
    return action in allowed_actions(actors, status)
