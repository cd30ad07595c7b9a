"""The admin in real Chromium at desktop size: the index, adding a grid worker, and its
Content-Security-Policy, under which nothing is blocked."""

import pytest

from conftest import login, shot
from grids.models import GridWorker
from grids.tests.factories import UserFactory
from issues.tests.factories import IssueFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_administrator_adds_a_grid_worker_in_one_form(
    page, live_server, admin_user, grid, other_grid
):
    login(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/")

    assert page.title() == "站点管理 | 基层治理平台"
    areas = page.locator("#module-grids, .app-grids").first.locator("th a").all_inner_texts()
    assert areas[:5] == ["区/县", "街道/乡镇", "社区/村", "网格", "大院"]
    shot(page, "admin-index-desktop.png")

    page.goto(f"{live_server.url}/admin/grids/gridworker/add/")
    page.fill("input[name=full_name]", "次仁卓玛")
    page.fill("input[name=phone]", "13989005678")
    page.fill("input[name=username]", "cirenzhuoma")
    page.fill("input[name=password1]", "Lhasa-grid-2026")
    page.fill("input[name=password2]", "Lhasa-grid-2026")
    for name in ["第一网格", "第二网格"]:
        page.locator(".field-grids .select2-selection").click()
        page.keyboard.type(name)
        page.locator(".select2-results__option", has_text=name).click()
    shot(page, "admin-grid-worker-add-desktop.png")
    page.click("input[name=_save]")
    page.wait_for_url("**/admin/grids/gridworker/")

    assert "次仁卓玛" in page.content()
    worker = GridWorker.objects.get(user__username="cirenzhuoma")
    assert set(worker.grids.all()) == {grid, other_grid}


def watch_violations(page) -> list[str]:
    """Every CSP violation the page reports, from the console and from the DOM event."""
    seen: list[str] = []
    page.on(
        "console",
        lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective"
        " + ' ' + e.blockedURI));"
    )
    return seen


def test_the_admin_works_under_its_policy(page, live_server, courtyard):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    issue = IssueFactory(courtyard=courtyard)
    violations = watch_violations(page)

    page.goto(f"{live_server.url}/admin/login/")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", "grassroots-test")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    policy = page.request.get(f"{live_server.url}/admin/").headers["content-security-policy"]
    assert "script-src 'self';" in policy

    # The changelist with its filter sidebar, a filter chosen from it.
    page.goto(f"{live_server.url}/admin/issues/issue/")
    page.wait_for_load_state("networkidle")
    assert page.locator("#changelist-filter").is_visible()
    page.click("#changelist-filter a[href*='status__exact=collected']")
    page.wait_for_load_state("networkidle")
    assert issue.reference in page.content()

    # The change form: its date picker and clock open (scripts that build elements and styles).
    page.goto(f"{live_server.url}/admin/issues/issue/{issue.pk}/change/")
    page.wait_for_load_state("networkidle")
    page.locator(".datetimeshortcuts a[id^=calendarlink]").first.click()
    assert page.locator(".calendarbox").first.is_visible()
    page.keyboard.press("Escape")
    page.locator(".datetimeshortcuts a[id^=clocklink]").first.click()
    assert page.locator(".clockbox").first.is_visible()
    # The autocomplete widget (select2) opens and lists a choice.
    page.locator(".select2-selection").first.click()
    page.wait_for_selector(".select2-results__option")

    assert violations == []
