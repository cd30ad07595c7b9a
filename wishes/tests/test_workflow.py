"""The wish transition table, by behaviour and with no database: who may do what, when."""

import pytest

from wishes import workflow
from wishes.models import Wish
from wishes.workflow import Actor, allowed_actions, is_allowed

S, A = Wish.Status, Actor


def walk(steps: list[tuple[str, Actor]]) -> str:
    """Follow the table from "collected", each step by the given actor; the state reached."""
    status = S.COLLECTED
    for action, actor in steps:
        assert is_allowed(action, {actor}, status), (action, actor, status)
        status = workflow.TRANSITIONS[action].target
    return status


def test_it_walks_a_wish_from_collection_to_the_return_visit():
    status = walk(
        [
            ("verify", A.STAFF),
            ("dispatch", A.STAFF),
            ("take", A.PROVIDER),
            ("complete", A.PROVIDER),
            ("record_satisfaction", A.LOGGER),
        ]
    )

    assert status == S.REVISITED


def test_it_offers_nothing_after_a_wish_is_declined_or_revisited():
    for actors in ({A.STAFF}, {A.LOGGER}, {A.PROVIDER}):
        assert allowed_actions(actors, S.DECLINED) == []
        assert allowed_actions(actors, S.REVISITED) == []


def test_it_lets_only_staff_check_and_dispatch():
    assert allowed_actions({A.STAFF}, S.COLLECTED) == ["verify", "decline"]
    assert allowed_actions({A.LOGGER}, S.COLLECTED) == []
    assert allowed_actions({A.PROVIDER}, S.VERIFIED) == []
    assert allowed_actions({A.STAFF}, S.VERIFIED) == ["dispatch"]


def test_it_lets_a_provider_take_or_hand_back_a_dispatched_wish_but_not_complete_it():
    assert allowed_actions({A.PROVIDER}, S.DISPATCHED) == ["take", "hand_back"]
    assert not is_allowed("complete", {A.PROVIDER}, S.DISPATCHED)


def test_it_lets_a_provider_complete_or_hand_back_a_taken_wish():
    assert set(allowed_actions({A.PROVIDER}, S.TAKEN)) == {"take", "hand_back", "complete"}


def test_it_hands_a_wish_back_to_the_needs_list_ready_to_dispatch_again():
    back = workflow.TRANSITIONS["hand_back"].target

    assert is_allowed("dispatch", {A.STAFF}, back)


def test_it_lets_staff_add_providers_to_a_dispatched_wish():
    assert is_allowed("dispatch", {A.STAFF}, S.DISPATCHED)
    assert not is_allowed("dispatch", {A.STAFF}, S.TAKEN)


def test_it_records_satisfaction_only_of_a_fulfilled_wish_and_not_by_the_provider():
    assert is_allowed("record_satisfaction", {A.LOGGER}, S.DONE)
    assert not is_allowed("record_satisfaction", {A.PROVIDER}, S.DONE)
    assert not is_allowed("record_satisfaction", {A.LOGGER}, S.TAKEN)


@pytest.mark.parametrize("action", sorted(workflow.TRANSITIONS))
def test_it_stamps_the_time_each_target_state_is_entered(action):
    field = workflow.ENTERED_AT[workflow.TRANSITIONS[action].target]

    assert Wish._meta.get_field(field).null
    assert action in workflow.DONE
