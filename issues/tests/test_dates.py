"""Dates a user types are checked: a mediation lies between the day the issue was collected
and today; a due date between that day and a year ahead; the mediation form only where the
issue page offers it."""

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues import services
from issues.forms import due_at_from_date
from issues.models import Issue, Mediation
from issues.services import DUE_AHEAD, TransitionRefused
from issues.tests.factories import IssueFactory, MediationFactory, category

pytestmark = pytest.mark.django_db
S = Issue.Status


@pytest.fixture
def dispute(courtyard):
    return IssueFactory(
        courtyard=courtyard,
        category=category("dispute"),
        status=S.IN_PROGRESS,
        created_at=timezone.now() - timedelta(days=10),
    )


def mediation_post(day: date) -> dict:
    return {
        "mediation-mediated_on": day.isoformat(),
        "mediation-parties": "住户甲、住户乙",
        "mediation-method": Mediation.Method.IN_PERSON,
        "mediation-outcome": Mediation.Outcome.AGREEMENT,
        "mediation-agreement": "双方和解。",
    }


@pytest.mark.parametrize(
    ("days", "message"),
    [(1, "不能晚于今天"), (3650, "不能晚于今天"), (-11, "不能早于"), (-365, "不能早于")],
    ids=["tomorrow", "in-ten-years", "before-collected", "a-year-before"],
)
def test_it_refuses_a_mediation_dated_outside_the_issues_life(
    client, staff, dispute, days, message
):
    client.force_login(staff)

    r = client.post(
        reverse("issues:mediation", args=[dispute.reference]),
        mediation_post(timezone.localdate() + timedelta(days=days)),
    )

    assert r.status_code == 409
    assert message in r.content.decode()
    # What was typed is still on the page.
    assert "双方和解。" in r.content.decode()
    assert not Mediation.objects.exists()
    assert not dispute.events.exists()


@pytest.mark.parametrize("days", [0, -10], ids=["today", "the-day-it-was-collected"])
def test_it_records_a_mediation_dated_within_the_issues_life(client, staff, dispute, days):
    client.force_login(staff)

    r = client.post(
        reverse("issues:mediation", args=[dispute.reference]),
        mediation_post(timezone.localdate() + timedelta(days=days)),
    )

    assert r.status_code == 302
    assert dispute.mediations.get().mediated_on == timezone.localdate() + timedelta(days=days)


def test_the_service_refuses_a_future_mediation_whoever_calls_it(staff, dispute):
    with pytest.raises(TransitionRefused):
        services.record_mediation(
            dispute,
            by=staff,
            mediated_on=date(2099, 12, 1),
            parties="住户甲、住户乙",
            method=Mediation.Method.IN_PERSON,
            outcome=Mediation.Outcome.AGREEMENT,
        )

    assert not Mediation.objects.exists()


@pytest.mark.parametrize(
    "mediated_on",
    [date(2099, 12, 1), date(2000, 1, 1)],
    ids=["in-the-future", "before-collected"],
)
def test_it_does_not_resolve_a_dispute_on_an_impossible_mediation(staff, dispute, mediated_on):
    # Stored before the check existed, or written by hand.
    MediationFactory(issue=dispute, mediated_on=mediated_on)

    with pytest.raises(TransitionRefused, match="调解"):
        services.resolve_issue(dispute, by=staff, seen_status=S.IN_PROGRESS, resolution="已调解。")

    dispute.refresh_from_db()
    assert dispute.status == S.IN_PROGRESS


def test_it_resolves_a_dispute_on_a_mediation_of_today(staff, dispute):
    MediationFactory(issue=dispute, mediated_on=timezone.localdate())

    services.resolve_issue(
        dispute, by=staff, seen_status=S.IN_PROGRESS, resolution="已调解。", reply="双方已和解。"
    )

    dispute.refresh_from_db()
    assert dispute.status == S.RESOLVED


def test_it_refuses_a_crafted_mediation_on_an_issue_that_is_no_dispute(client, staff, courtyard):
    road = IssueFactory(courtyard=courtyard, category=category("road"), status=S.IN_PROGRESS)
    client.force_login(staff)
    page = client.get(road.get_absolute_url())
    assert page.context["mediation_form"] is None

    r = client.post(
        reverse("issues:mediation", args=[road.reference]), mediation_post(timezone.localdate())
    )

    assert r.status_code == 409
    assert not Mediation.objects.exists()
    assert not road.events.exists()


@pytest.mark.parametrize("status", [S.RESOLVED, S.REVISITED])
def test_it_offers_and_takes_no_mediation_on_a_closed_dispute(client, staff, courtyard, status):
    closed = IssueFactory(courtyard=courtyard, category=category("dispute"), status=status)
    client.force_login(staff)

    assert client.get(closed.get_absolute_url()).context["mediation_form"] is None
    r = client.post(
        reverse("issues:mediation", args=[closed.reference]),
        mediation_post(timezone.localdate()),
    )

    assert r.status_code == 409
    assert not Mediation.objects.exists()


# --- Due dates ---------------------------------------------------------------------------------

IMPOSSIBLE_DUE = ["0001-01-01", "9999-12-31", "2000-01-01"]


@pytest.mark.parametrize("day", IMPOSSIBLE_DUE)
def test_it_refuses_to_list_with_a_due_date_outside_the_window(client, staff, courtyard, day):
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = client.post(
        reverse("issues:transition", args=[issue.reference, "list"]),
        {"list-seen_status": "collected", "list-due_date": day},
    )

    assert r.status_code == 409
    assert "期限" in r.content.decode() or "due date" in r.content.decode()
    issue.refresh_from_db()
    assert (issue.status, issue.due_at) == (S.COLLECTED, None)
    assert not issue.events.exists()


@pytest.mark.parametrize("day", IMPOSSIBLE_DUE)
@pytest.mark.parametrize("action", ["list", "assign"])
def test_it_refuses_a_bulk_due_date_outside_the_window(
    client, staff, assignee, courtyard, day, action
):
    status = S.COLLECTED if action == "list" else S.LISTED
    issue = IssueFactory(courtyard=courtyard, status=status)
    client.force_login(staff)

    r = client.post(
        reverse("issues:bulk"),
        {"issue": issue.reference, "action": action, "assignee": assignee.pk, "due_date": day},
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert (issue.status, issue.due_at, issue.assignee_id) == (status, None, None)
    assert not issue.events.exists()
    assert '<li class="error">' in client.get(r["Location"]).content.decode()


def test_it_takes_a_due_date_on_the_edges_of_the_window(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, created_at=timezone.now() - timedelta(days=3))
    other = IssueFactory(courtyard=courtyard)
    first = due_at_from_date(timezone.localdate(issue.created_at))
    last = due_at_from_date(timezone.localdate() + DUE_AHEAD)

    services.list_issue(issue, by=staff, seen_status=S.COLLECTED, due_at=first)
    services.list_issue(other, by=staff, seen_status=S.COLLECTED, due_at=last)

    assert Issue.objects.get(pk=issue.pk).due_at == first
    assert Issue.objects.get(pk=other.pk).due_at == last
