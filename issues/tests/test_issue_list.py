"""The issue list: default view, every filter, tabs, pages, htmx, bad input, scope, queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.tests.factories import CommunityFactory, CourtyardFactory, GridFactory
from issues.models import FollowUp, Issue, Urgency
from issues.tests.factories import FollowUpFactory, IssueFactory, MediationFactory, category

pytestmark = pytest.mark.django_db

S = Issue.Status
URL = reverse("issues:list")


def refs(response) -> set[str]:
    """The references on the page the list rendered."""
    return {i.reference for i in response.context["page"].object_list}


def days(n: float):
    return timezone.now() + timedelta(days=n)


@pytest.fixture
def make(courtyard, grid_worker):
    """An issue in the first courtyard unless told otherwise, logged by the grid worker."""

    def make(**kwargs) -> Issue:
        kwargs.setdefault("courtyard", courtyard)
        kwargs.setdefault("created_by", grid_worker)
        return IssueFactory(**kwargs)

    return make


# --- The default view ----------------------------------------------------------------------------


def test_it_shows_open_issues_only_by_default(client, staff, make):
    open_ = [make(status=s) for s in (S.COLLECTED, S.LISTED, S.IN_PROGRESS)]
    make(status=S.RESOLVED)
    make(status=S.REVISITED)
    client.force_login(staff)

    r = client.get(URL)

    assert r.status_code == 200
    assert refs(r) == {i.reference for i in open_}
    assert r.context["total"] == 3


def test_it_sorts_urgent_first_then_by_due_date(client, staff, make):
    normal_soon = make(urgency=Urgency.NORMAL, due_at=days(1))
    urgent_late = make(urgency=Urgency.URGENT, due_at=days(5))
    normal_none = make(urgency=Urgency.NORMAL, due_at=None)
    urgent_soon = make(urgency=Urgency.URGENT, due_at=days(2))
    normal_late = make(urgency=Urgency.NORMAL, due_at=days(3))
    client.force_login(staff)

    r = client.get(URL)

    order = [i.pk for i in r.context["page"].object_list]
    assert order == [
        i.pk for i in (urgent_soon, urgent_late, normal_soon, normal_late, normal_none)
    ]
    # The rows appear on the page in that order too.
    html = r.content.decode()
    positions = [html.index(i.reference) for i in (urgent_soon, urgent_late, normal_soon)]
    assert positions == sorted(positions)


# --- Each filter ---------------------------------------------------------------------------------


def test_it_filters_several_statuses_at_once(client, staff, make):
    listed = make(status=S.LISTED)
    resolved = make(status=S.RESOLVED)
    make(status=S.COLLECTED)
    make(status=S.REVISITED)
    client.force_login(staff)

    r = client.get(URL, {"status": ["listed", "resolved"]})

    assert refs(r) == {listed.reference, resolved.reference}
    assert r.context["total"] == 2


def test_it_shows_every_status_on_the_all_tab(client, staff, make):
    every = {make(status=s).reference for s in S.values}
    client.force_login(staff)

    r = client.get(URL, {"status": "all"})

    assert refs(r) == every


def test_it_filters_by_category(client, staff, make):
    road = make(category=category("road"))
    make(category=category("parking"))
    client.force_login(staff)

    r = client.get(URL, {"category": category("road").pk})

    assert refs(r) == {road.reference}


def test_it_filters_by_urgency(client, staff, make):
    urgent = make(urgency=Urgency.URGENT)
    make(urgency=Urgency.NORMAL)
    client.force_login(staff)

    r = client.get(URL, {"urgency": "urgent"})

    assert refs(r) == {urgent.reference}


def test_it_filters_by_grid_and_by_courtyard(client, staff, make, grid, courtyard, other_courtyard):
    ours = make()
    second = CourtyardFactory(grid=grid, name="第二大院")
    same_grid = make(courtyard=second)
    other = make(courtyard=other_courtyard)
    client.force_login(staff)

    assert refs(client.get(URL, {"grid": grid.pk})) == {ours.reference, same_grid.reference}
    assert refs(client.get(URL, {"grid": other_courtyard.grid_id})) == {other.reference}
    assert refs(client.get(URL, {"courtyard": courtyard.pk})) == {ours.reference}


def test_it_filters_by_assignee(client, staff, assignee, make):
    unassigned = make(assignee=None)
    mine = make(assignee=staff)
    theirs = make(assignee=assignee)
    client.force_login(staff)

    assert refs(client.get(URL, {"assignee": "unassigned"})) == {unassigned.reference}
    assert refs(client.get(URL, {"assignee": "me"})) == {mine.reference}
    assert refs(client.get(URL, {"assignee": assignee.pk})) == {theirs.reference}
    assert refs(client.get(URL, {"assignee": ""})) == {
        unassigned.reference,
        mine.reference,
        theirs.reference,
    }


def test_it_offers_the_communitys_people_as_assignees(client, staff, assignee, grid_worker):
    client.force_login(staff)

    r = client.get(URL)

    choices = dict(r.context["filter"].form.fields["assignee"].choices)
    assert {str(staff.pk), str(assignee.pk), str(grid_worker.pk)} <= set(choices)


def test_it_filters_overdue_open_issues(client, staff, make):
    overdue = make(status=S.LISTED, due_at=days(-1))
    make(status=S.LISTED, due_at=days(1))
    make(status=S.LISTED, due_at=None)
    make(status=S.RESOLVED, due_at=days(-1))
    client.force_login(staff)

    r = client.get(URL, {"overdue": "true"})

    assert refs(r) == {overdue.reference}
    # Ticked or not, the list reads the same parameter the checkbox sends.
    assert 'name="overdue" value="true" checked' in r.content.decode()


def test_it_filters_by_source(client, staff, make):
    patrol = make(source=Issue.Source.PATROL)
    make(source=Issue.Source.VISIT)
    make(source=Issue.Source.PHONE)
    client.force_login(staff)

    r = client.get(URL, {"source": "patrol"})

    assert refs(r) == {patrol.reference}


def test_it_filters_by_collection_dates_inclusive_of_both_days(client, staff, make):
    today = timezone.localdate()
    start = today - timedelta(days=10)
    end = today - timedelta(days=5)
    tz = timezone.get_current_timezone()
    at = lambda d, h, m=0: timezone.datetime(d.year, d.month, d.day, h, m, tzinfo=tz)  # noqa: E731
    first_day = make(created_at=at(start, 0, 1))
    last_day = make(created_at=at(end, 23, 59))
    make(created_at=at(start - timedelta(days=1), 23, 59))
    make(created_at=at(end + timedelta(days=1), 0, 1))
    client.force_login(staff)

    r = client.get(URL, {"created_after": start.isoformat(), "created_before": end.isoformat()})

    assert refs(r) == {first_day.reference, last_day.reference}
    # One end alone also works.
    r = client.get(URL, {"created_after": end.isoformat()})
    assert last_day.reference in refs(r)
    assert first_day.reference not in refs(r)


def test_it_filters_by_resolution_dates(client, staff, make):
    inside = make(status=S.RESOLVED, resolved_at=days(-3))
    make(status=S.RESOLVED, resolved_at=days(-20))
    make(status=S.LISTED)
    client.force_login(staff)

    start = (timezone.localdate() - timedelta(days=7)).isoformat()
    r = client.get(
        URL,
        {"status": "all", "resolved_after": start, "resolved_before": timezone.localdate()},
    )

    assert refs(r) == {inside.reference}


def test_it_filters_issues_resolved_on_time(client, staff, make):
    on_time = make(status=S.RESOLVED, resolved_at=days(-3), due_at=days(-1))
    make(status=S.RESOLVED, resolved_at=days(-3), due_at=days(-4))  # late
    make(status=S.RESOLVED, resolved_at=days(-3), due_at=None)  # no time limit
    make(status=S.LISTED, due_at=days(1))
    client.force_login(staff)

    r = client.get(URL, {"status": "all", "on_time": "true"})

    assert refs(r) == {on_time.reference}


def test_it_ignores_an_unticked_on_time_box(client, staff, make):
    open_ = make(status=S.LISTED, due_at=days(1))
    late = make(status=S.RESOLVED, resolved_at=days(-3), due_at=days(-4))
    client.force_login(staff)

    r = client.get(URL, {"status": "all"})

    assert refs(r) == {open_.reference, late.reference}


def test_it_filters_by_mediation_date(client, staff, make):
    dispute = category("dispute")
    inside = make(category=dispute)
    outside = make(category=dispute)
    make(category=dispute)  # never mediated
    today = timezone.localdate()
    MediationFactory(issue=inside, mediated_on=today - timedelta(days=2), mediator=staff)
    MediationFactory(issue=outside, mediated_on=today - timedelta(days=40), mediator=staff)
    client.force_login(staff)

    r = client.get(
        URL,
        {
            "status": "all",
            "mediated_after": (today - timedelta(days=7)).isoformat(),
            "mediated_before": today.isoformat(),
        },
    )

    assert refs(r) == {inside.reference}


def test_it_filters_by_visit_date_and_kind(client, staff, make):
    def visited(done_days_ago: float, late_days: float, satisfaction: str) -> Issue:
        issue = make(status=S.RESOLVED, resolved_at=days(-30))
        done = days(-done_days_ago)
        FollowUpFactory(
            issue=issue,
            assignee=staff,
            done_by=staff,
            due_at=done - timedelta(days=late_days),
            done_at=done,
            method=FollowUp.Method.PHONE,
            satisfaction=satisfaction,
        )
        return issue

    on_time_happy = visited(2, 0, FollowUp.Satisfaction.SATISFIED)
    late_basic = visited(2, 3, FollowUp.Satisfaction.BASICALLY)
    on_time_unhappy = visited(2, 0.5, FollowUp.Satisfaction.UNSATISFIED)
    old = visited(40, 0, FollowUp.Satisfaction.SATISFIED)
    pending = make(status=S.RESOLVED, resolved_at=days(-5))
    FollowUpFactory(issue=pending, assignee=staff, due_at=days(-1))
    client.force_login(staff)
    period = {
        "status": "all",
        "visited_after": (timezone.localdate() - timedelta(days=7)).isoformat(),
        "visited_before": timezone.localdate().isoformat(),
    }

    assert refs(client.get(URL, period)) == {
        on_time_happy.reference,
        late_basic.reference,
        on_time_unhappy.reference,
    }
    assert refs(client.get(URL, {**period, "visit": "on_time"})) == {
        on_time_happy.reference,
        on_time_unhappy.reference,
    }
    assert refs(client.get(URL, {**period, "visit": "satisfied"})) == {
        on_time_happy.reference,
        late_basic.reference,
    }
    assert refs(client.get(URL, {**period, "visit": "unsatisfied"})) == {on_time_unhappy.reference}
    assert old.reference not in refs(client.get(URL, period))


@pytest.mark.parametrize(
    ("q", "which"),
    [("井盖", "title"), ("楼道灯", "description"), ("次仁央宗", "resident"), ("漏", "title")],
)
def test_it_searches_title_description_and_resident_name(client, staff, make, q, which):
    issues = {
        "title": make(title="井盖缺失漏水", description="", resident_name=""),
        "description": make(title="其他", description="三单元楼道灯不亮", resident_name=""),
        "resident": make(title="其他", description="", resident_name="次仁央宗"),
    }
    make(title="路面破损", description="坑洼", resident_name="卓玛")
    client.force_login(staff)

    r = client.get(URL, {"q": q})

    assert refs(r) == {issues[which].reference}


def test_it_finds_an_issue_by_its_reference(client, staff, make):
    wanted = make()
    make()
    client.force_login(staff)

    r = client.get(URL, {"q": wanted.reference.lower()})

    assert refs(r) == {wanted.reference}


def test_it_lets_an_official_filter_by_area(client, official, district_official, make, community):
    sibling = CommunityFactory(subdistrict=community.subdistrict, name="八一社区")
    cousin = CommunityFactory(subdistrict__district=community.subdistrict.district)
    ours = make()
    in_sibling = make(courtyard=CourtyardFactory(grid__community=sibling))
    in_cousin = make(courtyard=CourtyardFactory(grid__community=cousin))

    client.force_login(official)
    assert refs(client.get(URL)) == {ours.reference, in_sibling.reference}
    assert refs(client.get(URL, {"community": sibling.pk})) == {in_sibling.reference}
    assert refs(client.get(URL, {"subdistrict": community.subdistrict_id})) == {
        ours.reference,
        in_sibling.reference,
    }
    # A community of another subdistrict is not a choice for this official.
    assert client.get(URL, {"community": cousin.pk}).status_code == 400

    client.force_login(district_official)
    assert refs(client.get(URL)) == {ours.reference, in_sibling.reference, in_cousin.reference}
    assert refs(client.get(URL, {"subdistrict": cousin.subdistrict_id})) == {in_cousin.reference}
    assert refs(client.get(URL, {"district": community.subdistrict.district_id})) == {
        ours.reference,
        in_sibling.reference,
        in_cousin.reference,
    }


# --- Tabs, pages, htmx ---------------------------------------------------------------------------


def test_it_counts_each_tab_under_the_other_filters(client, staff, make):
    for status, n in [
        (S.COLLECTED, 3),
        (S.LISTED, 2),
        (S.IN_PROGRESS, 1),
        (S.RESOLVED, 4),
        (S.REVISITED, 1),
    ]:
        for _ in range(n):
            make(status=status, urgency=Urgency.NORMAL)
    make(status=S.LISTED, urgency=Urgency.URGENT)
    make(status=S.RESOLVED, urgency=Urgency.URGENT)
    client.force_login(staff)

    tabs = {v: n for v, _label, n, _capped in client.get(URL).context["tabs"]}
    assert tabs == {
        "open": 7,
        "collected": 3,
        "listed": 3,
        "in_progress": 1,
        "resolved": 5,
        "revisited": 1,
        "closed": 0,
        "all": 13,
    }

    r = client.get(URL, {"urgency": "normal", "status": "resolved"})
    tabs = {v: n for v, _label, n, _capped in r.context["tabs"]}
    assert tabs == {
        "open": 6,
        "collected": 3,
        "listed": 2,
        "in_progress": 1,
        "resolved": 4,
        "revisited": 1,
        "closed": 0,
        "all": 11,
    }
    assert r.context["total"] == 4 == len(refs(r))


def test_it_pages_fifty_issues_at_a_time(client, staff, make):
    for _ in range(53):
        make()
    client.force_login(staff)

    first = client.get(URL)
    second = client.get(URL, {"page": 2})

    assert len(refs(first)) == 50
    assert len(refs(second)) == 3
    assert refs(first).isdisjoint(refs(second))
    assert first.context["total"] == 53
    assert "page=2" in first.content.decode()


def test_it_answers_an_htmx_request_with_the_results_only(client, staff, make):
    issue = make()
    client.force_login(staff)

    r = client.get(URL, {"urgency": "normal"}, headers={"HX-Request": "true"})

    html = r.content.decode().strip()
    assert r.status_code == 200
    assert html.startswith('<div id="results">')
    assert "<html" not in html
    assert 'id="filters"' not in html
    assert issue.reference in html


# --- Bad parameters ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"status": "bogus"},
        {"grid": "abc"},
        {"courtyard": "1e3"},
        {"category": "-1"},
        {"created_after": "notadate"},
        {"resolved_before": "2026-02-31"},
        {"q": "路" * 10_000},
        {"sort": "password"},
        {"assignee": "someone"},
        {"urgency": "very"},
        {"grid": "99999999999999999999999"},
        {"created_after": "0001-01-01"},
        {"resolved_before": "9999-12-31"},
        {"mediated_after": "0001-01-01"},
        {"visited_before": "0001-01-01"},
    ],
)
def test_it_answers_400_to_bad_parameters(client, staff, make, params):
    make()
    client.force_login(staff)

    r = client.get(URL, params)

    assert r.status_code == 400
    assert "alert-error" in r.content.decode()


def test_it_answers_400_to_a_grid_outside_the_scope(client, staff, make, other_community):
    make()
    foreign = GridFactory(community=other_community)
    client.force_login(staff)

    r = client.get(URL, {"grid": foreign.pk})

    assert r.status_code == 400
    assert r.context.get("page") is None


@pytest.mark.parametrize("page", ["999999", "abc", "-1", "0", "1" * 40])
def test_it_shows_the_last_page_for_a_page_beyond_it(client, staff, make, page):
    issue = make()
    client.force_login(staff)

    r = client.get(URL, {"page": page})

    assert r.status_code == 200
    assert refs(r) == {issue.reference}


# --- Scope ---------------------------------------------------------------------------------------


def test_it_shows_an_outsider_none_of_our_issues(client, outsider, make, other_community):
    make()
    theirs = IssueFactory(community=other_community)
    client.force_login(outsider)

    r = client.get(URL, {"status": "all"})

    assert refs(r) == {theirs.reference}
    assert r.context["counts"]["all"] == 1


def test_it_shows_a_grid_worker_only_their_grids_issues(
    client, grid_worker, make, other_courtyard, community
):
    ours = make()
    make(courtyard=other_courtyard)
    IssueFactory(community=CommunityFactory(subdistrict=community.subdistrict))
    client.force_login(grid_worker)

    r = client.get(URL, {"status": "all"})

    assert refs(r) == {ours.reference}
    # And the other grid is no filter choice: asking for it is refused, not answered.
    assert client.get(URL, {"grid": other_courtyard.grid_id}).status_code == 400


def test_it_shows_a_user_without_a_role_nothing(client, make):
    from grids.tests.factories import UserFactory

    make()
    client.force_login(UserFactory())

    r = client.get(URL, {"status": "all"})

    assert r.status_code == 200
    assert refs(r) == set()


# --- Query counts --------------------------------------------------------------------------------


def _populate(n: int, courtyards, people) -> None:
    """n issues across courtyards, states, categories and assignees, as a real list has."""
    codes = ["road", "parking", "electrical", "dispute", "wage_arrears"]
    statuses = [S.COLLECTED, S.LISTED, S.IN_PROGRESS, S.RESOLVED]
    for i in range(n):
        IssueFactory(
            courtyard=courtyards[i % len(courtyards)],
            category=category(codes[i % len(codes)]),
            status=statuses[i % len(statuses)],
            assignee=people[i % len(people)],
            created_by=people[-1],
            due_at=days(i % 7 - 3),
        )


def _list_at_sizes(client, assert_num_queries, user, courtyards, people, expected) -> None:
    """The list at 5 and at 60 issues makes exactly `expected` queries both times."""
    client.force_login(user)
    for n in (5, 60):
        Issue.objects.all().delete()
        _populate(n, courtyards, people)
        with assert_num_queries(expected):
            r = client.get(URL, {"status": "all"})
        assert r.status_code == 200
        assert len(refs(r)) == min(n, 50)


def test_it_lists_for_staff_in_the_same_seven_queries_at_any_size(
    client, staff, assignee, grid_worker, courtyard, other_courtyard, django_assert_num_queries
):
    # 1. session, 2. user, 3. the user's scope (one UNION of role assignments), 4. every
    # select's options (categories, grids, courtyards, the community's people: one UNION),
    # 5. the tab counts (one aggregate, which is also the pager's total), 6. the unread badge,
    # 7. one page of issues with category, courtyard, grid and assignee joined, and the count
    # of further residents who reported each (a subquery of the same statement)
    _list_at_sizes(
        client,
        django_assert_num_queries,
        staff,
        [courtyard, other_courtyard],
        [staff, assignee, grid_worker],
        7,
    )


def test_it_lists_for_an_official_in_the_same_seven_queries_at_any_size(
    client, official, staff, grid_worker, courtyard, other_courtyard, django_assert_num_queries
):
    # 1. session, 2. user, 3. scope, 4. the options (categories, subdistricts, communities),
    # 5. tab counts, 6. unread badge, 7. one page of issues
    _list_at_sizes(
        client,
        django_assert_num_queries,
        official,
        [courtyard, other_courtyard],
        [staff, grid_worker],
        7,
    )


def test_it_lists_for_a_grid_worker_in_the_same_seven_queries_at_any_size(
    client, grid_worker, staff, courtyard, django_assert_num_queries
):
    second = CourtyardFactory(grid=courtyard.grid)
    # 1. session, 2. user, 3. scope, 4. the options (categories, the worker's grids and
    # courtyards), 5. tab counts, 6. unread badge, 7. one page of issues
    _list_at_sizes(
        client, django_assert_num_queries, grid_worker, [courtyard, second], [staff, grid_worker], 7
    )


def test_it_draws_each_select_with_its_options(
    client, staff, official, assignee, grid_worker, courtyard, other_courtyard, community
):
    client.force_login(staff)
    html = client.get(URL).content.decode()
    assert f'<option value="{category("road").pk}">道路路面</option>' in html
    assert f'<option value="{courtyard.grid_id}">冲赛康社区 · 第一网格</option>' in html
    assert f'<option value="{other_courtyard.pk}">西嘎奴大院</option>' in html
    assert f'<option value="{assignee.pk}">央金</option>' in html
    # Chosen values stay selected.
    html = client.get(URL, {"courtyard": courtyard.pk}).content.decode()
    assert f'<option value="{courtyard.pk}" selected>格东大院</option>' in html

    client.force_login(official)
    html = client.get(URL).content.decode()
    assert f'<option value="{community.pk}">冲赛康社区</option>' in html
    assert f'<option value="{community.subdistrict_id}">八廓街道</option>' in html
    assert "格东大院</option>" not in html


def test_it_answers_an_htmx_request_with_bad_filters_with_the_results_only(client, staff, make):
    make()
    client.force_login(staff)

    r = client.get(URL, {"status": "bogus"}, headers={"HX-Request": "true"})

    html = r.content.decode().strip()
    assert r.status_code == 400
    # htmx swaps this into #results: a whole page there would nest the layout in itself.
    assert html.startswith('<div id="results">')
    assert "<html" not in html
    assert "alert-error" in html


# --- Bulk actions --------------------------------------------------------------------------------

BULK = reverse("issues:bulk")


def test_it_lists_several_issues_at_once(client, staff, assignee, make):
    issues = [make() for _ in range(3)]
    client.force_login(staff)
    due = timezone.localdate() + timedelta(days=3)

    r = client.post(
        BULK,
        {
            "issue": [i.reference for i in issues],
            "action": "list",
            "assignee": assignee.pk,
            "due_date": due.isoformat(),
            "next": f"{URL}?urgency=normal",
        },
    )

    assert r.status_code == 302
    assert r["Location"] == f"{URL}?urgency=normal"
    for issue in issues:
        issue.refresh_from_db()
        assert (issue.status, issue.assignee) == (S.LISTED, assignee)
        assert timezone.localtime(issue.due_at).date() == due
        assert issue.events.get().action == "list"


def test_it_lists_what_it_can_and_names_what_it_cannot(
    client, staff, make, other_community, assignee
):
    ok = make()
    listed = make(status=S.LISTED)
    foreign = IssueFactory(community=other_community)
    client.force_login(staff)

    r = client.post(
        BULK,
        {
            "issue": [ok.reference, listed.reference, foreign.reference],
            "action": "list",
            "assignee": assignee.pk,
        },
        follow=True,
    )

    text = " ".join(str(m) for m in r.context["messages"])
    assert listed.reference in text
    assert foreign.reference in text
    ok.refresh_from_db()
    assert ok.status == S.LISTED
    assert not listed.events.exists()
    foreign.refresh_from_db()
    assert foreign.status == S.COLLECTED
    assert not foreign.events.exists()


def test_it_reassigns_several_issues(client, staff, assignee, grid_worker, make):
    issues = [make(status=S.LISTED, assignee=assignee) for _ in range(2)]
    client.force_login(staff)

    client.post(
        BULK,
        {"issue": [i.reference for i in issues], "action": "assign", "assignee": grid_worker.pk},
    )

    for issue in issues:
        issue.refresh_from_db()
        assert issue.assignee == grid_worker
        assert issue.events.get().action == "assign"


@pytest.mark.parametrize(
    "data",
    [
        {"action": "assign"},
        {"action": "assign", "assignee": "9" * 30},
        {"action": "list", "due_date": "2026-02-31"},
        {"action": "delete"},
        {"action": "list", "issue": []},
    ],
)
def test_it_changes_nothing_on_a_bad_bulk_request(client, staff, make, data):
    issue = make()
    client.force_login(staff)

    r = client.post(BULK, {"issue": [issue.reference], **data}, follow=True)

    assert r.status_code == 200
    assert [str(m) for m in r.context["messages"]]
    issue.refresh_from_db()
    assert (issue.status, issue.assignee) == (S.COLLECTED, None)
    assert not issue.events.exists()


@pytest.mark.parametrize("who", ["official", "grid_worker"])
def test_it_lets_no_one_but_staff_act_in_bulk(client, request, assignee, make, who):
    issue = make()
    client.force_login(request.getfixturevalue(who))

    for action in ("list", "assign"):
        client.post(BULK, {"issue": [issue.reference], "action": action, "assignee": assignee.pk})

    issue.refresh_from_db()
    assert (issue.status, issue.assignee) == (S.COLLECTED, None)
    assert not issue.events.exists()


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_it_returns_from_a_bulk_action_only_within_the_site(client, staff, make, target):
    issue = make()
    client.force_login(staff)

    r = client.post(BULK, {"issue": [issue.reference], "action": "list", "next": target})

    assert r["Location"] == URL


# --- Refining a list a dashboard figure opened ---------------------------------------------------


def filter_form_inputs(html: str) -> dict[str, str]:
    """The named inputs and selects of the filter form, with their (selected) values."""
    form = html[html.index('id="filters"') : html.index("</form>", html.index('id="filters"'))]
    inputs = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and value and ('type="checkbox"' not in tag or "checked" in tag):
            inputs[name.group(1)] = value.group(1)
    for name, body in re.findall(r'<select name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        if chosen:
            inputs[name] = chosen.group(1)
    return inputs


@pytest.mark.parametrize(
    ("who", "params"),
    [
        ("staff", {"status": "all", "on_time": "true"}),
        (
            "staff",
            {"status": "all", "mediated_after": "2026-01-01", "mediated_before": "2026-01-31"},
        ),
        (
            "staff",
            {
                "status": "all",
                "visit": "satisfied",
                "visited_after": "2026-01-01",
                "visited_before": "2026-01-31",
            },
        ),
        (
            "staff",
            {"status": "all", "resolved_after": "2026-01-01", "resolved_before": "2026-01-31"},
        ),
        ("staff", {"overdue": "true"}),
        ("official", {"grid": "GRID"}),
        ("district_official", {"district": "DISTRICT"}),
    ],
)
def test_it_keeps_every_filter_a_figure_set_when_the_list_is_refined(
    client, request, community, grid, who, params
):
    """Changing another filter submits the form: what the form does not carry is lost."""
    params = {
        k: {"GRID": str(grid.pk), "DISTRICT": str(community.subdistrict.district_id)}.get(v, v)
        for k, v in params.items()
    }
    client.force_login(request.getfixturevalue(who))

    r = client.get(URL, params)

    assert r.status_code == 200
    carried = filter_form_inputs(r.content.decode())
    for name, value in params.items():
        if name != "status":  # the tabs carry the status
            assert carried.get(name) == value, name


def test_it_shows_an_administrator_every_area(client, admin_user, make, community, other_community):
    ours = make()
    theirs = IssueFactory(community=other_community)
    client.force_login(admin_user)

    r = client.get(URL)

    assert r.status_code == 200
    assert refs(r) == {ours.reference, theirs.reference}
    html = r.content.decode()
    assert f'<option value="{other_community.pk}">色麦村</option>' in html
    assert f'<option value="{community.subdistrict_id}">八廓街道</option>' in html


def test_it_caps_the_tab_counts_of_a_search(client, staff, make, monkeypatch):
    import issues.filters

    monkeypatch.setattr(issues.filters, "SEARCH_COUNT_CAP", 2)
    for _ in range(4):
        make(title="路面塌陷", status=S.REVISITED)
    make(title="路面塌陷", status=S.COLLECTED)
    client.force_login(staff)

    r = client.get(URL, {"q": "路面", "status": "all"})

    tabs = {v: (n, capped) for v, _label, n, capped in r.context["tabs"]}
    # Each tab counts at most cap + 1 rows; a tab past the cap says so instead of a number.
    assert tabs["revisited"] == (3, True)
    assert tabs["collected"] == (1, False)
    assert r.context["total_capped"]
    assert len(refs(r)) == 4 or len(refs(r)) == 5
