"""The dashboard: each figure equals the count of the list it links to, for every role."""

import csv
import html
import io
import re
from datetime import timedelta
from decimal import Decimal

import openpyxl
import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from grids.models import Patrol
from grids.tests.factories import CommunityFactory, CourtyardFactory, GridFactory
from issues import services
from issues.admin import IssueAdmin
from issues.models import FollowUp, Issue, Urgency
from issues.tests.factories import FollowUpFactory, IssueFactory, MediationFactory, category

pytestmark = pytest.mark.django_db

URL = reverse("issues:dashboard")
S = Issue.Status
FIGURE = re.compile(
    r'<a class="figure" data-figure="([^"]+)" href="([^"]+)"><span class="n[^"]*">(.*?)</span>',
    re.S,
)
TABLE_LINK = re.compile(r'<a href="(/issues/\?[^"]+)">([\d,]+)</a>')
# The figures whose number is a plain count, and the total each shows.
COUNTED = {
    "collected": "collected",
    "overdue": "overdue",
    "mediated": "mediated",
    "hazards": "hazards",
    "age_0_3": "age_0_3",
    "age_4_7": "age_4_7",
    "age_8_30": "age_8_30",
    "age_31_": "age_31_",
}


def ago(days: float):
    return timezone.now() - timedelta(days=days)


@pytest.fixture
def sibling_courtyard(community):
    sibling = CommunityFactory(subdistrict=community.subdistrict, name="八一社区")
    return CourtyardFactory(grid=GridFactory(community=sibling), name="八一大院")


@pytest.fixture
def data(
    courtyard,
    other_courtyard,
    sibling_courtyard,
    other_community,
    staff,
    grid_worker,
    other_grid_worker,
):
    """Issues in every state around the last 30 days, with visits, mediations and patrols.

    Days are before now; the period is the default, the last 30 days.
    """

    def mk(where, status, created, *, resolved=None, due=None, code="road", **kw) -> Issue:
        return IssueFactory(
            courtyard=where,
            status=status,
            created_at=ago(created),
            resolved_at=ago(resolved) if resolved is not None else None,
            due_at=ago(due) if due is not None else None,
            category=category(code),
            urgency=Urgency.NORMAL,
            created_by=grid_worker,
            **kw,
        )

    patrol = Patrol.objects.create(
        grid_worker=grid_worker, grid=courtyard.grid, started_at=ago(1), ended_at=ago(0.9)
    )
    Patrol.objects.create(
        grid_worker=other_grid_worker, grid=other_courtyard.grid, started_at=ago(3)
    )
    Patrol.objects.create(grid_worker=grid_worker, grid=courtyard.grid, started_at=ago(45))
    i = {
        # The first grid.
        "A": mk(courtyard, S.COLLECTED, 2, due=-5),
        "B": mk(courtyard, S.LISTED, 5, due=1),
        # People affected count only on wage cases.
        "D": mk(courtyard, S.RESOLVED, 6, resolved=3, due=1, people_affected=4),
        "G": mk(
            courtyard,
            S.RESOLVED,
            12,
            resolved=4,
            due=2,
            code="wage_arrears",
            amount_owed=Decimal(8000),
            amount_recovered=Decimal(5000),
            people_affected=12,
        ),
        # A wage case resolved before the period.
        "W": mk(
            courtyard,
            S.RESOLVED,
            100,
            resolved=80,
            due=90,
            code="wage_arrears",
            amount_recovered=Decimal(9000),
            people_affected=30,
        ),
        "HZ": mk(courtyard, S.COLLECTED, 1, source=Issue.Source.PATROL, patrol=patrol),
        "OLD": mk(courtyard, S.COLLECTED, 60, due=50),
        # The second grid.
        "C": mk(other_courtyard, S.IN_PROGRESS, 10, due=-3),
        "E": mk(other_courtyard, S.RESOLVED, 8, resolved=2, due=4),
        "F": mk(other_courtyard, S.REVISITED, 20, resolved=15, due=10, revisited_at=ago(5)),
        "H": mk(other_courtyard, S.IN_PROGRESS, 2, due=-5, code="dispute"),
        "I": mk(other_courtyard, S.RESOLVED, 55, resolved=40, due=45, code="dispute"),
        # Another community of the subdistrict: only the official sees these.
        "S1": mk(sibling_courtyard, S.COLLECTED, 3),
        "S2": mk(sibling_courtyard, S.RESOLVED, 7, resolved=1, due=-1),
        # Another district: nobody here sees it.
        "X": IssueFactory(community=other_community, created_at=ago(2)),
    }
    today = timezone.localdate()
    MediationFactory(issue=i["H"], mediator=staff, mediated_on=today - timedelta(days=3))
    MediationFactory(issue=i["I"], mediator=staff, mediated_on=today - timedelta(days=50))

    def visit(issue, due, done=None, satisfaction=""):
        FollowUpFactory(
            issue=issue,
            assignee=staff,
            due_at=ago(due),
            done_at=ago(done) if done is not None else None,
            done_by=staff if done is not None else None,
            method=FollowUp.Method.PHONE if done is not None else "",
            satisfaction=satisfaction,
        )

    visit(i["D"], 1.5, 1, FollowUp.Satisfaction.SATISFIED)  # on time
    visit(i["F"], 10, 5, FollowUp.Satisfaction.BASICALLY)  # late
    visit(i["E"], 1.2, 1, FollowUp.Satisfaction.UNSATISFIED)  # on time
    visit(i["I"], 35, 33, FollowUp.Satisfaction.SATISFIED)  # before the period
    visit(i["G"], -3)  # not yet due
    return i


EXPECTED = {
    "staff": {
        "collected": 9,
        "resolved": 4,
        "closed": 4,
        "on_time": 3,
        "overdue": 2,
        "mediated": 1,
        "visits_done": 3,
        "visits_on_time": 2,
        "visit_issues_on_time": 2,
        "visits_satisfied": 2,
        "visit_issues_satisfied": 2,
        "wage_resolved": 1,
        "recovered": Decimal(5000),
        "wage_people": 12,
        "hazards": 1,
        "patrols": 2,
        "open": 6,
        "age_0_3": 3,
        "age_4_7": 1,
        "age_8_30": 1,
        "age_31_": 1,
        "resolution_rate": 44.4,
        "on_time_rate": 75.0,
        "satisfaction_rate": 66.7,
    },
    "grid_worker": {
        "collected": 5,
        "resolved": 2,
        "closed": 2,
        "on_time": 2,
        "overdue": 2,
        "mediated": 0,
        "visits_done": 1,
        "visit_issues_on_time": 1,
        "visit_issues_satisfied": 1,
        "wage_resolved": 1,
        "hazards": 1,
        "patrols": 1,
        "open": 4,
        "age_0_3": 2,
        "age_4_7": 1,
        "age_8_30": 0,
        "age_31_": 1,
    },
    "official": {
        "collected": 11,
        "resolved": 5,
        "closed": 5,
        "on_time": 4,
        "overdue": 2,
        "mediated": 1,
        "visit_issues_on_time": 2,
        "visit_issues_satisfied": 2,
        "wage_resolved": 1,
        "hazards": 1,
        "patrols": 2,
        "open": 7,
        "age_0_3": 4,
        "age_4_7": 1,
    },
}


def list_total(client, href: str) -> int:
    r = client.get(href)
    assert r.status_code == 200, href
    return r.context["total"]


# The figures that sum a field over the issues of the list they link to.
SUMMED = {"wage_people": "people_affected"}


def list_sum(client, href: str, field: str) -> int:
    r = client.get(href)
    assert r.status_code == 200, href
    assert r.context["total"] <= 50, "the test reads one page"
    return sum(getattr(i, field) or 0 for i in r.context["page"].object_list)


def figure_matches_list(client, name: str, href: str, t: dict) -> bool:
    """A count equals the count of its list; a sum, the sum of its list's issues."""
    href = html.unescape(href)
    if name in SUMMED:
        return list_sum(client, href, SUMMED[name]) == t[name] and (
            list_total(client, href) == t["wage_resolved"]
        )
    return list_total(client, href) == t[name]


@pytest.mark.parametrize(
    "who", ["staff", "official", "grid_worker", "district_official", "admin_user"]
)
def test_it_shows_each_figure_equal_to_the_count_of_the_list_it_links_to(
    client, request, data, who
):
    client.force_login(request.getfixturevalue(who))

    r = client.get(URL)

    assert r.status_code == 200
    t = r.context["t"]
    for key, value in EXPECTED.get(who, {}).items():
        assert t[key] == value, key
    page = r.content.decode()
    figures = FIGURE.findall(page)
    assert len(figures) >= 15
    for name, href, shown in figures:
        assert figure_matches_list(client, name, href, t), (name, href)
        if name in SUMMED:
            assert shown.strip() == f"{t[name]:,}", name
        if name in COUNTED:
            assert shown.strip() == f"{t[COUNTED[name]]:,}", name


@pytest.mark.parametrize("who", ["staff", "official", "grid_worker"])
def test_it_shows_each_table_number_equal_to_the_count_of_its_list(client, request, data, who):
    client.force_login(request.getfixturevalue(who))

    page = client.get(URL).content.decode()

    links = TABLE_LINK.findall(page)
    assert links
    for href, shown in links:
        assert list_total(client, html.unescape(href)) == int(shown.replace(",", "")), href


def test_it_breaks_the_staff_dashboard_down_by_grid(client, staff, data, grid, other_grid):
    client.force_login(staff)

    r = client.get(URL)

    assert r.context["level"] == "community"
    assert r.context["child"] == "grid"
    rows = {a.pk: row for a, row in r.context["child_rows"]}
    assert set(rows) == {grid.pk, other_grid.pk}
    assert (rows[grid.pk]["collected"], rows[grid.pk]["open"], rows[grid.pk]["overdue"]) == (
        5,
        4,
        2,
    )
    assert (rows[other_grid.pk]["collected"], rows[other_grid.pk]["resolved"]) == (4, 2)


# --- Drilling down -------------------------------------------------------------------------------


def test_it_drills_down_within_the_scope(
    client, district_official, data, community, grid, sibling_courtyard
):
    client.force_login(district_official)
    subdistrict = community.subdistrict

    top = client.get(URL)
    assert top.context["child"] == "subdistrict"
    assert {a.pk for a, _r in top.context["child_rows"]} == {subdistrict.pk}

    r = client.get(URL, {"subdistrict": subdistrict.pk})
    assert r.status_code == 200
    assert r.context["child"] == "community"
    assert {a.pk for a, _r in r.context["child_rows"]} == {
        community.pk,
        sibling_courtyard.grid.community_id,
    }
    assert 'data-testid="area-table"' in r.content.decode()
    assert r.context["t"]["collected"] == 11

    r = client.get(URL, {"community": community.pk})
    assert r.status_code == 200
    assert r.context["child"] == "grid"
    assert r.context["t"]["collected"] == 9
    assert f"?grid={grid.pk}&amp;" in r.content.decode()

    r = client.get(URL, {"grid": grid.pk})
    assert r.status_code == 200
    assert r.context["child"] is None
    assert r.context["t"]["collected"] == 5


@pytest.mark.parametrize(
    ("who", "level", "where"),
    [
        ("official", "community", "foreign_community"),
        ("official", "subdistrict", "foreign_subdistrict"),
        ("staff", "community", "sibling_community"),
        ("staff", "subdistrict", "own_subdistrict"),
        ("grid_worker", "grid", "other_grid"),
        ("grid_worker", "community", "own_community"),
        ("outsider", "community", "own_community"),
    ],
)
def test_it_answers_404_for_an_area_outside_the_scope(
    client,
    request,
    data,
    other_community,
    other_grid,
    sibling_courtyard,
    community,
    who,
    level,
    where,
):
    pk = {
        "foreign_community": other_community.pk,
        "foreign_subdistrict": other_community.subdistrict_id,
        "sibling_community": sibling_courtyard.grid.community_id,
        "own_subdistrict": community.subdistrict_id,
        "other_grid": other_grid.pk,
        "own_community": community.pk,
    }[where]
    client.force_login(request.getfixturevalue(who))

    assert client.get(URL, {level: pk}).status_code == 404


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 30, "0"])
def test_it_answers_404_for_a_malformed_area(client, official, value):
    client.force_login(official)

    assert client.get(URL, {"community": value}).status_code == 404


# --- Periods -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"period": "custom", "from": "notadate", "to": "2026-01-31"},
        {"period": "custom", "from": "2026-03-01", "to": "2026-01-01"},
        {"period": "custom"},
        {"period": "custom", "from": "1900-01-01", "to": "2026-01-01"},
        {"period": "custom", "from": "2026-02-30", "to": "2026-03-01"},
        {"period": "custom", "from": "0001-01-01", "to": "0001-01-05"},
        {"period": "custom", "from": "9999-12-25", "to": "9999-12-31"},
    ],
)
def test_it_says_so_when_a_custom_period_is_not_valid(client, staff, data, params):
    client.force_login(staff)

    r = client.get(URL, params)

    assert r.status_code == 200
    assert r.context["period_error"]
    assert r.context["period_name"] == "30d"
    assert r.context["period_error"] in r.content.decode()
    assert r.context["t"]["collected"] == EXPECTED["staff"]["collected"]


def test_it_shows_a_custom_period(client, staff, data):
    client.force_login(staff)
    today = timezone.localdate()

    r = client.get(
        URL,
        {
            "period": "custom",
            "from": (today - timedelta(days=70)).isoformat(),
            "to": (today - timedelta(days=30)).isoformat(),
        },
    )

    assert r.status_code == 200
    assert r.context["period_error"] is None
    # OLD (60 days ago) and I (55 days ago) were collected then; I was resolved then too.
    assert (r.context["t"]["collected"], r.context["t"]["resolved"]) == (2, 1)
    for name, href, _shown in FIGURE.findall(r.content.decode()):
        assert figure_matches_list(client, name, href, r.context["t"]), name


@pytest.mark.parametrize("period", ["week", "month", "year", "30d", "bogus"])
def test_it_shows_each_named_period_with_figures_that_match_their_lists(
    client, official, data, period
):
    client.force_login(official)

    r = client.get(URL, {"period": period})

    assert r.status_code == 200
    assert r.context["period_error"] is None
    assert r.context["period"].end == timezone.localdate()
    page = r.content.decode()
    for name, href, _shown in FIGURE.findall(page):
        assert figure_matches_list(client, name, href, r.context["t"]), name
    for href, shown in TABLE_LINK.findall(page):
        assert list_total(client, html.unescape(href)) == int(shown.replace(",", "")), href


# --- Downloads -----------------------------------------------------------------------------------


def test_it_downloads_the_breakdown_as_csv(client, staff, data, grid, other_grid):
    client.force_login(staff)

    r = client.get(URL, {"format": "csv"})

    assert r.status_code == 200
    assert r["Content-Disposition"].startswith('attachment; filename="dashboard-')
    body = r.content.decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body[1:])))
    assert len(rows[0]) == 7
    by_name = {row[0]: row for row in rows[1:]}
    assert by_name[grid.name][1:3] == ["5", "2"]  # collected, resolved
    assert by_name[other_grid.name][1:3] == ["4", "2"]
    assert by_name["道路路面"][1] == "7"  # A, B, D, HZ, C, E, F
    assert by_name["欠薪"][2] == "1"


def test_it_downloads_the_breakdown_as_excel(client, official, data, community):
    client.force_login(official)

    r = client.get(URL, {"format": "xlsx"})

    assert r.status_code == 200
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    rows = {row[0]: row for row in wb.active.iter_rows(min_row=2, values_only=True)}
    assert rows[community.name][1:3] == (9, 4)
    assert rows["八一社区"][1:3] == (2, 1)


def test_it_neutralises_an_area_name_in_the_download(client, staff, data, grid):
    grid.name = "=cmd|' /C calc'!A0"
    grid.save()
    client.force_login(staff)

    body = client.get(URL, {"format": "csv"}).content.decode("utf-8")

    assert "\n'=cmd|" in body.replace("\r\n", "\n")


# --- Query count ---------------------------------------------------------------------------------


# 1. session, 2. user, 3. scope, 4. the user's area, 5. the categories (names and the
# wage-arrears id), 6.-8. collected, resolved and open now, each grouped by category, next
# level of area and week (the totals, both tables and the trend are sums of these),
# 9. median time to resolve, 10. disputes mediated, 11. follow-up visits, 12. patrols,
# 13. the next level's areas' names (none below a grid), 14. the unread badge,
# 15. the micro-wishes' figures, 16. the active offers of the area (wishes/dashboard.py).
# Whole districts on PostgreSQL read the tallies instead of 6, 7, 9 and 11: the issues'
# (collected and resolved at once), the resolve times', the visits' and the visited issues'.
@pytest.mark.parametrize(
    ("who", "queries"),
    [
        ("staff", 16),
        ("official", 16),
        ("grid_worker", 15),
        ("district_official", 16),
        ("admin_user", 14),  # no assignments to read (3), no area of their own (4)
    ],
)
def test_it_draws_the_dashboard_in_the_same_queries_at_any_size(
    client,
    request,
    courtyard,
    other_courtyard,
    staff,
    grid_worker,
    django_assert_num_queries,
    who,
    queries,
):
    client.force_login(request.getfixturevalue(who))
    codes = ["road", "dispute", "wage_arrears", "electrical"]
    statuses = [S.COLLECTED, S.LISTED, S.IN_PROGRESS, S.RESOLVED, S.REVISITED]
    for n in (5, 60):
        Issue.objects.all().delete()
        for k in range(n):
            issue = IssueFactory(
                courtyard=(courtyard, other_courtyard)[k % 2],
                category=category(codes[k % 4]),
                status=statuses[k % 5],
                created_at=ago(k % 40),
                resolved_at=ago(k % 20) if statuses[k % 5] in Issue.CLOSED_STATUSES else None,
                due_at=ago(k % 7 - 3),
                created_by=grid_worker,
                source=(Issue.Source.VISIT, Issue.Source.PATROL)[k % 2],
            )
            if k % 3 == 0:
                FollowUpFactory(
                    issue=issue, assignee=staff, done_at=ago(1), satisfaction="satisfied"
                )
            if k % 4 == 0:
                MediationFactory(issue=issue, mediator=staff)
        with django_assert_num_queries(queries):
            r = client.get(URL)
        assert r.status_code == 200
        assert r.context["t"]["collected"] > 0


@pytest.fixture
def four_communities(community, grid_worker):
    """Three communities of the official's subdistrict that differ in every column (the
    official's own, with no issues, has no row)."""

    def issues_in(name: str, *kinds: str) -> None:
        yard = CourtyardFactory(
            grid__community=CommunityFactory(subdistrict=community.subdistrict, name=name)
        )
        for kind in kinds:
            IssueFactory(
                courtyard=yard,
                created_at=ago(5),
                created_by=grid_worker,
                **{
                    "open": {"status": S.LISTED, "due_at": ago(-5)},
                    "overdue": {"status": S.LISTED, "due_at": ago(1)},
                    "on time": {"status": S.RESOLVED, "due_at": ago(-5), "resolved_at": ago(2)},
                }[kind],
            )

    issues_in("1号社区", "open", "open", "open")
    issues_in("2号社区", "overdue")
    issues_in("3号社区", "on time", "on time")


def area_order(r) -> list[str]:
    """The communities as the table draws them, top to bottom."""
    table = r.content.decode().split('data-testid="area-table"')[1].split("</table>")[0]
    return re.findall(r'<tr>\s*<td><a href="\?community=\d+[^"]*">([^<]+)</a>', table)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("collected", ["2号社区", "3号社区", "1号社区"]),
        ("-collected", ["1号社区", "3号社区", "2号社区"]),
        ("name", ["1号社区", "2号社区", "3号社区"]),
        ("-name", ["3号社区", "2号社区", "1号社区"]),
        ("-open", ["1号社区", "2号社区", "3号社区"]),
        ("open", ["3号社区", "2号社区", "1号社区"]),
        ("-resolution_rate", ["3号社区", "1号社区", "2号社区"]),
        ("resolved", ["1号社区", "2号社区", "3号社区"]),
    ],
)
def test_it_sorts_the_area_table_by_the_column_asked_for(
    client, official, four_communities, sort, order
):
    client.force_login(official)

    r = client.get(URL, {"sort": sort})

    assert r.status_code == 200
    assert area_order(r) == order
    # The column's heading offers the other direction.
    column = sort.lstrip("-")
    other = column if sort.startswith("-") else f"-{column}"
    assert f'sort={other}">' in r.content.decode()


@pytest.mark.parametrize("sort", ["", "bogus", "-overdue"])
def test_it_puts_the_most_overdue_area_first_unless_asked_otherwise(
    client, official, four_communities, sort
):
    client.force_login(official)

    r = client.get(URL, {"sort": sort} if sort else {})

    assert r.status_code == 200
    assert area_order(r)[0] == "2号社区"


def test_it_shows_a_user_without_a_role_an_empty_dashboard(client, data):
    from grids.tests.factories import UserFactory

    client.force_login(UserFactory())

    r = client.get(URL)

    assert r.status_code == 200
    assert r.context["t"]["collected"] == 0
    assert r.context["child_rows"] == []


def test_it_shows_a_worker_of_two_grids_both(client, grid_worker, other_grid, data):
    grid_worker.grid_worker.grids.add(other_grid)
    grid_worker._grassroots_scope = None
    client.force_login(grid_worker)

    r = client.get(URL)

    assert r.status_code == 200
    assert r.context["area"] is None
    assert r.context["child"] == "grid"
    assert r.context["t"]["collected"] == EXPECTED["staff"]["collected"]
    for name, href, _shown in FIGURE.findall(r.content.decode()):
        assert figure_matches_list(client, name, href, r.context["t"]), name


# --- Visits and mediations carry their issue's area -----------------------------------------


def _area(row) -> tuple[int, int, int, int]:
    return (row.grid_id, row.community_id, row.subdistrict_id, row.district_id)


def test_scheduled_visits_and_recorded_mediations_carry_the_issue_area(staff, grid):
    issue = IssueFactory(grid=grid, category=category("dispute"), status="in_progress")
    mediation = services.record_mediation(
        issue,
        by=staff,
        mediated_on=timezone.localdate(),
        parties="甲、乙",
        method="in_person",
        outcome="agreement",
        agreement="和解",
    )
    Issue.objects.filter(pk=issue.pk).update(status="resolved", resolved_at=timezone.now())
    issue.refresh_from_db()

    assert services.schedule_follow_ups(issue) > 0
    expected = _area(issue)
    assert _area(mediation) == expected
    assert {_area(v) for v in FollowUp.objects.filter(issue=issue)} == {expected}


def test_moving_an_issue_in_the_admin_moves_its_visits_and_mediations(
    client, admin_user, grid, other_community
):
    issue = IssueFactory(grid=grid)
    visit = FollowUpFactory(issue=issue)
    mediation = MediationFactory(issue=issue)
    elsewhere = CourtyardFactory(grid__community=other_community)
    issue.courtyard = elsewhere
    request = type("Request", (), {"user": admin_user})()
    IssueAdmin(Issue, admin.site).save_model(request, issue, form=None, change=True)

    visit.refresh_from_db()
    mediation.refresh_from_db()
    assert _area(visit) == _area(issue) == _area(mediation)
    assert visit.community_id == other_community.pk
