import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from issues import notifications
from issues.models import Attachment, Issue, Notification
from issues.tests.factories import category
from residents.models import CourtyardLink
from residents.tests.conftest import jpeg_with_gps

pytestmark = pytest.mark.django_db


def report_data(**overrides):
    data = {
        "category": category("road").pk,
        "description": "院门口的路面塌了一个坑，晚上看不见。",
        "name": "卓玛",
        "phone": "13812341234",
        "token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def report_url(link):
    return reverse("residents:report", args=[link.token])


def test_it_shows_the_report_page_without_a_login(client, link):
    r = client.get(report_url(link))

    assert r.status_code == 200
    assert link.courtyard.name in r.text
    assert "仅用于答复您的诉求" in r.text
    # The QR code's link names a random token, never the courtyard's id.
    assert report_url(link) == f"/r/{link.token}/"
    assert len(link.token) == 22


def test_it_creates_a_collected_qr_issue_in_the_courtyards_grid(
    client, link, grid_worker, staff, django_capture_on_commit_callbacks, mailoutbox
):
    grid_worker.email, staff.email = "gw@example.org", "staff@example.org"
    grid_worker.save()
    staff.save()
    with django_capture_on_commit_callbacks() as callbacks:
        r = client.post(report_url(link), report_data())
    assert len(callbacks) == 1  # the notifications' delivery task

    assert r.status_code == 302
    issue = Issue.objects.get()
    assert (issue.status, issue.source) == (Issue.Status.COLLECTED, Issue.Source.QR)
    assert (issue.courtyard, issue.grid, issue.community) == (
        link.courtyard,
        link.courtyard.grid,
        link.courtyard.grid.community,
    )
    assert issue.created_by is None
    assert (issue.resident_name, issue.resident_phone) == ("卓玛", "13812341234")
    assert issue.resident_language == "zh-hans"
    assert issue.title.startswith("院门口的路面塌了一个坑")
    assert issue.events.get().action == "create"
    # The grid's worker and the community's staff are told, in the app and by email.
    told = set(Notification.objects.values_list("recipient__username", "kind"))
    assert told == {("gridworker", "resident"), ("staff", "resident")}
    notifications.deliver(list(Notification.objects.values_list("pk", flat=True)))
    assert sorted(m.to[0] for m in mailoutbox) == ["gw@example.org", "staff@example.org"]
    assert r["Location"].startswith("/r/sent/")


def test_an_urgent_category_tells_them_as_an_urgent_concern(client, link, grid_worker, staff):
    client.post(report_url(link), report_data(category=category("electrical").pk))

    issue = Issue.objects.get()
    assert issue.is_urgent
    assert set(Notification.objects.values_list("recipient__username", "kind")) == {
        ("gridworker", "urgent"),
        ("staff", "urgent"),
    }


def test_it_shows_the_reference_in_large_type_after_sending(client, link):
    r = client.post(report_url(link), report_data(), follow=True)

    issue = Issue.objects.get()
    assert r.status_code == 200
    assert f'data-testid="reference">{issue.reference}<' in r.text
    assert reverse("residents:track", args=[issue.reference]) in r.text


def test_the_sent_page_is_no_way_to_try_references(client):
    r = client.get(reverse("residents:sent", args=["K7QM-X9P3:forged"]))

    assert r.status_code == 404


def test_sending_the_same_form_twice_creates_one_issue(client, link):
    data = report_data()
    first = client.post(report_url(link), data)
    second = client.post(report_url(link), data)

    assert Issue.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_it_stores_photos_through_the_grid_workers_checks(client, link):
    photo = SimpleUploadedFile("p.jpg", jpeg_with_gps(), content_type="image/jpeg")

    client.post(report_url(link), {**report_data(), "photos": [photo]})

    stored = Attachment.objects.get()
    assert stored.uploaded_by is None
    with Image.open(stored.image.path) as img:
        assert dict(img.getexif()) == {}


def test_it_refuses_a_fourth_photo_and_creates_nothing(client, link):
    photos = [
        SimpleUploadedFile(f"p{i}.jpg", jpeg_with_gps(), content_type="image/jpeg")
        for i in range(4)
    ]

    r = client.post(report_url(link), {**report_data(), "photos": photos})

    assert r.status_code == 400
    assert "At most 3 photos" in r.text or "最多" in r.text
    assert not Issue.objects.exists()
    assert not Attachment.objects.exists()


def test_it_refuses_a_file_that_is_not_a_photo(client, link):
    fake = SimpleUploadedFile("p.jpg", b"not an image at all", content_type="image/jpeg")

    r = client.post(report_url(link), {**report_data(), "photos": [fake]})

    assert r.status_code == 400
    assert not Issue.objects.exists()


def test_a_form_with_errors_keeps_what_the_resident_typed(client, link):
    r = client.post(report_url(link), report_data(description="", phone="12345"))

    assert r.status_code == 400
    assert "请填写此项。" in r.text
    assert "请填写11位手机号码或固定电话号码。" in r.text
    assert 'value="卓玛"' in r.text
    assert not Issue.objects.exists()


def test_its_messages_are_tibetan_on_a_tibetan_page(client, link):
    client.cookies["django_language"] = "bo"

    r = client.post(report_url(link), report_data(description="", phone="12345"))

    assert 'lang="bo"' in r.text
    assert "འདི་འབྲི་རོགས།" in r.text
    assert "ཨང་གྲངས་ 11 ཡོད་པའི" in r.text
    assert "Please fill this in." not in r.text
    assert "请填写此项" not in r.text


def test_a_tibetan_report_keeps_its_language_for_the_texts(client, link):
    client.cookies["django_language"] = "bo"

    client.post(report_url(link), report_data())

    assert Issue.objects.get().resident_language == "bo"


def test_the_honeypot_refuses_a_program_and_creates_nothing(client, link):
    r = client.post(report_url(link), report_data(homepage="http://spam.example"))

    assert r.status_code == 400
    assert 'data-testid="refused"' in r.text
    assert not Issue.objects.exists()


def test_it_limits_reports_per_address(client, link, settings):
    settings.RESIDENT_REPORTS_PER_HOUR_PER_ADDRESS = 2
    for _ in range(2):
        assert client.post(report_url(link), report_data()).status_code == 302

    r = client.post(report_url(link), report_data())

    assert r.status_code == 429
    assert "短时间内从这里提交的诉求过多" in r.text
    assert Issue.objects.count() == 2
    # Another address is still served.
    other = client.post(report_url(link), report_data(), REMOTE_ADDR="10.1.2.3")
    assert other.status_code == 302


def test_it_limits_reports_per_courtyard_per_day(client, link, settings):
    settings.RESIDENT_REPORTS_PER_DAY_PER_COURTYARD = 2
    for i in range(2):
        client.post(report_url(link), report_data(), REMOTE_ADDR=f"10.0.0.{i}")

    r = client.post(report_url(link), report_data(), REMOTE_ADDR="10.0.0.9")

    assert r.status_code == 429
    assert Issue.objects.count() == 2


def test_the_refusal_page_speaks_tibetan(client, link, settings):
    settings.RESIDENT_REPORTS_PER_HOUR_PER_ADDRESS = 0
    client.cookies["django_language"] = "bo"

    r = client.post(report_url(link), report_data())

    assert r.status_code == 429
    assert "ཆུ་ཚོད་གཅིག་གི་རྗེས་སུ" in r.text


def test_the_limit_honours_the_trusted_proxy(client, link, settings):
    settings.RESIDENT_REPORTS_PER_HOUR_PER_ADDRESS = 1
    settings.TRUSTED_PROXY_COUNT = 1
    first = client.post(report_url(link), report_data(), HTTP_X_FORWARDED_FOR="203.0.113.5")
    second = client.post(report_url(link), report_data(), HTTP_X_FORWARDED_FOR="203.0.113.6")
    third = client.post(report_url(link), report_data(), HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert (first.status_code, second.status_code, third.status_code) == (302, 302, 429)


def test_a_replaced_link_says_so_and_creates_nothing(client, link):
    CourtyardLink.objects.filter(pk=link.pk).update(replaced_at="2026-01-01T00:00:00Z")

    got = client.get(report_url(link))
    posted = client.post(report_url(link), report_data())

    assert got.status_code == posted.status_code == 410
    assert "此二维码已更换，请扫描大院门口的新二维码" in got.text
    assert not Issue.objects.exists()


def test_an_unknown_token_is_not_found(client, db):
    assert client.get(reverse("residents:report", args=["x" * 22])).status_code == 404


def test_a_staff_members_english_falls_back_to_chinese(client, link):
    client.cookies["django_language"] = "en"

    r = client.get(report_url(link))

    assert 'lang="zh-Hans"' in r.text
    assert "仅用于答复您的诉求" in r.text


def test_hostile_text_is_escaped_on_the_staff_page(client, link, staff):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    client.post(report_url(link), report_data(description=hostile, name=hostile[:50]))
    issue = Issue.objects.get()
    client.force_login(staff)

    r = client.get(issue.get_absolute_url())

    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in r.text
