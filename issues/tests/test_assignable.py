"""Who may be assigned an issue: one definition, offered by the forms, kept by the services."""

import pytest
from django.urls import reverse
from django.utils import translation

from grids.tests.factories import GridWorkerFactory
from issues import services
from issues.forms import AssignForm, TransitionForm
from issues.models import Issue, IssueEvent
from issues.services import TransitionRefused
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

S = Issue.Status


@pytest.fixture
def people(staff, assignee, grid_worker, other_grid_worker, outsider, grid):
    inactive = GridWorkerFactory(user__username="retired", grids=[grid], is_active=False).user
    return {
        "staff": staff,
        "assignee": assignee,
        "grid_worker": grid_worker,
        "other_grid_worker": other_grid_worker,
        "outsider": outsider,
        "inactive": inactive,
    }


def test_it_offers_the_staff_and_the_workers_of_the_issues_grid_only(people, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)

    offered = set(AssignForm(issue=issue).fields["assignee"].queryset)
    listing = set(TransitionForm(action="list", issue=issue).fields["assignee"].queryset)

    expected = {people["staff"], people["assignee"], people["grid_worker"]}
    assert offered == listing == expected


def test_it_accepts_every_person_the_assign_form_offers(people, courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)

    for person in AssignForm(issue=issue).fields["assignee"].queryset:
        issue.refresh_from_db()
        services.assign_issue(issue, by=staff, assignee=person, seen_assignee_id=issue.assignee_id)
        issue.refresh_from_db()
        assert issue.assignee == person


def test_it_accepts_every_person_the_list_form_offers(people, courtyard, staff):
    for person in (
        TransitionForm(action="list", issue=IssueFactory(courtyard=courtyard))
        .fields["assignee"]
        .queryset
    ):
        issue = IssueFactory(courtyard=courtyard, status=S.COLLECTED)
        services.list_issue(issue, by=staff, seen_status=issue.status, assignee=person)
        issue.refresh_from_db()
        assert issue.assignee == person


@pytest.mark.parametrize("who", ["other_grid_worker", "outsider", "inactive"])
def test_it_refuses_one_not_offered_saying_truly_why(people, courtyard, staff, grid, who):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)
    person = people[who]
    assert person not in AssignForm(issue=issue).fields["assignee"].queryset

    with translation.override("zh-hans"), pytest.raises(TransitionRefused) as refused:
        services.assign_issue(issue, by=staff, assignee=person, seen_assignee_id=None)

    assert "该问题所在网格" in str(refused.value)
    assert grid.name in str(refused.value)
    assert "不在该问题所属社区工作" not in str(refused.value)
    issue.refresh_from_db()
    assert issue.assignee is None
    assert not issue.events.filter(action=IssueEvent.Action.ASSIGN).exists()


def test_it_refuses_to_list_with_a_worker_of_another_grid(people, courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.COLLECTED)

    with pytest.raises(TransitionRefused):
        services.list_issue(
            issue, by=staff, seen_status=issue.status, assignee=people["other_grid_worker"]
        )

    issue.refresh_from_db()
    assert (issue.status, issue.assignee) == (S.COLLECTED, None)


def test_it_refuses_a_bulk_assignment_to_a_worker_of_another_grid(client, people, courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED)
    client.force_login(staff)

    r = client.post(
        reverse("issues:bulk"),
        {
            "issue": [issue.reference],
            "action": "assign",
            "assignee": people["other_grid_worker"].pk,
        },
        follow=True,
    )

    issue.refresh_from_db()
    assert issue.assignee is None
    assert "该问题所在网格" in r.content.decode()
