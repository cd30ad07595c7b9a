"""My follow-up visits: the list, recording a visit and what it does to the issue."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues.models import FollowUp, Issue
from issues.tests.factories import FollowUpFactory, IssueFactory

pytestmark = pytest.mark.django_db

URL = reverse("issues:followups")
S = Issue.Status


def ago(days: float):
    return timezone.now() - timedelta(days=days)


def record_url(visit: FollowUp) -> str:
    return reverse("issues:followup_record", args=[visit.pk])


def visit_data(visit: FollowUp, satisfaction: str, method: str = "phone", notes: str = "") -> dict:
    prefix = f"visit-{visit.pk}"
    return {
        f"{prefix}-method": method,
        f"{prefix}-satisfaction": satisfaction,
        f"{prefix}-notes": notes,
    }


@pytest.fixture
def resolved(courtyard, assignee) -> Issue:
    return IssueFactory(
        courtyard=courtyard, status=S.RESOLVED, resolved_at=ago(10), assignee=assignee
    )


def test_it_lists_my_visits_due_first_with_the_overdue_marked(client, assignee, staff, courtyard):
    def visit(due: float, **kw) -> FollowUp:
        issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED, resolved_at=ago(20))
        return FollowUpFactory(
            issue=issue, assignee=kw.pop("assignee", assignee), due_at=ago(due), **kw
        )

    later = visit(-5)
    overdue = visit(3)
    soon = visit(-1)
    done = visit(4, done_at=ago(2), done_by=assignee, method="phone", satisfaction="satisfied")
    visit(1, assignee=staff)  # someone else's
    client.force_login(assignee)

    r = client.get(URL)

    assert r.status_code == 200
    assert r.context["pending"] == [overdue, soon, later]
    assert r.context["done"] == [done]
    html = r.content.decode()
    card = html[html.index(f'data-testid="visit-{overdue.pk}"') :]
    card = card[: card.index("</li>")]
    assert 'class="badge overdue"' in card
    card = html[html.index(f'data-testid="visit-{later.pk}"') :]
    card = card[: card.index("</li>")]
    assert 'class="badge overdue"' not in card
    assert html.index(f"visit-{overdue.pk}") < html.index(f"visit-{soon.pk}")
    assert html.index(f"visit-{soon.pk}") < html.index(f"visit-{later.pk}")
    # Each pending visit has its own form.
    assert html.count(reverse("issues:followup_record", args=[overdue.pk])) == 1


def test_it_revisits_the_issue_when_every_due_visit_is_satisfied(client, assignee, resolved):
    first = FollowUpFactory(issue=resolved, assignee=assignee, visit_no=1, due_at=ago(3))
    FollowUpFactory(issue=resolved, assignee=assignee, visit_no=2, due_at=ago(-20))
    client.force_login(assignee)

    r = client.post(record_url(first), visit_data(first, "satisfied", notes="住户说修好了"))

    assert r.status_code == 302
    assert r["Location"] == URL
    first.refresh_from_db()
    assert (first.done_by, first.method, first.satisfaction, first.notes) == (
        assignee,
        "phone",
        "satisfied",
        "住户说修好了",
    )
    resolved.refresh_from_db()
    assert resolved.status == S.REVISITED
    assert resolved.revisited_at is not None
    assert [e.action for e in resolved.events.order_by("pk")] == ["follow_up", "revisit"]


def test_it_waits_for_the_other_visits_due(client, assignee, resolved):
    first = FollowUpFactory(issue=resolved, assignee=assignee, visit_no=1, due_at=ago(3))
    FollowUpFactory(issue=resolved, assignee=assignee, visit_no=2, due_at=ago(1))
    client.force_login(assignee)

    client.post(record_url(first), visit_data(first, "basically"))

    resolved.refresh_from_db()
    assert resolved.status == S.RESOLVED
    assert [e.action for e in resolved.events.all()] == ["follow_up"]


def test_it_reopens_the_issue_on_an_unsatisfied_visit(client, assignee, staff, resolved):
    first = FollowUpFactory(issue=resolved, assignee=assignee, visit_no=1, due_at=ago(3))
    later = FollowUpFactory(issue=resolved, assignee=assignee, visit_no=2, due_at=ago(-30))
    client.force_login(assignee)

    r = client.post(record_url(first), visit_data(first, "unsatisfied", notes="又坏了"))

    assert r.status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == S.IN_PROGRESS
    assert resolved.resolved_at is None
    events = list(resolved.events.order_by("pk"))
    assert [e.action for e in events] == ["follow_up", "reopen"]
    assert events[1].actor is None  # the system reopened it
    # The visit not yet made is dropped; the one made is kept.
    assert not FollowUp.objects.filter(pk=later.pk).exists()
    assert FollowUp.objects.get(pk=first.pk).satisfaction == "unsatisfied"
    assert staff.notifications.get().kind == "reopened"


def test_it_returns_to_the_issue_page_when_recorded_there(client, assignee, resolved):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(assignee)

    r = client.post(
        record_url(visit), {**visit_data(visit, "satisfied"), "next": resolved.get_absolute_url()}
    )

    assert r["Location"] == resolved.get_absolute_url()


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/x", "/\\evil.example/", "issues/"]
)
def test_it_never_redirects_off_the_site(client, assignee, resolved, next_url):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(assignee)

    r = client.post(record_url(visit), {**visit_data(visit, "satisfied"), "next": next_url})

    assert r.status_code == 302
    assert r["Location"] == URL


def test_it_refuses_someone_elses_visit(client, grid_worker, assignee, resolved):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(grid_worker)

    r = client.post(record_url(visit), visit_data(visit, "satisfied"), follow=True)

    assert r.status_code == 200
    assert [str(m) for m in r.context["messages"]]
    visit.refresh_from_db()
    assert visit.done_at is None
    resolved.refresh_from_db()
    assert resolved.status == S.RESOLVED
    assert not resolved.events.exists()


def test_it_lets_staff_record_a_visit_of_their_community(client, staff, assignee, resolved):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(staff)

    client.post(record_url(visit), visit_data(visit, "satisfied"))

    visit.refresh_from_db()
    assert visit.done_by == staff


@pytest.mark.parametrize("who", ["outsider", "other_grid_worker"])
def test_it_answers_404_for_a_visit_outside_the_scope(client, request, assignee, resolved, who):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(request.getfixturevalue(who))

    r = client.post(record_url(visit), visit_data(visit, "satisfied"))

    assert r.status_code == 404
    visit.refresh_from_db()
    assert visit.done_at is None


def test_it_refuses_a_visit_recorded_twice(client, assignee, resolved):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(-10))
    client.force_login(assignee)
    client.post(record_url(visit), visit_data(visit, "basically"))
    resolved.refresh_from_db()
    status, events = resolved.status, resolved.events.count()

    r = client.post(record_url(visit), visit_data(visit, "unsatisfied"), follow=True)

    assert [str(m) for m in r.context["messages"]]
    visit.refresh_from_db()
    assert visit.satisfaction == "basically"
    resolved.refresh_from_db()
    assert (resolved.status, resolved.events.count()) == (status, events)


@pytest.mark.parametrize(
    "data",
    [{}, {"method": "pigeon", "satisfaction": "satisfied"}, {"method": "phone"}],
)
def test_it_says_what_is_missing_and_records_nothing(client, assignee, resolved, data):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(assignee)

    r = client.post(
        record_url(visit), {f"visit-{visit.pk}-{k}": v for k, v in data.items()}, follow=True
    )

    assert r.status_code == 200
    assert [str(m) for m in r.context["messages"]]
    visit.refresh_from_db()
    assert visit.done_at is None
    assert not resolved.events.exists()


def test_it_lists_visits_in_the_same_queries_at_any_size(
    client, assignee, courtyard, django_assert_num_queries
):
    client.force_login(assignee)
    for n in (3, 30):
        while FollowUp.objects.count() < n:
            k = FollowUp.objects.count()
            issue = IssueFactory(courtyard=courtyard, status=S.RESOLVED, resolved_at=ago(20))
            FollowUpFactory(
                issue=issue,
                assignee=assignee,
                due_at=ago(k % 5 - 2),
                done_at=ago(1) if k % 3 == 0 else None,
                satisfaction="satisfied" if k % 3 == 0 else "",
            )
        # 1. session, 2. user, 3. the visits to make, with issue, courtyard and category,
        # 4. those made in the last 30 days, 5. the scope (the header's menu), 6. the badge
        with django_assert_num_queries(6):
            r = client.get(URL)
        assert len(r.context["pending"]) + len(r.context["done"]) == n


def test_it_says_once_that_a_visit_recorded_from_the_issue_page_was_recorded(
    client, assignee, resolved
):
    visit = FollowUpFactory(issue=resolved, assignee=assignee, due_at=ago(1))
    client.force_login(assignee)

    r = client.post(
        record_url(visit),
        {**visit_data(visit, "satisfied"), "next": resolved.get_absolute_url()},
        follow=True,
    )

    assert r.redirect_chain[-1][0] == resolved.get_absolute_url()
    assert r.content.decode().count("回访已登记。") == 1
    visit.refresh_from_db()
    assert visit.done_at is not None


def test_it_says_once_what_an_issue_page_form_did(client, assignee, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, assignee=assignee)
    client.force_login(assignee)

    r = client.post(
        reverse("issues:comment", args=[issue.reference]), {"note": "已联系。"}, follow=True
    )

    assert r.content.decode().count("备注已添加。") == 1
    assert issue.events.filter(note="已联系。").count() == 1
