"""Closing without resolving: a duplicate, referred (转办), not accepted."""

import pytest
from django.urls import reverse

from issues import closing, services
from issues.models import Issue
from issues.services import TransitionRefused
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

S, OUT = Issue.Status, Issue.Outcome


def close(issue, by, **kwargs):
    kwargs.setdefault("reply", "经核实，已合并处理。")
    return closing.close_issue(issue, by=by, seen_status=issue.status, **kwargs)


def test_staff_close_a_duplicate_into_its_original(staff, courtyard):
    original = IssueFactory(courtyard=courtyard, status=S.LISTED)
    duplicate = IssueFactory(courtyard=courtyard)

    event = close(duplicate, staff, outcome=OUT.DUPLICATE, duplicate_of=original.reference.lower())

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.outcome, duplicate.duplicate_of) == (
        S.CLOSED,
        OUT.DUPLICATE,
        original,
    )
    assert duplicate.closed_at is not None and duplicate.resolved_at is None  # noqa: PT018
    assert (event.action, event.from_status, event.to_status) == ("close", "collected", "closed")
    assert list(duplicate.events.values_list("action", flat=True)) == ["reply", "close"]
    assert not duplicate.is_open


@pytest.mark.parametrize("status", [S.COLLECTED, S.LISTED, S.IN_PROGRESS])
def test_it_closes_from_each_open_state(staff, courtyard, status):
    issue = IssueFactory(courtyard=courtyard, status=status)

    close(issue, staff, outcome=OUT.NOT_ACCEPTED, reply="经核实不属于社区受理范围。")

    issue.refresh_from_db()
    assert issue.status == S.CLOSED


@pytest.mark.parametrize("status", [S.RESOLVED, S.REVISITED])
def test_it_does_not_close_a_resolved_issue(staff, courtyard, status):
    issue = IssueFactory(courtyard=courtyard, status=status)

    with pytest.raises(TransitionRefused):
        close(issue, staff, outcome=OUT.NOT_ACCEPTED)

    assert not issue.events.exists()


@pytest.mark.parametrize("who", ["grid_worker", "official"])
def test_only_staff_close(request, courtyard, who):
    # The grid worker is the assignee here: an assignee does not close either.
    user = request.getfixturevalue(who)
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, assignee=user)

    with pytest.raises(TransitionRefused):
        close(issue, user, outcome=OUT.NOT_ACCEPTED)

    issue.refresh_from_db()
    assert issue.status == S.LISTED
    assert not issue.events.exists()


def test_a_reply_is_required(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, resident_name="", resident_phone="")

    with pytest.raises(TransitionRefused, match=r"reply|答复"):
        close(issue, staff, outcome=OUT.NOT_ACCEPTED, reply="  ")

    issue.refresh_from_db()
    assert issue.status == S.COLLECTED


def test_a_referral_names_the_body(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    with pytest.raises(TransitionRefused):
        close(issue, staff, outcome=OUT.REFERRED, referred_to=" ")

    close(issue, staff, outcome=OUT.REFERRED, referred_to="城关区住建局")

    issue.refresh_from_db()
    assert (issue.status, issue.referred_to) == (S.CLOSED, "城关区住建局")


def test_a_duplicate_joins_an_issue_of_the_same_community_not_closed_itself(
    staff, courtyard, other_community
):
    from grids.tests.factories import CourtyardFactory

    issue = IssueFactory(courtyard=courtyard)
    elsewhere = IssueFactory(courtyard=CourtyardFactory(grid__community=other_community))
    closed = IssueFactory(courtyard=courtyard, status=S.CLOSED, outcome=OUT.NOT_ACCEPTED)
    for target in (elsewhere.reference, closed.reference, issue.reference, "ZZZZ-ZZZZ", ""):
        with pytest.raises(TransitionRefused):
            close(issue, staff, outcome=OUT.DUPLICATE, duplicate_of=target)
    issue.refresh_from_db()
    assert issue.status == S.COLLECTED
    assert not issue.events.exists()


def test_an_issue_others_joined_is_not_a_duplicate_itself(staff, courtyard):
    original = IssueFactory(courtyard=courtyard)
    close(
        IssueFactory(courtyard=courtyard),
        staff,
        outcome=OUT.DUPLICATE,
        duplicate_of=original.reference,
    )
    third = IssueFactory(courtyard=courtyard)

    with pytest.raises(TransitionRefused):
        close(original, staff, outcome=OUT.DUPLICATE, duplicate_of=third.reference)


def test_a_stale_close_writes_nothing(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)
    stale = Issue.objects.get(pk=issue.pk)
    services.start_issue(issue, by=staff, seen_status=S.LISTED)

    with pytest.raises(TransitionRefused):
        closing.close_issue(
            stale, by=staff, seen_status=S.LISTED, outcome=OUT.NOT_ACCEPTED, reply="不予受理。"
        )

    assert list(issue.events.values_list("action", flat=True)) == ["start"]


def test_staff_close_from_the_issue_page(client, staff, courtyard):
    original = IssueFactory(courtyard=courtyard)
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(staff)
    page = client.get(issue.get_absolute_url())
    assert 'data-testid="action-close"' in page.text

    r = client.post(
        reverse("issues:transition", args=[issue.reference, "close"]),
        {
            "close-seen_status": "collected",
            "close-outcome": "duplicate",
            "close-duplicate_of": original.reference,
            "close-reply": "与同院居民反映的问题合并办理。",
        },
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert (issue.status, issue.duplicate_of) == (S.CLOSED, original)
    shown = client.get(original.get_absolute_url()).text
    assert "2位居民反映" in shown


def test_a_duplicates_tracking_page_follows_its_original(client, staff, courtyard):
    original = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)
    duplicate = IssueFactory(courtyard=courtyard)
    close(
        duplicate, staff, outcome=OUT.DUPLICATE, duplicate_of=original.reference, reply="已合并。"
    )
    services.resolve_issue(
        original, by=staff, seen_status=S.IN_PROGRESS, resolution="修好了", reply="路面已修好。"
    )

    r = client.get(reverse("residents:track", args=[duplicate.reference]))

    assert 'data-testid="state">已办结<' in r.text
    assert 'data-testid="merged"' in r.text
    assert "已合并。" in r.text and "路面已修好。" in r.text  # noqa: PT018
    assert "2位居民反映" in r.text
    original_page = client.get(reverse("residents:track", args=[original.reference]))
    assert "2位居民反映" in original_page.text


@pytest.mark.parametrize(
    ("outcome", "words"), [(OUT.REFERRED, "已转办"), (OUT.NOT_ACCEPTED, "不予受理")]
)
def test_the_tracking_page_names_the_outcome(client, staff, courtyard, outcome, words):
    issue = IssueFactory(courtyard=courtyard)
    close(issue, staff, outcome=outcome, referred_to="城关区住建局")

    r = client.get(reverse("residents:track", args=[issue.reference]))

    assert f'data-testid="state">{words}<' in r.text


def test_a_closed_issue_is_neither_open_nor_resolved(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    close(issue, staff, outcome=OUT.NOT_ACCEPTED)

    assert not Issue.objects.open().filter(pk=issue.pk).exists()
    assert S.CLOSED not in Issue.CLOSED_STATUSES  # the resolved ones
    issue.refresh_from_db()
    assert issue.resolved_at is None
