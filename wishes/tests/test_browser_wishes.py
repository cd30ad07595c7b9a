"""A micro-wish from the courtyard to the return visit, in real Chromium.

A grid worker logs it on a phone, staff verify and dispatch it at a desk, a registered party
member takes it on a phone and marks it fulfilled with a photo, and the grid worker records
the beneficiary's satisfaction.
"""

from collections.abc import Iterator

import pytest
from PIL import Image

from conftest import login, shot
from wishes.models import Offer, Provider, Wish
from wishes.tests.factories import OfferFactory, kind

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def new_phone(browser) -> Iterator[object]:
    """Another phone: each person of the story has their own."""
    contexts = []

    def make() -> object:
        context = browser.new_context(
            viewport={"width": 390, "height": 844},
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            device_scale_factor=2,
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "haircut.jpg"
    Image.new("RGB", (800, 600), (150, 120, 90)).save(path, "JPEG")
    return path


def test_it_takes_a_wish_from_the_courtyard_to_the_return_visit(
    phone,
    new_phone,
    page,
    live_server,
    grid_worker,
    staff,
    provider,
    community,
    courtyard,
    photo_file,
):
    offer = OfferFactory(
        provider=Provider.objects.get(user=provider),
        community=community,
        kind=kind("daily_care"),
        title="上门理发",
        place="上门",
        time_text="周末",
    )
    OfferFactory(community=community, kind=kind("daily_care"), title="代买代送生活用品")

    # The grid worker, in the courtyard, logs a wish from the capture screen.
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.get_by_test_id("log-wish").click()
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_kind", str(kind("daily_care").pk))
    phone.fill("#id_title", "想请人上门理发")
    phone.fill("#id_description", "老人腿脚不便，很久没有理发了。")
    phone.fill("#id_beneficiary_name", "次仁卓玛")
    phone.fill("#id_beneficiary_phone", "13812345678")
    shot(phone, "wish-new-phone.png")
    phone.click("button[type=submit].big")
    wish = Wish.objects.get()
    assert phone.get_by_test_id("status").inner_text() == "已收集"
    assert (wish.created_by, wish.status) == (grid_worker, "collected")

    # Staff see it counted on the dashboard, then verify it and dispatch it in one step.
    login(page, live_server, "staff")
    page.goto(f"{live_server.url}/dashboard/")
    assert figure(page, "collected") == "1"
    assert figure(page, "fulfilled") == "0"
    page.goto(f"{live_server.url}{wish.get_absolute_url()}")
    page.get_by_test_id("action-verify").locator("button").click()
    page.get_by_test_id("action-dispatch").click()
    page.get_by_test_id(f"offer-{offer.pk}").locator("input").check()
    shot(page, "wish-dispatch-desktop.png")
    page.click("button[type=submit].big")
    assert page.get_by_test_id("status").inner_text() == "已派单"
    wish.refresh_from_db()
    assert wish.status == "dispatched"
    assert wish.dispatches.get().offer == offer

    # The party member, on a phone, sees it dispatched, takes it, then marks it fulfilled.
    member = new_phone()
    login(member, live_server, "provider")
    assert member.url.endswith("/wishes/mine/")
    shot(member, "wish-mine-phone.png")
    member.get_by_test_id(f"mine-{wish.reference}").click()
    assert "13812345678" not in member.content()
    assert "138****5678" in member.get_by_test_id("beneficiary-phone").inner_text()
    member.get_by_test_id("action-take").locator("button").click()
    assert member.get_by_test_id("beneficiary-phone").inner_text() == "13812345678"
    complete = member.get_by_test_id("action-complete")
    complete.locator("summary").click()
    complete.locator("textarea[name=complete-note]").fill("已上门为老人理发，老人很高兴。")
    complete.locator("input[name=complete-photos]").set_input_files(str(photo_file))
    shot(member, "wish-complete-phone.png")
    complete.locator("button[type=submit]").click()
    assert member.get_by_test_id("status").inner_text() == "已完成"
    wish.refresh_from_db()
    assert (wish.status, wish.photos.count()) == ("done", 1)
    assert wish.dispatches.get().state == "done"

    # The grid worker goes back and records the beneficiary's satisfaction.
    phone.goto(f"{live_server.url}{wish.get_absolute_url()}")
    form = phone.get_by_test_id("action-record_satisfaction")
    form.locator("input[value=satisfied]").check()
    form.locator("textarea").fill("老人说理得很好。")
    form.locator("button[type=submit]").click()
    assert phone.get_by_test_id("status").inner_text() == "已回访"
    shot(phone, "wish-revisited-phone.png")
    wish.refresh_from_db()
    assert (wish.status, wish.satisfaction) == ("revisited", "satisfied")
    assert list(wish.events.values_list("action", flat=True)) == [
        "create",
        "verify",
        "dispatch",
        "take",
        "complete",
        "record_satisfaction",
    ]
    assert Offer.objects.with_open_count().get(pk=offer.pk).open_count == 0

    # The dashboard's figures have moved, and each opens its list with that many wishes.
    page.goto(f"{live_server.url}/dashboard/")
    assert (figure(page, "collected"), figure(page, "verified")) == ("1", "1")
    assert figure(page, "fulfilled") == "1"
    assert figure(page, "offers") == "2"
    shot(page, "wish-dashboard-desktop.png")
    for name in ("collected", "verified", "fulfilled"):
        page.goto(f"{live_server.url}/dashboard/")
        page.locator(f"[data-wish-figure={name}]").click()
        page.wait_for_load_state("networkidle")
        assert page.get_by_test_id("wish-row").count() == 1, name
        assert wish.reference in page.get_by_test_id("wish-row").inner_text()


def figure(page, name: str) -> str:
    return page.locator(f"[data-wish-figure={name}] .n").inner_text().strip()
