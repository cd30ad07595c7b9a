"""The list's chips: every filter in force, in a plain sentence, each a link that drops it."""

import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from issues.filters import IssueFilter
from issues.models import FollowUp, Issue
from issues.tests.factories import FollowUpFactory, IssueFactory, category

pytestmark = pytest.mark.django_db

URL = reverse("issues:list")
S = Issue.Status


def chips(client, params) -> dict[str, dict[str, list[str]]]:
    """Each chip's sentence: the parameters its link keeps."""
    r = client.get(URL, params)
    assert r.status_code == 200
    out = {}
    for chip in r.context["chips"]:
        parts = urlsplit(chip.url)
        assert parts.path == URL
        out[chip.text] = parse_qs(parts.query)
    return out


def this_year() -> dict[str, str]:
    today = timezone.localdate()
    return {"visited_after": f"{today:%Y}-01-01", "visited_before": f"{today:%Y-%m-%d}"}


def test_it_says_why_a_satisfied_visits_figure_holds_its_issues(client, official, community):
    client.force_login(official)
    params = {
        "status": "all",
        "visit": "satisfied",
        **this_year(),
        "subdistrict": str(community.subdistrict_id),
    }

    shown = chips(client, params)

    assert set(shown) == {"本年度 · 回访满意的问题", "区域：八廓街道"}
    # Removing the visit chip drops its kind and both dates, and keeps the rest.
    assert shown["本年度 · 回访满意的问题"] == {
        "status": ["all"],
        "subdistrict": [str(community.subdistrict_id)],
    }
    assert shown["区域：八廓街道"] == {
        "status": ["all"],
        "visit": ["satisfied"],
        **{k: [v] for k, v in this_year().items()},
    }
    html = client.get(URL, params).content.decode()
    assert 'data-testid="chips"' in html
    assert "本年度 · 回访满意的问题" in html


@pytest.mark.parametrize(
    ("params", "sentence", "removes"),
    [
        ({"on_time": "true"}, "按期办结的问题", {"on_time"}),
        ({"overdue": "true"}, "已超期的问题", {"overdue"}),
        (
            {"mediated_after": "2026-11-01", "mediated_before": "2026-11-30"},
            "2026年11月 · 调解过的问题",
            {"mediated_after", "mediated_before"},
        ),
        (
            {"mediated_after": "2026-11-03", "mediated_before": "2026-11-20"},
            "2026-11-03至2026-11-20 · 调解过的问题",
            {"mediated_after", "mediated_before"},
        ),
        (
            {"resolved_after": "2025-01-01", "resolved_before": "2025-12-31"},
            "2025年 · 办结的问题",
            {"resolved_after", "resolved_before"},
        ),
        ({"created_after": "2026-03-05"}, "2026-03-05起 · 收集的问题", {"created_after"}),
        ({"created_before": "2026-03-05"}, "截至2026-03-05 · 收集的问题", {"created_before"}),
        (
            {"visit": "on_time", "visited_after": "2026-02-01", "visited_before": "2026-02-01"},
            "2026-02-01 · 按时回访的问题",
            {"visit", "visited_after", "visited_before"},
        ),
        ({"source": "patrol"}, "来源：巡查", {"source"}),
        ({"urgency": "urgent"}, "紧急程度：紧急", {"urgency"}),
        ({"q": "路面"}, "含“路面”", {"q"}),
        ({"assignee": "unassigned"}, "未指派", {"assignee"}),
    ],
)
def test_it_puts_each_filter_in_a_sentence_with_a_link_that_drops_it(
    client, staff, params, sentence, removes
):
    client.force_login(staff)
    kept = {"status": "all", "sort": "created"}

    shown = chips(client, {**kept, **params})

    assert list(shown) == [sentence]
    assert shown[sentence] == {k: [v] for k, v in kept.items()}
    assert not removes & set(shown[sentence])


def test_it_names_the_period_the_dashboard_showed(client, staff):
    client.force_login(staff)
    today = timezone.localdate()
    month = {"created_after": f"{today:%Y-%m}-01", "created_before": f"{today:%Y-%m-%d}"}

    assert list(chips(client, month)) == ["本月 · 收集的问题"]
    last_30 = {
        "created_after": f"{today - timezone.timedelta(days=29):%Y-%m-%d}",
        "created_before": f"{today:%Y-%m-%d}",
    }
    assert list(chips(client, last_30)) == ["近30天 · 收集的问题"]


def test_it_names_areas_and_categories_from_the_rows_it_validated(
    client, official, district_official, community, grid
):
    client.force_login(official)
    params = {"grid": str(grid.pk), "category": str(category("wage_arrears").pk)}

    assert set(chips(client, params)) == {"区域：冲赛康社区 · 第一网格", "类别：欠薪"}

    client.force_login(district_official)
    district = community.subdistrict.district
    assert list(chips(client, {"district": str(district.pk)})) == ["区域：城关区"]


def test_it_names_a_person_of_the_community_for_staff(client, staff, assignee):
    client.force_login(staff)

    assert list(chips(client, {"assignee": str(assignee.pk)})) == ["承办人：央金"]
    assert list(chips(client, {"assignee": "me"})) == ["指派给我"]


def test_it_draws_no_chip_for_the_default_view(client, staff):
    client.force_login(staff)

    r = client.get(URL)

    assert r.context["chips"] == []
    # The empty row stays (hidden) for a swap of the results to fill.
    assert re.search(r'<div id="chips" [^>]*hidden>', r.content.decode())
    assert 'data-testid="chip"' not in r.content.decode()


def test_it_brings_the_chips_along_when_htmx_swaps_the_results(client, staff):
    client.force_login(staff)

    r = client.get(URL, {"urgency": "urgent"}, HTTP_HX_REQUEST="true")

    html = r.content.decode()
    assert html.lstrip().startswith('<div id="results">')
    assert re.search(r'<div id="chips" [^>]*hx-swap-oob="true"', html)
    assert "紧急程度：紧急" in html

    full = client.get(URL, {"urgency": "urgent"}).content.decode()
    assert full.count('<div id="chips"') == 1
    assert "hx-swap-oob" not in full
    # Above the form, so a phone shows them before the form's fields.
    assert full.index('<div id="chips"') < full.index('id="filters"')


def test_it_draws_the_chips_without_a_query(
    staff, assignee, community, grid, courtyard, django_assert_num_queries
):
    """The names come from the validated rows and the options the list reads anyway."""
    request = RequestFactory().get(
        URL,
        {
            "grid": grid.pk,
            "courtyard": courtyard.pk,
            "category": category("road").pk,
            "assignee": assignee.pk,
            "visit": "satisfied",
            "visited_after": "2026-01-01",
            "visited_before": "2026-12-31",
            "mediated_after": "2026-01-01",
            "on_time": "true",
        },
    )
    f = IssueFilter(request.GET, queryset=Issue.objects.visible_to(staff), user=staff)
    f.assignee_choices_for(community.pk)
    assert f.is_valid()
    f.options  # noqa: B018  (read by the form's selects when the page is drawn)

    with django_assert_num_queries(0):
        shown = [c.text for c in f.chips()]

    assert shown == [
        "区域：冲赛康社区 · 第一网格",
        "区域：格东大院",
        "类别：道路路面",
        "承办人：央金",
        "2026-01-01起 · 调解过的问题",
        "按期办结的问题",
        "2026年 · 回访满意的问题",
    ]


def test_it_lists_in_the_same_queries_with_the_chips_at_any_size(
    client, official, community, grid, courtyard, django_assert_num_queries
):
    client.force_login(official)
    params = {
        "status": "all",
        "grid": grid.pk,
        "category": category("road").pk,
        "visit": "satisfied",
        **this_year(),
    }
    for n in (3, 40):
        Issue.objects.all().delete()
        for _ in range(n):
            visit = FollowUpFactory(issue=IssueFactory(courtyard=courtyard, status=S.RESOLVED))
            FollowUp.objects.filter(pk=visit.pk).update(
                done_at=timezone.now(), satisfaction=FollowUp.Satisfaction.SATISFIED
            )
        # 1. session, 2. user, 3. scope, 4. the grid and 5. the category the form validates
        # (whose rows name the chips), 6. the options, 7. tab counts, 8. unread badge,
        # 9. one page of issues
        with django_assert_num_queries(9):
            r = client.get(URL, params)
        assert len(r.context["chips"]) == 3
        assert r.context["total"] == n


def test_the_period_of_a_whole_year_month_or_day_reads_as_one():
    from issues.filters import describe_period

    tz = timezone.get_current_timezone()

    def period(a: date, b: date) -> str:
        start = timezone.datetime.combine(a, timezone.datetime.min.time(), tz)
        stop = timezone.datetime.combine(b, timezone.datetime.max.time(), tz)
        return describe_period(slice(start, stop), date(2026, 12, 2))

    assert period(date(2026, 1, 1), date(2026, 12, 2)) == "本年度"
    assert period(date(2026, 11, 3), date(2026, 12, 2)) == "近30天"
    assert period(date(2026, 11, 30), date(2026, 12, 2)) == "本周"
    assert period(date(2026, 12, 1), date(2026, 12, 2)) == "本月"
    assert period(date(2024, 1, 1), date(2024, 12, 31)) == "2024年"
    assert period(date(2024, 2, 1), date(2024, 2, 29)) == "2024年2月"
    assert period(date(2024, 2, 1), date(2024, 2, 28)) == "2024-02-01至2024-02-28"
    assert period(date(2024, 2, 1), date(2024, 2, 1)) == "2024-02-01"


def test_a_visit_kind_without_dates_holds_what_its_chip_says(client, staff, courtyard):
    satisfied, unsatisfied, unvisited = (
        IssueFactory(courtyard=courtyard, status=S.RESOLVED) for _ in range(3)
    )
    for issue, how in (
        (satisfied, FollowUp.Satisfaction.SATISFIED),
        (unsatisfied, FollowUp.Satisfaction.UNSATISFIED),
    ):
        visit = FollowUpFactory(issue=issue)
        FollowUp.objects.filter(pk=visit.pk).update(done_at=timezone.now(), satisfaction=how)
    client.force_login(staff)

    r = client.get(URL, {"status": "all", "visit": "satisfied"})

    assert [c.text for c in r.context["chips"]] == ["回访满意的问题"]
    assert {i.reference for i in r.context["page"].object_list} == {satisfied.reference}
    assert unvisited.reference not in r.content.decode()
