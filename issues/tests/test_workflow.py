"""The transition table, read with no database: every row, and what each actor may do."""

import pytest

from issues import workflow
from issues.models import Issue
from issues.workflow import Actor, allowed_actions, is_allowed, system_may

S, A = Issue.Status, Actor

# The table of DESIGN.md, written out again so that a changed edge fails here.
EXPECTED = {
    "list": ({"collected"}, "listed", {A.STAFF}),
    "handle_now": ({"collected"}, "in_progress", {A.STAFF, A.LOGGER}),
    "start": ({"listed"}, "in_progress", {A.STAFF, A.ASSIGNEE}),
    "resolve": ({"in_progress"}, "resolved", {A.STAFF, A.ASSIGNEE}),
    "revisit": ({"resolved"}, "revisited", set()),
    "reopen": ({"resolved", "revisited"}, "in_progress", {A.STAFF}),
    "close": ({"collected", "listed", "in_progress"}, "closed", {A.STAFF}),
}


def test_it_has_exactly_the_designed_actions():
    assert set(workflow.TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_it_has_each_row_as_designed(action):
    sources, target, actors = EXPECTED[action]
    t = workflow.TRANSITIONS[action]

    assert set(t.sources) == sources
    assert t.target == target
    assert set(t.actors) == actors


@pytest.mark.parametrize("target", ["listed", "in_progress", "resolved", "revisited", "closed"])
def test_it_names_an_entered_at_field_for_each_target(target):
    field = workflow.ENTERED_AT[target]

    assert Issue._meta.get_field(field).null


def test_it_gives_every_target_an_entered_at_field():
    targets = {t.target for t in workflow.TRANSITIONS.values()}

    assert targets <= set(workflow.ENTERED_AT)


# Each actor set the services can compute, and the buttons it gets in each state.
ALLOWED = {
    frozenset(): {s: [] for s in S.values},
    frozenset({A.STAFF}): {
        "collected": ["list", "handle_now", "close"],
        "listed": ["start", "close"],
        "in_progress": ["resolve", "close"],
        "resolved": ["reopen"],
        "revisited": ["reopen"],
        "closed": [],
    },
    frozenset({A.ASSIGNEE}): {
        "collected": [],
        "listed": ["start"],
        "in_progress": ["resolve"],
        "resolved": [],
        "revisited": [],
        "closed": [],
    },
    frozenset({A.LOGGER}): {
        "collected": ["handle_now"],
        "listed": [],
        "in_progress": [],
        "resolved": [],
        "revisited": [],
        "closed": [],
    },
    frozenset({A.ASSIGNEE, A.LOGGER}): {
        "collected": ["handle_now"],
        "listed": ["start"],
        "in_progress": ["resolve"],
        "resolved": [],
        "revisited": [],
        "closed": [],
    },
    frozenset({A.STAFF, A.ASSIGNEE, A.LOGGER}): {
        "collected": ["list", "handle_now", "close"],
        "listed": ["start", "close"],
        "in_progress": ["resolve", "close"],
        "resolved": ["reopen"],
        "revisited": ["reopen"],
        "closed": [],
    },
}


@pytest.mark.parametrize(
    ("actors", "status"),
    [(actors, status) for actors in ALLOWED for status in S.values],
    ids=lambda v: "+".join(sorted(v)) or "nobody" if isinstance(v, frozenset) else v,
)
def test_it_allows_each_actor_set_exactly_its_actions(actors, status):
    assert allowed_actions(set(actors), status) == ALLOWED[actors][status]
    for action in workflow.TRANSITIONS:
        assert is_allowed(action, actors, status) == (action in ALLOWED[actors][status])


def test_it_allows_nothing_on_an_unknown_status():
    assert allowed_actions(set(Actor), "archived") == []


@pytest.mark.parametrize("status", S.values)
def test_it_never_offers_revisit_to_a_person(status):
    for actors in ALLOWED:
        assert "revisit" not in allowed_actions(set(actors), status)
    assert "revisit" not in allowed_actions(set(Actor), status)


def test_it_leaves_revisit_to_the_system():
    assert workflow.TRANSITIONS["revisit"].actors == frozenset()
    assert system_may("revisit", "resolved")
    assert not system_may("revisit", "revisited")
    assert not system_may("revisit", "in_progress")


def test_it_lets_the_system_reopen_but_nothing_else_a_person_does():
    assert system_may("reopen", "resolved")
    assert system_may("reopen", "revisited")
    assert not system_may("reopen", "in_progress")
    for action in ("list", "handle_now", "start", "resolve"):
        for status in S.values:
            assert not system_may(action, status)
