"""The rule of who sees a resident's contact: one rule, asked per issue and as a filter."""

import pytest

from issues.models import Issue
from issues.privacy import contact_q, sees_contact
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

ROLES = [
    "grid_worker",
    "other_grid_worker",
    "staff",
    "assignee",
    "official",
    "district_official",
    "outsider",
    "admin_user",
]


@pytest.mark.parametrize("who", ROLES)
def test_it_answers_the_filter_as_it_answers_each_issue(
    request, who, courtyard, other_courtyard, official, assignee
):
    issues = [
        IssueFactory(courtyard=courtyard),
        IssueFactory(courtyard=other_courtyard),
        # An issue assigned to the user: the assignee sees the contact wherever it is.
        IssueFactory(courtyard=other_courtyard, assignee=assignee),
        IssueFactory(courtyard=courtyard, assignee=official),
    ]
    user = request.getfixturevalue(who)

    by_filter = set(Issue.objects.filter(contact_q(user)).values_list("pk", flat=True))

    assert by_filter == {i.pk for i in issues if sees_contact(user, i)}
    if who in ("official", "district_official"):
        # An official sees a contact only on the issue assigned to them.
        assert by_filter == ({issues[3].pk} if who == "official" else set())
