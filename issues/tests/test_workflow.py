"""The transition table, read with no database, through the stories it must allow and refuse.

The expectations come from the lifecycles people live (DESIGN.md, "Workflow"), walked action
by action as the actor who takes each step, not from a second copy of the table: a changed
edge fails the story it breaks.
"""

import pytest

from issues import workflow
from issues.models import Issue
from issues.workflow import Actor, allowed_actions, is_allowed, system_may

S, A = Issue.Status, Actor
PEOPLE = [a for a in Actor if a is not Actor.SYSTEM]
# Every combination of the parts a person can have in an issue.
EVERY_ACTOR_SET = [
    frozenset(a for i, a in enumerate(PEOPLE) if mask >> i & 1) for mask in range(2 ** len(PEOPLE))
]


def walk(steps: list[tuple[str, set[Actor] | None]], status: str = S.COLLECTED) -> list[str]:
    """The states an issue passes through when each step is taken by its actors (None: the
    system); a step the table refuses fails the walk."""
    path = [status]
    for action, actors in steps:
        if actors is None:
            allowed = system_may(action, status)
        else:
            allowed = is_allowed(action, actors, status)
        assert allowed, f"{action} refused to {actors or 'the system'} at {status}"
        status = workflow.TRANSITIONS[action].target
        path.append(status)
    return path


def test_it_takes_a_concern_through_the_whole_lifecycle():
    # Staff list it, the assignee starts and resolves it, the visits satisfy: revisited.
    path = walk(
        [("list", {A.STAFF}), ("start", {A.ASSIGNEE}), ("resolve", {A.ASSIGNEE}), ("revisit", None)]
    )

    assert path == [S.COLLECTED, S.LISTED, S.IN_PROGRESS, S.RESOLVED, S.REVISITED]


def test_it_lets_the_grid_worker_who_logged_an_urgent_matter_handle_it_at_once():
    path = walk([("handle_now", {A.LOGGER}), ("resolve", {A.STAFF})])

    assert path == [S.COLLECTED, S.IN_PROGRESS, S.RESOLVED]


@pytest.mark.parametrize("closed", [S.RESOLVED, S.REVISITED])
def test_it_lets_staff_and_an_unsatisfied_visit_reopen_a_closed_issue(closed):
    assert walk([("reopen", {A.STAFF})], closed) == [closed, S.IN_PROGRESS]
    assert walk([("reopen", None)], closed) == [closed, S.IN_PROGRESS]


def test_it_offers_handling_at_once_for_urgent_issues_alone():
    assert is_allowed("handle_now", {A.LOGGER}, S.COLLECTED, is_urgent=True)
    assert not is_allowed("handle_now", {A.LOGGER}, S.COLLECTED, is_urgent=False)
    assert not is_allowed("handle_now", {A.STAFF}, S.COLLECTED, is_urgent=False)
    # Nothing else depends on urgency.
    assert allowed_actions({A.STAFF}, S.COLLECTED, is_urgent=False) == ["list", "close"]


@pytest.mark.parametrize("open_status", [S.COLLECTED, S.LISTED, S.IN_PROGRESS])
def test_it_lets_staff_alone_close_an_open_issue_for_good(open_status):
    assert walk([("close", {A.STAFF})], open_status) == [open_status, S.CLOSED]
    for actors in EVERY_ACTOR_SET:
        if A.STAFF not in actors:
            assert not is_allowed("close", actors, open_status)
    # Closed is the end: nobody moves it on, and the system neither.
    assert allowed_actions(set(PEOPLE), S.CLOSED) == []
    assert not any(system_may(action, S.CLOSED) for action in workflow.TRANSITIONS)


def test_it_leaves_listing_and_reopening_to_staff():
    people_but_staff = [actors for actors in EVERY_ACTOR_SET if A.STAFF not in actors]

    for actors in people_but_staff:
        assert not is_allowed("list", actors, S.COLLECTED)
        for closed in (S.RESOLVED, S.REVISITED):
            assert not is_allowed("reopen", actors, closed)


def test_it_leaves_the_revisit_to_the_system():
    for actors in EVERY_ACTOR_SET:
        for status in S.values:
            assert "revisit" not in allowed_actions(actors, status)
    assert system_may("revisit", S.RESOLVED)
    assert not system_may("revisit", S.REVISITED)


def test_the_system_does_nothing_a_person_does_but_reopen():
    for action in workflow.TRANSITIONS:
        for status in S.values:
            if system_may(action, status):
                assert action in ("revisit", "reopen"), (action, status)


def test_it_reaches_every_state_and_leaves_no_open_issue_stuck():
    reachable, frontier = {S.COLLECTED}, [S.COLLECTED]
    while frontier:
        status = frontier.pop()
        for t in workflow.TRANSITIONS.values():
            if status in t.sources and t.target not in reachable:
                reachable.add(t.target)
                frontier.append(t.target)

    assert reachable == set(S.values)
    for status in Issue.OPEN_STATUSES:
        # Someone can always move an open issue on.
        assert allowed_actions(set(PEOPLE), status), status


def test_it_offers_an_actor_set_what_any_of_its_actors_may_do():
    for actors in EVERY_ACTOR_SET:
        for status in S.values:
            offered = set(allowed_actions(actors, status))
            assert offered == {a for one in actors for a in allowed_actions({one}, status)}
            for action in workflow.TRANSITIONS:
                assert is_allowed(action, actors, status) == (action in offered)


def test_it_offers_nothing_to_nobody_and_on_an_unknown_status():
    for status in S.values:
        assert allowed_actions(set(), status) == []
    assert allowed_actions(set(Actor), "archived") == []


def test_it_stamps_each_state_an_issue_enters():
    for action, t in workflow.TRANSITIONS.items():
        field = Issue._meta.get_field(workflow.ENTERED_AT[t.target])
        # Empty until the issue first enters the state.
        assert field.null, action
