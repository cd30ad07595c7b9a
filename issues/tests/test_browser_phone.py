"""The grid worker's screens in real Chromium on a 390×844 phone."""

import io
import os
import re

import pytest
from django.utils import timezone
from PIL import Image

from conftest import login, shot
from grids.models import Patrol
from issues.models import FollowUp, Issue, IssueEvent, Notification
from issues.tests.factories import FollowUpFactory, IssueFactory, category

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def photo_file(tmp_path):
    path = tmp_path / "road.jpg"
    img = Image.new("RGB", (800, 600), (120, 110, 100))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # camera make: must not survive the upload
    img.save(path, "JPEG", exif=exif)
    return path


def test_it_logs_a_concern_with_a_photo(phone, live_server, grid_worker, courtyard, photo_file):
    IssueFactory(courtyard=courtyard, category=category("sanitation"), title="垃圾清运不及时")
    login(phone, live_server, "gridworker")
    assert "/issues/mine/" in phone.url  # my-issues-phone.png: the folding groups' test

    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("road").pk))
    phone.fill("#id_title", "院内路面塌陷")
    phone.fill("#id_description", "三号楼前路面塌陷约半米，雨后积水，老人出行不便。")
    phone.fill("#id_resident_name", "卓玛")
    phone.fill("#id_resident_phone", "13908912345")
    phone.set_input_files("#id_photos", str(photo_file))
    shot(phone, "capture-phone.png")
    phone.click("button[type=submit].big")

    reference = phone.get_by_test_id("reference").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}", reference)
    shot(phone, "capture-done-phone.png")
    issue = Issue.objects.get(reference=reference)
    assert (issue.title, issue.courtyard) == ("院内路面塌陷", courtyard)
    assert issue.created_by == grid_worker
    attachment = issue.attachments.get()
    assert not Image.open(io.BytesIO(attachment.image.read())).getexif()
    assert issue.events.get().action == IssueEvent.Action.CREATE


def test_it_offers_the_open_issue_instead_of_a_duplicate(
    phone, live_server, grid_worker, courtyard
):
    existing = IssueFactory(
        courtyard=courtyard, category=category("parking"), title="楼道内电动车充电"
    )
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("parking").pk))
    hint = phone.get_by_test_id("duplicates")
    hint.wait_for()
    assert existing.reference in hint.inner_text()
    phone.fill("#id_title", "又有人在楼道充电")
    phone.fill("#id_description", "二单元楼道晚上有三辆电动车在充电。")
    shot(phone, "capture-duplicate-phone.png")
    phone.get_by_test_id(f"add-to-{existing.reference}").click()

    assert existing.reference in phone.get_by_test_id("reference").inner_text()
    assert Issue.objects.count() == 1
    report = existing.events.get(action=IssueEvent.Action.REPORT)
    assert "二单元楼道晚上有三辆电动车在充电" in report.note


def test_it_tells_the_staff_of_an_urgent_issue(
    phone, browser, live_server, grid_worker, staff, courtyard
):
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("electrical").pk))
    # The category's default urgency is chosen for the worker.
    assert phone.is_checked("input[name=urgency][value=urgent]")
    phone.fill("#id_title", "屋顶电线裸露")
    phone.click("button[type=submit].big")
    phone.get_by_test_id("reference").wait_for()

    assert Notification.objects.get(recipient=staff).kind == Notification.Kind.URGENT
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = desk.new_page()
    login(page, live_server, "staff")
    assert page.get_by_test_id("unread-badge").inner_text().startswith("1")
    page.click(".bell")
    assert "屋顶电线裸露" in page.content()
    shot(page, "notifications-desktop.png")
    desk.close()


def test_it_records_a_patrol_with_a_hazard(phone, live_server, grid_worker, grid, courtyard):
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/patrols/")
    phone.check("input[name=kind][value=flood]")
    phone.click("form[action$='/patrols/start/'] button[type=submit]")
    phone.get_by_test_id("log-hazard").click()
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("drainage").pk))
    phone.fill("#id_title", "院门口排水沟堵塞")
    phone.click("button[type=submit].big")
    phone.get_by_test_id("reference").wait_for()
    patrol = Patrol.objects.get()
    phone.goto(f"{live_server.url}{patrol.get_absolute_url()}")
    shot(phone, "patrol-phone.png")
    phone.click("form[action$='/end/'] button[type=submit]")
    phone.wait_for_load_state("networkidle")

    patrol.refresh_from_db()
    assert patrol.kind == Patrol.Kind.FLOOD
    assert patrol.ended_at is not None
    hazard = patrol.hazards.get()
    assert (hazard.source, hazard.title) == (Issue.Source.PATROL, "院门口排水沟堵塞")


def test_it_records_a_follow_up_visit(phone, live_server, grid_worker, courtyard):
    visit = FollowUpFactory(
        issue__courtyard=courtyard,
        assignee=grid_worker,
        due_at=timezone.now() - timezone.timedelta(days=1),
    )
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/followups/")
    card = phone.get_by_test_id(f"visit-{visit.pk}")
    card.locator("input[value=phone]").check()
    card.locator("input[value=satisfied]").check()
    card.locator("textarea").fill("电话回访，住户表示路面已修好。")
    shot(phone, "followups-phone.png")
    card.locator("button[type=submit]").click()
    phone.wait_for_load_state("networkidle")

    visit.refresh_from_db()
    assert (visit.method, visit.satisfaction) == (
        FollowUp.Method.PHONE,
        FollowUp.Satisfaction.SATISFIED,
    )
    visit.issue.refresh_from_db()
    assert visit.issue.status == Issue.Status.REVISITED


def test_it_keeps_what_was_typed_when_the_input_is_bad(
    phone, live_server, grid_worker, courtyard, tmp_path
):
    not_a_photo = tmp_path / "photo.jpg"
    not_a_photo.write_bytes(b"%PDF-1.4 this is not an image")
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.fill("#id_description", "下水道返味。")
    phone.fill("#id_resident_phone", "12345")
    phone.set_input_files("#id_photos", str(not_a_photo))
    phone.click("button[type=submit].big")

    assert phone.locator(".alert-error").is_visible()
    assert phone.input_value("#id_description") == "下水道返味。"
    assert phone.input_value("#id_resident_phone") == "12345"
    errors = phone.locator(".errorlist").all_inner_texts()
    assert any("photo.jpg" in e for e in errors)
    assert len(errors) >= 4  # category, title, phone, photo
    shot(phone, "capture-errors-phone.png")
    assert Issue.objects.count() == 0


def test_it_refuses_an_oversized_photo_and_edited_choices(
    browser, live_server, grid_worker, courtyard, other_courtyard, settings, tmp_path
):
    settings.MAX_PHOTO_BYTES = 50_000
    big = tmp_path / "big.png"
    Image.frombytes("RGB", (300, 300), os.urandom(270_000)).save(big, "PNG")  # noise: ~270 KB
    # A phone whose page was edited by hand: CSP is bypassed only so the test can edit the DOM.
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        bypass_csp=True,
    )
    phone = context.new_page()
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("road").pk))
    phone.fill("#id_title", "照片太大")
    # Without the script's check (a clone has no listeners) the server still refuses it.
    phone.evaluate("const i = document.querySelector('#id_photos'); i.replaceWith(i.cloneNode())")
    phone.set_input_files("#id_photos", str(big))
    phone.click("button[type=submit].big")
    photo_error = phone.locator(".field.has-error .errorlist:not([hidden])").first.inner_text()
    assert "big.png" in photo_error
    assert "MB" in photo_error
    assert phone.input_value("#id_title") == "照片太大"

    # A courtyard of another grid and a category that does not exist, sent by editing the form.
    phone.evaluate(
        "([c, k]) => { document.querySelector('#id_courtyard').options[1].value = c;"
        " document.querySelector('#id_category').options[1].value = k; }",
        [str(other_courtyard.pk), "999999"],
    )
    phone.select_option("#id_courtyard", index=1)
    phone.select_option("#id_category", index=1)
    phone.click("button[type=submit].big")
    errors = " ".join(phone.locator(".errorlist").all_inner_texts())
    assert errors.count("选择") >= 2 or errors.count("有效") >= 2
    shot(phone, "capture-refused-phone.png")
    assert Issue.objects.count() == 0
    context.close()


def test_it_shows_the_courtyards_and_patrols_of_the_grid(
    phone, live_server, grid_worker, courtyard
):
    IssueFactory(courtyard=courtyard, title="楼道灯不亮")
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/courtyards/")
    shot(phone, "courtyards-phone.png")
    phone.click(f"text={courtyard.name}")
    phone.wait_for_load_state("networkidle")
    assert "楼道灯不亮" in phone.content()
    assert courtyard.leader_name in phone.content()
    shot(phone, "courtyard-phone.png")
    phone.goto(f"{live_server.url}/patrols/")
    shot(phone, "patrols-phone.png")


def test_it_adds_a_second_residents_photo_and_contact_to_the_open_issue(
    phone, live_server, grid_worker, staff, official, courtyard, photo_file, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path / "media"
    existing = IssueFactory(
        courtyard=courtyard,
        category=category("drainage"),
        title="雨后院内积水",
        resident_name="卓玛",
        resident_phone="13812341234",
    )
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("drainage").pk))
    phone.get_by_test_id("duplicates").wait_for()
    phone.fill("#id_title", "院子又积水了")
    phone.fill("#id_description", "昨晚大雨后二号楼门口积水没过脚踝。")
    phone.fill("#id_resident_name", "次仁央宗")
    phone.fill("#id_resident_phone", "13912345678")
    phone.set_input_files("#id_photos", str(photo_file))
    shot(phone, "capture-add-report-phone.png")
    phone.get_by_test_id(f"add-to-{existing.reference}").click()

    assert existing.reference in phone.get_by_test_id("reference").inner_text()
    assert "附照片1张" in phone.content()
    assert Issue.objects.count() == 1
    reporter = existing.reporters.get()
    assert (reporter.name, reporter.phone) == ("次仁央宗", "13912345678")
    assert existing.attachments.count() == 1

    phone.goto(f"{live_server.url}{existing.get_absolute_url()}")
    assert phone.get_by_test_id("residents-reporting").inner_text().strip() == "2位居民反映"
    timeline = phone.get_by_test_id("timeline").inner_text()
    assert "又有一位居民反映此问题，附照片1张；其姓名和电话已记入该问题的反映居民。" in timeline
    assert "积水没过脚踝" in timeline
    assert "13912345678" not in timeline
    assert phone.locator(".photos img").count() == 1
    shot(phone, "issue-second-resident-phone.png")

    phone.context.clear_cookies()
    login(phone, live_server, "staff")
    phone.goto(f"{live_server.url}{existing.get_absolute_url()}")
    assert phone.get_by_test_id("reporter-phone").inner_text() == "13912345678"
    assert "次仁央宗" in phone.get_by_test_id("reporter").inner_text()

    phone.context.clear_cookies()
    login(phone, live_server, "official")
    phone.goto(f"{live_server.url}{existing.get_absolute_url()}")
    assert phone.get_by_test_id("reporter-phone").inner_text() == "139****5678"
    assert "次仁央宗" not in phone.content()
    assert phone.get_by_test_id("residents-reporting").inner_text().strip() == "2位居民反映"
    shot(phone, "issue-second-resident-official-phone.png")


def test_it_fills_the_mediation_date_with_today_in_chinese(phone, live_server, staff, courtyard):
    dispute = IssueFactory(
        courtyard=courtyard, category=category("dispute"), status=Issue.Status.IN_PROGRESS
    )
    login(phone, live_server, "staff")
    phone.goto(f"{live_server.url}{dispute.get_absolute_url()}")
    assert phone.evaluate("document.documentElement.lang").lower().startswith("zh")
    phone.get_by_text("登记调解").click()

    date_input = phone.locator("#id_mediation-mediated_on")
    assert date_input.input_value() == timezone.localdate().isoformat()
    assert date_input.evaluate("e => e.valueAsDate !== null")
    shot(phone, "mediation-date-phone.png")


def test_it_handles_an_urgent_concern_in_one_tap_from_the_saved_screen(
    phone, live_server, grid_worker, courtyard
):
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("electrical").pk))
    phone.fill("#id_title", "配电箱冒烟")
    phone.click("button[type=submit].big")
    phone.get_by_test_id("reference").wait_for()

    button = phone.get_by_test_id("action-handle_now").locator("button")
    box = button.bounding_box()
    # Above the fold of a 390×844 phone, and thumb-sized.
    assert box["y"] + box["height"] <= 844
    assert box["height"] >= 44
    assert "立即办理" in button.inner_text()
    shot(phone, "capture-done-urgent-phone.png")
    button.click()
    phone.wait_for_load_state("networkidle")

    issue = Issue.objects.get(title="配电箱冒烟")
    assert issue.status == Issue.Status.IN_PROGRESS
    assert issue.started_at is not None
    event = issue.events.get(action=IssueEvent.Action.HANDLE_NOW)
    assert (event.actor, event.from_status, event.to_status) == (
        grid_worker,
        "collected",
        "in_progress",
    )
    assert phone.get_by_test_id("status").inner_text() == "办理中"


def test_it_shows_handle_now_at_the_top_of_an_urgent_issue(
    phone, live_server, grid_worker, courtyard
):
    issue = IssueFactory(
        courtyard=courtyard,
        created_by=grid_worker,
        category=category("drainage"),
        urgency="urgent",
        title="院内积水漫进一楼",
        description="昨夜暴雨后院内积水约二十厘米，已漫进两户一楼住户家中。" * 3,
    )
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}{issue.get_absolute_url()}")

    box = phone.get_by_test_id("action-handle_now").locator("button").bounding_box()
    assert box["y"] + box["height"] <= 844
    timeline = phone.get_by_test_id("timeline").bounding_box()
    assert box["y"] < timeline["y"]
    shot(phone, "issue-urgent-phone.png")


def test_it_refuses_a_photo_too_large_or_too_many_before_any_upload(
    phone, live_server, grid_worker, courtyard, settings, tmp_path
):
    settings.MAX_PHOTO_BYTES = 1024 * 1024  # GRASSROOTS_MAX_PHOTO_MB=1
    big = tmp_path / "big.png"
    Image.frombytes("RGB", (700, 700), os.urandom(1_470_000)).save(big, "PNG")  # noise: ~1.5 MB
    small = []
    for i in range(7):
        small.append(tmp_path / f"p{i}.jpg")
        Image.new("RGB", (200, 150), (40 * i, 90, 120)).save(small[-1], "JPEG")
    login(phone, live_server, "gridworker")
    phone.goto(f"{live_server.url}/issues/new/")
    picker = phone.get_by_test_id("photo-picker")
    box = picker.bounding_box()
    assert box["height"] >= 44
    assert box["width"] >= 44
    assert "拍照或选择照片" in picker.inner_text()
    phone.select_option("#id_courtyard", str(courtyard.pk))
    phone.select_option("#id_category", str(category("road").pk))
    phone.fill("#id_title", "路灯不亮")
    posts = []
    phone.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    phone.set_input_files("#id_photos", str(big))

    error = phone.locator("[data-photo-error]")
    assert error.is_visible()
    assert "big.png" in error.inner_text()
    assert "超过1 MB，未添加" in error.inner_text()
    assert phone.evaluate("document.querySelector('#id_photos').files.length") == 0
    assert posts == []
    assert Issue.objects.count() == 0
    assert phone.input_value("#id_title") == "路灯不亮"
    shot(phone, "capture-photo-refused-phone.png")

    # Seven chosen: the first six are kept, and the count says so.
    phone.set_input_files("#id_photos", [str(p) for p in small])
    assert "最多只能上传6张" in error.inner_text()
    assert phone.evaluate("document.querySelector('#id_photos').files.length") == 6
    assert "已选6张" in picker.inner_text()
    assert posts == []
    phone.click("button[type=submit].big")
    phone.get_by_test_id("reference").wait_for()

    issue = Issue.objects.get()
    assert (issue.title, issue.attachments.count()) == ("路灯不亮", 6)


def test_my_issues_fold_the_closed_groups_and_search_narrows_them(
    phone, live_server, grid_worker, courtyard
):
    S = Issue.Status
    plan = [(S.COLLECTED, 3), (S.LISTED, 3), (S.IN_PROGRESS, 4), (S.RESOLVED, 6), (S.REVISITED, 14)]
    titles = ["楼道灯不亮", "井盖松动", "下水道堵塞", "垃圾清运不及时", "电动车楼道充电"]
    for s, n in plan:
        for i in range(n):
            IssueFactory(courtyard=courtyard, status=s, title=f"{titles[i % 5]}（{s.label}{i}）")
    login(phone, live_server, "gridworker")
    assert "/issues/mine/" in phone.url

    folded = phone.evaluate("document.documentElement.scrollHeight")
    phone.evaluate("document.querySelectorAll('details.group').forEach(d => d.open = true)")
    unfolded = phone.evaluate("document.documentElement.scrollHeight")
    phone.reload()
    print(f"\nmy issues, 30 issues on a 390×844 phone: {folded}px folded, {unfolded}px unfolded")
    assert folded < unfolded * 0.6

    counts = {
        key: phone.get_by_test_id(f"count-{key}").inner_text()
        for key in ("todo", "in_progress", "resolved", "revisited")
    }
    assert counts == {"todo": "6", "in_progress": "4", "resolved": "6", "revisited": "14"}
    revisited = phone.locator("details[data-group=revisited]")
    assert revisited.get_attribute("open") is None
    assert not revisited.locator(".issue-cards a").first.is_visible()
    assert phone.locator("details[data-group=todo] .issue-cards a").first.is_visible()
    shot(phone, "my-issues-phone.png")

    # Tapping a folded header opens it, without any script.
    revisited.locator("summary").click()
    assert revisited.locator(".issue-cards a").first.is_visible()

    phone.fill("input[name=q]", "井盖")
    phone.press("input[name=q]", "Enter")
    phone.wait_for_load_state("networkidle")
    cards = phone.locator(".issue-cards a")
    assert cards.count() == 7  # one in each of the first four groups, three revisited
    assert all("井盖" in t for t in cards.all_inner_texts())
    assert phone.get_by_test_id("count-revisited").inner_text() == "3"
    assert phone.locator("details[data-group=revisited]").get_attribute("open") is not None
    shot(phone, "my-issues-search-phone.png")
