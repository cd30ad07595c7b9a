"""Community staff's triage and the official's dashboard in real Chromium at desktop size."""

import csv
import io
import re

import pytest
from django.utils import timezone

from conftest import login, shot
from issues.models import Issue, IssueEvent
from issues.tests.factories import FollowUpFactory, IssueFactory, MediationFactory, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def triage(staff, assignee, grid, other_grid, courtyard, other_courtyard):
    """A community's mixed list: what a staff member meets on a Monday morning."""
    made = {
        "road_urgent": IssueFactory(
            courtyard=courtyard, category=category("road"), urgency="urgent", title="主路井盖缺失"
        ),
        "road_other_grid": IssueFactory(
            courtyard=other_courtyard, category=category("road"), title="西巷路面坑洼"
        ),
        "parking": IssueFactory(
            courtyard=courtyard, category=category("parking"), title="电动车堵塞消防通道"
        ),
        "road_listed": IssueFactory(
            courtyard=courtyard,
            category=category("road"),
            status="listed",
            assignee=assignee,
            title="台阶破损",
        ),
    }
    for n in range(3):
        made[f"new{n}"] = IssueFactory(
            courtyard=other_courtyard, category=category("sanitation"), title=f"垃圾桶满溢 {n}"
        )
    return made


def test_it_filters_by_two_criteria(page, live_server, staff, triage, grid):
    login(page, live_server, "staff")
    page.select_option("#id_category", str(category("road").pk))
    page.wait_for_load_state("networkidle")
    page.select_option("#id_grid", str(grid.pk))
    page.wait_for_load_state("networkidle")
    page.wait_for_url(re.compile(rf"grid={grid.pk}"))

    rows = page.locator("table.issues tbody tr").all_inner_texts()
    titles = sorted(
        t
        for t in ("主路井盖缺失", "台阶破损", "西巷路面坑洼", "电动车堵塞消防通道")
        if any(t in r for r in rows)
    )
    assert titles == ["主路井盖缺失", "台阶破损"]
    # The URL shares the exact view, without the empty filters.
    assert f"grid={grid.pk}" in page.url
    assert "category=" in page.url
    assert "q=" not in page.url
    shot(page, "issue-list-desktop.png")


def test_it_bulk_assigns_three_issues(page, live_server, staff, assignee, triage):
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/issues/?category={category('sanitation').pk}")
    for n in range(3):
        page.check(f'input[name=issue][value="{triage[f"new{n}"].reference}"]')
    page.select_option("#bulk-action", "list")
    page.select_option("#bulk-assignee", str(assignee.pk))
    page.click(".bulkbar button[type=submit]")
    page.wait_for_load_state("networkidle")

    assert "3" in page.locator(".messages .success").inner_text()
    for n in range(3):
        issue = Issue.objects.get(pk=triage[f"new{n}"].pk)
        assert (issue.status, issue.assignee) == (Issue.Status.LISTED, assignee)
        assert issue.events.filter(action=IssueEvent.Action.LIST).count() == 1


def test_it_lists_starts_and_resolves_an_issue_from_its_page(
    page, live_server, staff, assignee, triage
):
    issue = triage["parking"]
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/issues/{issue.reference}/")
    form = page.get_by_test_id("action-list")
    form.locator("select").select_option(str(assignee.pk))
    form.locator("button").click()
    page.get_by_test_id("action-start").locator("button").click()
    resolve = page.get_by_test_id("action-resolve")
    resolve.locator("textarea[name=resolve-resolution]").fill("已清理通道并设置禁停标识。")
    # The issue has a resident: the answer to them goes with the resolution.
    resolve.locator("textarea[name=resolve-reply]").fill("通道已清理，谢谢您的反映。")
    shot(page, "issue-page-desktop.png")
    resolve.locator("button").click()
    page.get_by_test_id("action-reopen").wait_for()

    issue.refresh_from_db()
    assert issue.status == Issue.Status.RESOLVED
    assert issue.resolution == "已清理通道并设置禁停标识。"
    assert list(issue.events.values_list("action", flat=True)) == [
        "list",
        "start",
        "reply",
        "resolve",
    ]
    assert "已清理通道并设置禁停标识。" in page.get_by_test_id("timeline").inner_text()


def test_it_refuses_a_stale_action_from_a_second_tab(page, context, live_server, staff, triage):
    issue = triage["road_listed"]
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/issues/{issue.reference}/")
    second = context.new_page()
    second.goto(f"{live_server.url}/issues/{issue.reference}/")
    second.get_by_test_id("action-start").locator("button").click()
    second.get_by_test_id("action-resolve").wait_for()

    # The first tab still shows "start": the click is refused and says who acted first.
    page.get_by_test_id("action-start").locator("button").click()
    alert = page.locator(".alert-error").first
    alert.wait_for()
    assert "拉姆" in alert.inner_text() or "staff" in alert.inner_text()
    shot(page, "issue-stale-desktop.png")
    assert issue.events.filter(action="start").count() == 1


def test_it_exports_the_filtered_list(page, live_server, staff, triage):
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/issues/?category={category('road').pk}")
    with page.expect_download() as download:
        page.click("text=CSV")
    text = download.value.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    titles = sorted(r[1] for r in rows[1:])
    assert titles == ["主路井盖缺失", "台阶破损", "西巷路面坑洼"]


def test_the_official_drills_down_and_lands_on_a_matching_list(
    page, live_server, official, community, courtyard, staff
):
    now = timezone.now()
    dispute = IssueFactory(
        courtyard=courtyard,
        category=category("dispute"),
        status="resolved",
        resolved_at=now,
        due_at=now + timezone.timedelta(days=1),
    )
    MediationFactory(issue=dispute, mediator=staff)
    FollowUpFactory(
        issue=dispute,
        assignee=staff,
        due_at=now,
        done_at=now,
        satisfaction="satisfied",
        method="phone",
    )
    for n in range(4):
        IssueFactory(courtyard=courtyard, title=f"路灯不亮 {n}")
    IssueFactory(courtyard=courtyard, status="in_progress", due_at=now - timezone.timedelta(1))

    login(page, live_server, "official")
    assert "/dashboard/" in page.url
    shot(page, "dashboard-desktop.png")
    page.click(f"[data-testid=area-table] a:text('{community.name}')")
    page.wait_for_load_state("networkidle")
    assert f"community={community.pk}" in page.url
    collected = int(page.locator("[data-figure=collected] .n").inner_text().replace(",", ""))
    assert collected == 6
    page.click("[data-figure=collected]")
    page.wait_for_load_state("networkidle")
    count = page.get_by_test_id("result-count").inner_text()
    assert re.sub(r"\D", "", count) == str(collected)

    phone = page.context.browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        device_scale_factor=2,
    )
    small = phone.new_page()
    login(small, live_server, "official")
    shot(small, "dashboard-phone.png")
    phone.close()


def test_the_district_official_drills_down_from_the_district_to_a_community(
    page, live_server, district_official, community, courtyard, staff
):
    """A district's dashboard is read from the tallies on PostgreSQL; each level down is
    counted from the issues. Every level's figure matches the list it opens."""
    now = timezone.now()
    for n in range(3):
        IssueFactory(courtyard=courtyard, title=f"楼道堆物 {n}")
    IssueFactory(courtyard=courtyard, status="resolved", resolved_at=now, due_at=now)

    login(page, live_server, "districtofficial")
    assert "/dashboard/" in page.url
    for link in (community.subdistrict.name, community.name, None):
        collected = int(page.locator("[data-figure=collected] .n").inner_text().replace(",", ""))
        assert collected == 4
        if link:
            page.click(f"[data-testid=area-table] a:text('{link}')")
            page.wait_for_load_state("networkidle")
    page.click("[data-figure=resolved]")
    page.wait_for_load_state("networkidle")
    assert re.sub(r"\D", "", page.get_by_test_id("result-count").inner_text()) == "1"


def test_the_official_sees_why_a_drilled_down_list_holds_its_issues(
    page, live_server, official, community, courtyard, staff
):
    now = timezone.now()
    for n, how in enumerate(["satisfied", "satisfied", "basically", "unsatisfied", "unsatisfied"]):
        issue = IssueFactory(
            courtyard=courtyard, status="resolved", resolved_at=now, title=f"楼道灯已修 {n}"
        )
        FollowUpFactory(
            issue=issue, assignee=staff, due_at=now, done_at=now, satisfaction=how, method="phone"
        )
    for n in range(4):
        IssueFactory(courtyard=courtyard, title=f"井盖松动 {n}")

    login(page, live_server, "official")
    page.check("input[name=period][value=year]")
    page.click("form[aria-label] button[type=submit]")
    page.wait_for_load_state("networkidle")
    satisfied = page.locator("[data-figure=visit_issues_satisfied]")
    assert "3" in satisfied.inner_text()
    satisfied.click()
    page.wait_for_load_state("networkidle")

    chips = page.get_by_test_id("chip")
    sentences = chips.all_inner_texts()
    assert any("本年度 · 回访满意的问题" in s for s in sentences)
    assert any(community.subdistrict.name in s for s in sentences)
    assert re.sub(r"\D", "", page.get_by_test_id("result-count").inner_text()) == "3"
    shot(page, "issue-list-chips-desktop.png")
    phone = page.context.browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        device_scale_factor=2,
    )
    small = phone.new_page()
    login(small, live_server, "official")
    small.goto(page.url)
    assert small.get_by_test_id("chips").is_visible()
    shot(small, "issue-list-chips-phone.png")
    phone.close()

    page.get_by_test_id("chip").filter(has_text="回访满意").click()
    page.wait_for_load_state("networkidle")

    assert "visit=" not in page.url
    assert not any("回访" in s for s in page.get_by_test_id("chip").all_inner_texts())
    # Every issue of the subdistrict, of every status: the list widened.
    assert re.sub(r"\D", "", page.get_by_test_id("result-count").inner_text()) == "9"

    # Refining with the form swaps the results, and the chips come along.
    page.select_option("#id_category", str(category("road").pk))
    page.get_by_test_id("chip").filter(has_text="类别：道路路面").wait_for()
    assert re.sub(r"\D", "", page.get_by_test_id("result-count").inner_text()) == "9"


def test_the_default_list_shows_no_empty_chip_row(page, live_server, staff, triage):
    login(page, live_server, "staff")
    assert not page.get_by_test_id("chips").is_visible()
    page.select_option("#id_urgency", "urgent")
    page.get_by_test_id("chip").filter(has_text="紧急程度：紧急").wait_for()
    assert page.get_by_test_id("chips").is_visible()
