"""The admin in real Chromium at desktop size: the index and adding a grid worker."""

import pytest

from conftest import login, shot
from grids.models import GridWorker

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
