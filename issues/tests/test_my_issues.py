"""The grid worker's home: groups that fold, their counts, a search, a fixed number of queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from issues.models import Issue
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

URL = reverse("issues:mine")
S = Issue.Status


def groups(r) -> dict[str, tuple[int, bool, list[str]]]:
    """Each group's key: (count, open, references), from the context."""
    return {
        g["key"]: (g["count"], g["open"], [i.reference for i in g["issues"]])
        for g in r.context["groups"]
    }


def details(html: str) -> dict[str, bool]:
    """Each drawn group: whether its <details> is open."""
    return {
        key: bool(opened)
        for key, opened in re.findall(r'<details class="group" data-group="(\w+)"( open)?>', html)
    }


@pytest.fixture
def mixed(courtyard):
    """Two to handle, one in progress, one awaiting its visit, two revisited."""
    return {
        "collected": IssueFactory(courtyard=courtyard, status=S.COLLECTED, title="楼道灯不亮"),
        "listed": IssueFactory(courtyard=courtyard, status=S.LISTED, title="井盖松动"),
        "in_progress": IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, title="下水道堵塞"),
        "resolved": IssueFactory(courtyard=courtyard, status=S.RESOLVED, title="路灯已修好"),
        "revisited": [
            IssueFactory(courtyard=courtyard, status=S.REVISITED, title=f"垃圾已清运 {i}")
            for i in range(2)
        ],
    }


def test_it_groups_the_issues_most_pressing_first_with_their_counts(client, grid_worker, mixed):
    client.force_login(grid_worker)

    r = client.get(URL)

    g = groups(r)
    assert list(g) == ["todo", "in_progress", "resolved", "revisited"]
    assert g["todo"][0] == 2
    assert set(g["todo"][2]) == {mixed["collected"].reference, mixed["listed"].reference}
    assert g["in_progress"][:1] == (1,)
    assert g["resolved"][:1] == (1,)
    assert g["revisited"][0] == 2
    html = r.content.decode()
    assert re.search(r'data-testid="count-todo">2<', html)
    assert re.search(r'data-testid="count-revisited">2<', html)


def test_it_folds_the_closed_groups_by_default(client, grid_worker, mixed):
    client.force_login(grid_worker)

    html = client.get(URL).content.decode()

    assert details(html) == {
        "todo": True,
        "in_progress": True,
        "resolved": False,
        "revisited": False,
    }


def test_it_narrows_to_the_search_and_unfolds_what_matches(client, grid_worker, mixed):
    client.force_login(grid_worker)

    r = client.get(URL, {"q": "垃圾"})

    g = groups(r)
    assert {k: v[0] for k, v in g.items()} == {
        "todo": 0,
        "in_progress": 0,
        "resolved": 0,
        "revisited": 2,
    }
    # Only the groups with a match are drawn, unfolded so the matches show.
    assert details(r.content.decode()) == {"revisited": True}
    assert "楼道灯不亮" not in r.content.decode()


def test_it_finds_an_issue_by_its_reference(client, grid_worker, mixed):
    client.force_login(grid_worker)

    r = client.get(URL, {"q": mixed["in_progress"].reference.lower()})

    assert [ref for v in groups(r).values() for ref in v[2]] == [mixed["in_progress"].reference]


def test_it_says_when_nothing_matches(client, grid_worker, mixed):
    client.force_login(grid_worker)

    r = client.get(URL, {"q": "没有这个词"})

    assert "本网格没有与搜索相符的问题" in r.content.decode()
    assert details(r.content.decode()) == {}


def test_it_leaves_out_issues_closed_over_a_month_ago_and_other_grids(
    client, grid_worker, courtyard, other_courtyard
):
    old = IssueFactory(courtyard=courtyard, status=S.REVISITED)
    Issue.objects.filter(pk=old.pk).update(last_activity_at=timezone.now() - timedelta(days=31))
    IssueFactory(courtyard=other_courtyard, status=S.COLLECTED)
    kept = IssueFactory(courtyard=courtyard, status=S.COLLECTED)
    client.force_login(grid_worker)

    g = groups(client.get(URL))

    assert [ref for v in g.values() for ref in v[2]] == [kept.reference]
    assert g["revisited"][0] == 0


def test_it_lists_open_issues_before_a_long_closed_tail(client, grid_worker, courtyard):
    """The page holds 200 rows: the open ones come first, however recent the closed."""
    stale = IssueFactory(courtyard=courtyard, status=S.COLLECTED)
    Issue.objects.filter(pk=stale.pk).update(last_activity_at=timezone.now() - timedelta(days=90))
    IssueFactory(courtyard=courtyard, status=S.REVISITED)
    client.force_login(grid_worker)

    issues = [i.reference for g in client.get(URL).context["groups"] for i in g["issues"]]

    assert issues[0] == stale.reference


def test_it_draws_in_the_same_seven_queries_at_any_size(
    client, grid_worker, courtyard, django_assert_num_queries
):
    client.force_login(grid_worker)
    statuses = list(S)
    for n in (5, 60):
        Issue.objects.all().delete()
        for i in range(n):
            IssueFactory(courtyard=courtyard, status=statuses[i % len(statuses)])
        # 1. session, 2. user, 3. the user's scope, 4. each status's count (one aggregate),
        # 5. the issues with category and courtyard joined, 6. the visits due, 7. unread badge
        with django_assert_num_queries(7):
            r = client.get(URL, {"q": "路面"} if n == 60 else {})
        assert r.status_code == 200
        assert sum(len(g["issues"]) for g in r.context["groups"]) == n


def test_it_puts_overdue_then_urgent_issues_first_in_an_open_group(client, grid_worker, courtyard):
    now = timezone.now()
    plain = IssueFactory(courtyard=courtyard, status=S.COLLECTED, urgency="normal")
    urgent = IssueFactory(courtyard=courtyard, status=S.COLLECTED, urgency="urgent")
    overdue = IssueFactory(
        courtyard=courtyard, status=S.COLLECTED, urgency="normal", due_at=now - timedelta(hours=1)
    )
    Issue.objects.filter(pk=plain.pk).update(last_activity_at=now + timedelta(minutes=1))
    client.force_login(grid_worker)

    g = groups(client.get(URL))

    assert g["todo"][2] == [overdue.reference, urgent.reference, plain.reference]


@pytest.mark.parametrize("q", ["a\x00b", "路" * 101])
def test_it_answers_a_bad_search_with_400_and_the_reason(client, grid_worker, mixed, q):
    client.force_login(grid_worker)

    r = client.get(URL, {"q": q})

    assert r.status_code == 400
    assert "搜索内容无效" in r.content.decode()
    # The page still shows the groups, unsearched.
    assert groups(r)["todo"][0] == 2
