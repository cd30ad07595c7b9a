"""The residents' side in real Chromium: the printed card's QR code, a Tibetan report from a
390×844 phone, tracking, the staff's reply and resolve, the texts, a replaced code, a refusal."""

import re

import pytest
from PIL import Image

from conftest import SCREENSHOTS, login, shot
from grids.tests.factories import CourtyardFactory
from issues.models import Issue, Notification
from issues.tests.factories import IssueFactory
from residents.models import CourtyardLink
from residents.tests.factories import ServiceNumberFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def eager_tasks():
    """Tasks run inline in the live server's thread: the texts are written as they are sent."""
    from grassroots.celery import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.fixture
def site(settings, live_server, tmp_path, eager_tasks):
    settings.SITE_URL = live_server.url
    settings.SMS_BACKEND = "grassroots.sms.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"
    settings.MEDIA_ROOT = tmp_path / "media"
    from django.core.cache import cache

    cache.clear()
    return settings


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "pothole.jpg"
    Image.new("RGB", (800, 600), (120, 110, 100)).save(path, "JPEG")
    return path


@pytest.fixture
def directory(community):
    for i, (name, name_bo, phone, hours) in enumerate(
        [
            ("家政服务", "ཁྱིམ་ཚང་ཞབས་ཞུ།", "0891-6331001", "9:00–18:00"),
            ("健康卫生", "འཕྲོད་བསྟེན།", "0891-6331002", "24h"),
            ("水电维修", "ཆུ་གློག་ཉམས་གསོ།", "0891-6331003", "8:30–20:00"),
        ]
    ):
        ServiceNumberFactory(
            community=community, name=name, name_bo=name_bo, phone=phone, hours=hours, order=i
        )


@pytest.fixture
def printer(browser, live_server, staff):
    """The staff's desktop, drawing at print resolution (three pixels to a CSS pixel)."""
    context = browser.new_context(
        viewport={"width": 1000, "height": 1200}, device_scale_factor=3, locale="zh-CN"
    )
    page = context.new_page()
    login(page, live_server, "staff")
    yield page
    context.close()


def decode_card_qr(page, live_server, courtyard, path=None) -> str:
    """Print the card (A4, print media), photograph it, and read its QR code back."""
    page.goto(f"{live_server.url}/cards/courtyards/{courtyard.pk}/")
    page.emulate_media(media="print")
    card = page.get_by_test_id("service-card").first
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = path or SCREENSHOTS / "service-card-print.png"
    card.screenshot(path=str(path))
    page.emulate_media(media="screen")
    import zxingcpp

    codes = zxingcpp.read_barcodes(Image.open(path))
    assert len(codes) == 1, codes
    return codes[0].text


def test_a_resident_reports_in_tibetan_and_hears_back(
    browser, page, printer, phone, live_server, site, grid_worker, courtyard, directory, photo_file
):
    courtyard.leader_name, courtyard.leader_phone = "次仁", "13908910000"
    courtyard.save()
    login(page, live_server, "staff")
    url = decode_card_qr(printer, live_server, courtyard)
    link = CourtyardLink.objects.current().get(courtyard=courtyard)
    assert url == f"{live_server.url}/r/{link.token}/"
    # The whole community's cards, four A6 cards to an A4 sheet, as printed.
    for name in ("西嘎奴大院", "鲁固大院", "吉堆大院"):
        CourtyardFactory(grid=courtyard.grid, name=name)
    printer.goto(f"{live_server.url}/cards/communities/{courtyard.grid.community_id}/")
    printer.emulate_media(media="print")
    assert printer.get_by_test_id("service-card").count() == 4
    printer.locator(".sheet").first.screenshot(path=str(SCREENSHOTS / "service-cards-a4-print.png"))
    printer.emulate_media(media="screen")

    # The resident scans it: the report page, switched to Tibetan.
    phone.goto(url)
    shot(phone, "report-zh-phone.png")
    phone.click("button[value=bo]")
    assert phone.locator("html").get_attribute("lang") == "bo"
    phone.get_by_label(re.compile("ལམ་ཁ་དང་ས་ངོས")).check()
    phone.fill("#id_description", "ཁྱམས་རའི་སྒོ་ཁར་ལམ་ཁ་ཆག་འདུག")
    phone.set_input_files("#id_photos", str(photo_file))
    phone.fill("#id_name", "སྒྲོལ་མ།")
    phone.fill("#id_phone", "13908912345")
    shot(phone, "report-bo-phone.png")
    phone.click("button.p-send")

    reference = phone.get_by_test_id("reference").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    shot(phone, "report-sent-phone.png")
    issue = Issue.objects.get(reference=reference)
    assert (issue.source, issue.status, issue.courtyard) == ("qr", "collected", courtyard)
    assert issue.resident_language == "bo"
    assert issue.attachments.count() == 1

    # Tracking, first in Tibetan, then in Chinese: received.
    phone.click(f"a[href='/t/{reference}/']")
    assert phone.get_by_test_id("state").inner_text() == "འབྱོར་ཟིན།"
    phone.click("button[value=zh-hans]")
    assert phone.get_by_test_id("state").inner_text() == "已收到"

    # The grid worker is told.
    assert Notification.objects.filter(recipient=grid_worker, issue=issue).exists()
    worker = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    worker_page = worker.new_page()
    login(worker_page, live_server, "gridworker")
    assert worker_page.get_by_test_id("unread-badge").inner_text().startswith("1")
    worker_page.goto(f"{live_server.url}/notifications/")
    assert reference in worker_page.content()
    worker.close()

    # Staff list it, start it; resolving is refused without a reply, accepted with one.
    page.goto(f"{live_server.url}/issues/{reference}/")
    page.get_by_test_id("action-list").locator("button[type=submit]").click()
    page.get_by_test_id("action-start").locator("button[type=submit]").click()
    page.get_by_test_id("action-resolve").locator("textarea").first.fill("路面已修补。")
    page.get_by_test_id("action-resolve").locator("button[type=submit]").click()
    page.get_by_text("此诉求来自居民，办结前请先答复居民。").first.wait_for()
    issue.refresh_from_db()
    assert issue.status == "in_progress"
    page.get_by_test_id("reply-form").locator("textarea").fill("路面已修补，感谢您的反映。")
    page.get_by_test_id("reply-form").locator("button[type=submit]").click()
    page.get_by_test_id("public-entry").wait_for()
    page.get_by_test_id("action-resolve").locator("textarea").first.fill("路面已修补。")
    page.get_by_test_id("action-resolve").locator("button[type=submit]").click()
    page.get_by_test_id("status").filter(has_text="已办结").wait_for()
    shot(page, "issue-reply-desktop.png")
    issue.refresh_from_db()
    assert issue.status == "resolved"

    # The resident's tracking page: done, with the reply; and the texts went out.
    phone.reload()
    assert phone.get_by_test_id("state").inner_text() == "已办结"
    assert "路面已修补，感谢您的反映。" in phone.get_by_test_id("reply").inner_text()
    assert "སྒྲོལ་མ" not in phone.content()
    assert "13908912345" not in phone.content()
    shot(phone, "track-phone.png")
    texts = sorted(p.read_text(encoding="utf-8") for p in (site.SMS_FILE_PATH).iterdir())
    assert len(texts) == 4  # listed, started, the reply, resolved
    assert all(t.startswith("13908912345\n") for t in texts)
    assert all(f"{live_server.url}/t/{reference}/" in t for t in texts)
    assert any("ལེགས་གྲུབ་ཟིན།" in t for t in texts)  # in the resident's language


def test_a_replaced_code_tells_the_resident_to_scan_the_new_card(
    printer, phone, live_server, site, courtyard, tmp_path
):
    old_url = decode_card_qr(printer, live_server, courtyard, tmp_path / "before.png")
    printer.goto(f"{live_server.url}/cards/courtyards/{courtyard.pk}/replace/")
    printer.get_by_test_id("confirm-replace").click()
    new_url = decode_card_qr(printer, live_server, courtyard, tmp_path / "after.png")
    assert new_url != old_url

    phone.goto(old_url)
    assert (
        "此二维码已更换，请扫描大院门口的新二维码" in phone.get_by_test_id("replaced").inner_text()
    )
    shot(phone, "report-replaced-phone.png")
    phone.goto(new_url)
    assert phone.get_by_test_id("report-form").is_visible()


def test_the_rate_limit_refusal_page(phone, live_server, site, courtyard):
    site.RESIDENT_REPORTS_PER_HOUR_PER_ADDRESS = 1
    link = CourtyardLink.objects.create(courtyard=courtyard)
    for _ in range(2):
        phone.goto(f"{live_server.url}/r/{link.token}/")
        phone.locator("input[name=category]").first.check()
        phone.fill("#id_description", "楼道灯坏了。")
        phone.click("button.p-send")

    assert "短时间内从这里提交的诉求过多" in phone.get_by_test_id("refused").inner_text()
    shot(phone, "report-refused-phone.png")
    assert Issue.objects.count() == 1


def test_a_merged_duplicate_follows_its_original(page, phone, live_server, site, staff, courtyard):
    original = IssueFactory(courtyard=courtyard, status="in_progress", source="qr")
    duplicate = IssueFactory(courtyard=courtyard, source="qr")
    login(page, live_server, "staff")

    page.goto(f"{live_server.url}/issues/{duplicate.reference}/")
    form = page.get_by_test_id("action-close")
    form.locator("input[value=duplicate]").check()
    form.locator("input[name=close-duplicate_of]").fill(original.reference)
    form.locator("textarea").fill("与同院居民反映的同一问题合并办理。")
    shot(page, "issue-close-desktop.png")
    form.locator("button[type=submit]").click()
    page.get_by_test_id("outcome").wait_for()
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.duplicate_of) == ("closed", original)

    page.goto(f"{live_server.url}/issues/{original.reference}/")
    assert "2位居民反映" in page.get_by_test_id("residents-reporting").inner_text()
    page.get_by_test_id("reply-form").locator("textarea").fill("已修复，谢谢大家。")
    page.get_by_test_id("reply-form").locator("button[type=submit]").click()
    page.get_by_test_id("public-entry").wait_for()
    page.get_by_test_id("action-resolve").locator("textarea").first.fill("路面已修补。")
    page.get_by_test_id("action-resolve").locator("button[type=submit]").click()
    page.get_by_test_id("status").filter(has_text="已办结").wait_for()

    phone.goto(f"{live_server.url}/t/{duplicate.reference}/")
    assert phone.get_by_test_id("state").inner_text() == "已办结"
    assert phone.get_by_test_id("merged").is_visible()
    assert "2位居民反映" in phone.get_by_test_id("reporters").inner_text()
    replies = phone.get_by_test_id("reply").all_inner_texts()
    assert any("已修复，谢谢大家。" in r for r in replies)
    shot(phone, "track-duplicate-phone.png")
