"""A further resident's report added to an issue already logged (the duplicate hint's button):
their name, phone, photos and words join it; the page and the list count them."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from issues import services
from issues.models import Attachment, Issue, IssueEvent, PhoneReveal, Reporter
from issues.privacy import reporter_views
from issues.tests.factories import IssueFactory, category
from issues.tests.test_capture import form_data, jpeg_with_gps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def existing(courtyard) -> Issue:
    return IssueFactory(
        courtyard=courtyard, category=category("road"), status="listed", resident_name="卓玛"
    )


def report_url(issue: Issue) -> str:
    return reverse("issues:add_report", args=[issue.reference])


def photo(name: str = "IMG_0002.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, jpeg_with_gps(), content_type="image/jpeg")


def test_it_adds_the_residents_contact_photo_and_words_to_the_existing_issue(
    client, grid_worker, courtyard, existing
):
    client.force_login(grid_worker)
    data = form_data(courtyard, description="门口的坑又大了，自行车摔倒了。")

    r = client.post(report_url(existing), {**data, "photos": [photo()]})

    assert r.status_code == 302
    assert r["Location"] == reverse("issues:created", args=[existing.reference])
    assert Issue.objects.count() == 1
    reporter = existing.reporters.get()
    assert (reporter.name, reporter.phone, reporter.source) == ("次仁央宗", "13912345678", "visit")
    assert reporter.created_by == grid_worker
    attachment = Attachment.objects.get()
    assert (attachment.issue, attachment.uploaded_by) == (existing, grid_worker)
    assert b"PhoneMaker" not in attachment.image.open("rb").read()  # the capture's checks
    event = existing.events.get()
    assert (event.action, event.actor) == (IssueEvent.Action.REPORT, grid_worker)
    assert "门口的坑又大了，自行车摔倒了。" in event.note
    assert "附照片1张" in event.note
    # The resident's contact stays out of the timeline, which officials read too.
    assert "13912345678" not in event.note
    assert "次仁央宗" not in event.note
    existing.refresh_from_db()
    assert existing.residents_reporting == 2


def test_it_says_what_was_added_in_chinese(client, grid_worker, courtyard, existing):
    client.force_login(grid_worker)

    r = client.post(
        report_url(existing), {**form_data(courtyard), "photos": [photo(), photo("b.jpg")]}
    )

    note = existing.events.get().note
    assert note.startswith(
        "又有一位居民反映此问题，附照片2张；其姓名和电话已记入该问题的反映居民。\n"
    )
    page = client.get(r["Location"]).content.decode()
    assert existing.reference in page
    assert "附照片2张" in page


def test_it_adds_the_words_alone_when_no_contact_was_given(
    client, grid_worker, courtyard, existing
):
    client.force_login(grid_worker)
    data = form_data(courtyard, resident_name="", resident_phone="", description="")

    r = client.post(report_url(existing), data)

    assert r.status_code == 302
    assert not Reporter.objects.exists()
    assert data["title"] in existing.events.get().note  # the title when nothing else was typed


def test_it_adds_nothing_twice_for_a_resent_form(client, grid_worker, courtyard, existing):
    client.force_login(grid_worker)
    data = form_data(courtyard)

    first = client.post(report_url(existing), {**data, "photos": [photo()]})
    second = client.post(report_url(existing), {**data, "photos": [photo()]})

    assert first.status_code == second.status_code == 302
    assert existing.reporters.count() == 1
    assert Attachment.objects.count() == 1
    assert existing.events.count() == 1


def test_it_refuses_a_form_already_saved_to_another_issue(client, grid_worker, courtyard, existing):
    other = IssueFactory(courtyard=courtyard, category=category("road"))
    client.force_login(grid_worker)
    data = form_data(courtyard)
    client.post(report_url(existing), data)

    r = client.post(report_url(other), data)

    assert r.status_code == 400
    assert existing.reference in r.content.decode()
    assert data["description"] in r.content.decode()  # the form comes back as typed
    assert not other.reporters.exists()
    assert not other.events.exists()


def test_it_keeps_everything_typed_when_the_phone_is_wrong(
    client, grid_worker, courtyard, existing
):
    client.force_login(grid_worker)
    data = form_data(courtyard, resident_phone="12ab")

    r = client.post(report_url(existing), data)

    assert r.status_code == 400
    html = r.content.decode()
    assert data["description"] in html
    assert 'value="次仁央宗"' in html
    assert not Reporter.objects.exists()
    assert not existing.events.exists()


def test_it_refuses_an_empty_report(client, grid_worker, courtyard, existing):
    client.force_login(grid_worker)
    data = form_data(courtyard, title="", description="", resident_name="", resident_phone="")

    r = client.post(report_url(existing), data)

    assert r.status_code == 400
    assert not existing.events.exists()


def test_it_answers_404_outside_the_scope(client, outsider, courtyard, existing):
    client.force_login(outsider)

    r = client.post(report_url(existing), form_data(courtyard))

    assert r.status_code == 404
    assert not Reporter.objects.exists()
    assert not existing.events.exists()


def test_it_refuses_in_the_service_a_user_who_may_not_see_the_issue(outsider, existing):
    with pytest.raises(services.TransitionRefused):
        services.add_reporter_to_issue(existing, by=outsider, name="次仁", words="又坏了")

    assert not Reporter.objects.exists()
    assert not existing.events.exists()


def test_it_refuses_an_official_who_may_only_read(client, official, courtyard, existing):
    with pytest.raises(services.TransitionRefused):
        services.add_reporter_to_issue(existing, by=official, name="次仁", words="又坏了")

    assert not Reporter.objects.exists()


def test_it_stores_a_full_width_phone_as_ascii_digits(client, grid_worker, courtyard, existing):
    client.force_login(grid_worker)

    client.post(
        report_url(existing), form_data(courtyard, resident_phone="１３９ １２３４ ５６７８")
    )

    assert existing.reporters.get().phone == "13912345678"


# --- The issue page and the list --------------------------------------------------------------


@pytest.fixture
def reported(existing, grid_worker) -> Issue:
    services.add_reporter_to_issue(
        existing, by=grid_worker, name="次仁央宗", phone="13912345678", words="又坏了"
    )
    return existing


def test_it_shows_staff_every_resident_in_full(client, staff, reported):
    client.force_login(staff)

    html = client.get(reported.get_absolute_url()).content.decode()

    assert "次仁央宗" in html
    assert "13912345678" in html
    assert "2 residents reported it" in html or "2位居民反映" in html


def test_it_masks_the_further_resident_for_an_official_as_the_first(client, official, reported):
    client.force_login(official)

    html = client.get(reported.get_absolute_url()).content.decode()

    assert "次**" in html
    assert "次仁央宗" not in html
    assert "139****5678" in html
    assert "13912345678" not in html
    assert "2位居民反映" in html


def test_it_reveals_every_number_of_the_issue_in_one_logged_reveal(client, official, reported):
    client.force_login(official)

    r = client.post(reverse("issues:reveal_phone", args=[reported.reference]))

    html = r.content.decode()
    assert "13812341234" in html  # the first resident's
    assert "13912345678" in html  # the further resident's
    assert PhoneReveal.objects.get().user == official


def test_it_masks_reporters_by_the_privacy_rules(official, staff, reported):
    reporters = list(reported.reporters.all())

    (masked,) = reporter_views(official, reported, reporters)
    (full,) = reporter_views(staff, reported, reporters)

    assert (masked.name, masked.phone, masked.is_masked) == ("次**", "139****5678", True)
    assert (full.name, full.phone, full.is_masked) == ("次仁央宗", "13912345678", False)


def test_it_counts_the_residents_in_the_list(client, staff, reported, courtyard):
    single = IssueFactory(courtyard=courtyard, status="listed")
    client.force_login(staff)

    r = client.get(reverse("issues:list"))

    rows = {i.reference: i.residents_reporting for i in r.context["page"].object_list}
    assert rows[reported.reference] == 2
    assert rows[single.reference] == 1
    assert r.content.decode().count("2位居民反映") == 1


def test_it_exports_the_count_of_residents(client, staff, reported):
    client.force_login(staff)

    body = b"".join(client.get(reverse("issues:export_csv")).streaming_content).decode()

    header, row = body.lstrip("\ufeff").splitlines()[:2]
    column = header.split(",").index("反映居民数")
    assert row.split(",")[column] == "2"


def test_it_has_a_fresh_token_for_a_new_form(client, grid_worker):
    client.force_login(grid_worker)

    first = client.get(reverse("issues:new")).context["form"].initial["token"]
    second = client.get(reverse("issues:new")).context["form"].initial["token"]

    assert isinstance(first, uuid.UUID)
    assert first != second
