"""The public pages take a fixed number of queries, whatever the size of the data."""

import pytest
from django.urls import reverse

from grids.tests.factories import CourtyardFactory, GridWorkerFactory
from issues.models import IssueEvent
from issues.tests.factories import IssueEventFactory, IssueFactory
from residents.tests.factories import CourtyardLinkFactory, ServiceNumberFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("n", [1, 25])
def test_the_report_page_takes_a_fixed_number_of_queries(
    client, grid, community, django_assert_num_queries, n
):
    courtyards = [CourtyardFactory(grid=grid) for _ in range(n)]
    links = [CourtyardLinkFactory(courtyard=c) for c in courtyards]
    ServiceNumberFactory.create_batch(n, community=community)
    GridWorkerFactory.create_batch(2, grids=[grid])
    for c in courtyards:
        IssueFactory(courtyard=c)
    # 1. the link with its courtyard, grid and community, 2. the categories for residents,
    # 3. the community's service numbers
    with django_assert_num_queries(3):
        r = client.get(reverse("residents:report", args=[links[-1].token]))
    assert r.status_code == 200


@pytest.mark.parametrize("n", [1, 25])
def test_the_tracking_page_takes_a_fixed_number_of_queries(
    client, courtyard, django_assert_num_queries, n
):
    issue = IssueFactory(courtyard=courtyard, status="in_progress")
    for i in range(n):
        IssueEventFactory(issue=issue, action=IssueEvent.Action.REPLY, note=f"答复 {i}")
        IssueEventFactory(issue=issue, action=IssueEvent.Action.COMMENT, note=f"内部 {i}")
        IssueFactory(courtyard=courtyard)
    # 1. the issue with its category and courtyard (and an original's), 2. the public replies,
    # 3. the reports merged into it
    with django_assert_num_queries(3):
        r = client.get(reverse("residents:track", args=[issue.reference]))
    assert r.text.count('data-testid="reply"') == n
