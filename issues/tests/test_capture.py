"""Logging a concern: the form, what a post creates, bad input and photos, duplicates."""

import io
import re
import struct
import uuid
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import ExifTags, Image

from grids.tests.factories import CourtyardFactory, GridFactory, StaffAssignmentFactory
from issues.models import Attachment, Issue, IssueEvent, Notification, Urgency
from issues.tests.factories import IssueFactory, category

pytestmark = pytest.mark.django_db

URL = reverse("issues:new")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def form_data(courtyard, **overrides) -> dict:
    data = {
        "courtyard": courtyard.pk,
        "category": category("road").pk,
        "urgency": "normal",
        "title": "楼道灯不亮",
        "description": "三单元楼道灯坏了一周，老人晚上看不见路。",
        "source": "visit",
        "resident_name": "次仁央宗",
        "resident_phone": "13912345678",
        "people_affected": "",
        "amount_owed": "",
        "token": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (1200, 900), "blue")
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    exif[ExifTags.Base.Model] = "Model X"
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N",
        ExifTags.GPS.GPSLatitude: (29.0, 39.0, 1.5),
        ExifTags.GPS.GPSLongitudeRef: "E",
        ExifTags.GPS.GPSLongitude: (91.0, 7.0, 2.0),
    }
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_bomb(side: int) -> bytes:
    """A real one-bit PNG of side×side pixels, all black: megapixels in a few kilobytes."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    row = b"\x00" * (1 + (side + 7) // 8)
    z = zlib.compressobj(9)
    data = b"".join(z.compress(row) for _ in range(side)) + z.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def field_block(html: str, name: str) -> str:
    """The markup of one field's block: from its wrapper to the next field's."""
    start = html.index(f'id="id_{name}"')
    start = html.rindex('<div class="field', 0, start)
    end = html.find('<div class="field', start + 1)
    return html[start : end if end != -1 else len(html)]


# --- The form -------------------------------------------------------------------------------------


def test_it_lists_only_the_workers_courtyards_recently_used_first(
    client, grid_worker, grid, courtyard, other_courtyard
):
    a = CourtyardFactory(grid=grid, name="阿大院")
    z = CourtyardFactory(grid=grid, name="最后大院")
    IssueFactory(courtyard=z, created_by=grid_worker)
    client.force_login(grid_worker)

    r = client.get(URL)

    assert r.status_code == 200
    options = list(r.context["form"].fields["courtyard"].queryset)
    # The one this worker used last comes first, then the rest (by name).
    assert options[0] == z
    assert set(options[1:]) == {a, courtyard}
    html = r.content.decode()
    assert "西嘎奴大院" not in html
    assert html.index("最后大院") < html.index("阿大院")
    assert html.index("最后大院") < html.index("格东大院")


def test_it_refuses_the_form_to_an_official(client, official, courtyard):
    client.force_login(official)

    assert client.get(URL).status_code == 403
    assert client.post(URL, form_data(courtyard)).status_code == 403
    assert not Issue.objects.exists()


# --- Creating ------------------------------------------------------------------------------------


def test_it_creates_the_issue_with_its_event_and_shows_the_reference(
    client, grid_worker, courtyard
):
    client.force_login(grid_worker)

    r = client.post(URL, form_data(courtyard))

    issue = Issue.objects.get()
    assert r.status_code == 302
    assert r["Location"] == reverse("issues:created", args=[issue.reference])
    assert (issue.title, issue.courtyard, issue.grid, issue.community) == (
        "楼道灯不亮",
        courtyard,
        courtyard.grid,
        courtyard.grid.community,
    )
    assert (issue.resident_name, issue.resident_phone, issue.created_by) == (
        "次仁央宗",
        "13912345678",
        grid_worker,
    )
    assert issue.status == Issue.Status.COLLECTED
    event = issue.events.get()
    assert (event.action, event.actor, event.to_status) == ("create", grid_worker, "collected")
    page = client.get(r["Location"])
    assert page.status_code == 200
    assert f'data-testid="reference">{issue.reference}<' in page.content.decode()


def test_it_creates_one_issue_when_the_same_form_arrives_twice(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    data = form_data(courtyard)

    first = client.post(URL, data)
    second = client.post(URL, data)

    issue = Issue.objects.get()
    assert first["Location"] == second["Location"]
    assert second["Location"] == reverse("issues:created", args=[issue.reference])
    assert IssueEvent.objects.count() == 1


def test_it_tells_the_communitys_staff_of_an_urgent_issue(
    client, grid_worker, staff, assignee, courtyard, other_community
):
    StaffAssignmentFactory(community=other_community)
    client.force_login(grid_worker)

    client.post(URL, form_data(courtyard, urgency="urgent", category=category("electrical").pk))

    issue = Issue.objects.get()
    assert issue.urgency == Urgency.URGENT
    rows = Notification.objects.all()
    assert {(n.recipient, n.kind, n.issue) for n in rows} == {
        (staff, "urgent", issue),
        (assignee, "urgent", issue),
    }


def test_it_tells_nobody_of_a_normal_issue(client, grid_worker, staff, courtyard):
    client.force_login(grid_worker)

    client.post(URL, form_data(courtyard))

    assert not Notification.objects.exists()


def test_it_lets_staff_log_a_concern_in_their_community(client, staff, other_courtyard):
    client.force_login(staff)

    r = client.post(URL, form_data(other_courtyard))

    assert r.status_code == 302
    assert Issue.objects.get().courtyard == other_courtyard


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("１３９１２３４５６７８", "13912345678"),
        ("0891－6321234", "0891-6321234"),
        ("139 1234 5678", "13912345678"),
    ],
)
def test_it_takes_a_phone_typed_in_full_width_or_with_spaces(
    client, grid_worker, courtyard, typed, stored
):
    client.force_login(grid_worker)

    r = client.post(URL, form_data(courtyard, resident_phone=typed))

    assert r.status_code == 302
    assert Issue.objects.get().resident_phone == stored


# --- Invalid input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("title", {"title": ""}),
        ("resident_phone", {"resident_phone": "12345"}),
        ("resident_phone", {"resident_phone": "١٣٩١٢٣٤٥٦٧٨"}),
        ("category", {"category": "999999"}),
        ("courtyard", {"courtyard": "outside"}),
        ("people_affected", {"people_affected": "-3"}),
        ("amount_owed", {"amount_owed": "lots"}),
        ("title", {"title": "长" * 200}),
    ],
)
def test_it_answers_400_keeping_every_typed_value(
    client, grid_worker, courtyard, other_courtyard, field, overrides
):
    client.force_login(grid_worker)
    data = form_data(courtyard)
    data.update(overrides)
    if data["courtyard"] == "outside":
        data["courtyard"] = other_courtyard.pk

    r = client.post(URL, data)

    assert r.status_code == 400
    assert not Issue.objects.exists()
    assert not IssueEvent.objects.exists()
    html = r.content.decode()
    # The error sits in the field's own block.
    block = field_block(html, field)
    assert "has-error" in block
    assert 'class="errorlist"' in block
    assert list(r.context["form"].errors) == [field]
    # Everything typed is back in the form.
    for name in ("title", "resident_name", "resident_phone"):
        if name != field:
            assert f'value="{data[name]}"' in field_block(html, name)
    assert data["description"] in field_block(html, "description")
    assert f'value="{data["token"]}"' in html
    if field != "courtyard":
        assert re.search(rf'<option value="{courtyard.pk}" selected>', html)
    if field != "category":
        assert re.search(rf'<option value="{category("road").pk}" selected>', html)


def test_it_keeps_the_token_so_a_corrected_retry_makes_one_issue(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    data = form_data(courtyard, title="")

    assert client.post(URL, data).status_code == 400
    data["title"] = "楼道灯不亮"
    assert client.post(URL, data).status_code == 302
    assert client.post(URL, data).status_code == 302

    assert Issue.objects.get().submission_token == uuid.UUID(data["token"])


# --- Photos --------------------------------------------------------------------------------------


def test_it_stores_a_photo_without_its_exif_and_with_a_thumbnail(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    upload = SimpleUploadedFile("IMG_0001.jpg", jpeg_with_gps(), content_type="image/jpeg")

    r = client.post(URL, {**form_data(courtyard), "photos": [upload]})

    assert r.status_code == 302
    photo = Attachment.objects.get()
    assert photo.issue == Issue.objects.get()
    assert photo.uploaded_by == grid_worker
    with photo.image.open("rb") as f:
        stored = Image.open(f)
        stored.load()
    assert stored.format == "JPEG"
    assert stored.size == (1200, 900)
    assert dict(stored.getexif()) == {}
    assert b"PhoneMaker" not in photo.image.open("rb").read()
    with photo.thumbnail.open("rb") as f:
        thumb = Image.open(f)
        thumb.load()
    assert max(thumb.size) <= 360
    assert dict(thumb.getexif()) == {}
    assert not photo.image.name.endswith("IMG_0001.jpg")


def test_it_stores_several_photos(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    uploads = [
        SimpleUploadedFile(f"p{i}.jpg", jpeg_with_gps(), content_type="image/jpeg")
        for i in range(3)
    ]

    client.post(URL, {**form_data(courtyard), "photos": uploads})

    assert Attachment.objects.count() == 3


def _rejected(client, grid_worker, courtyard, upload, message: str):
    client.force_login(grid_worker)
    data = form_data(courtyard)

    r = client.post(URL, {**data, "photos": [upload]})

    assert r.status_code == 400
    assert not Issue.objects.exists()
    assert not Attachment.objects.exists()
    block = field_block(r.content.decode(), "photos")
    assert message in block
    assert "has-error" in block
    # The rest of what was typed is kept.
    assert data["title"] in r.content.decode()


def test_it_rejects_a_file_that_is_not_an_image(client, grid_worker, courtyard):
    upload = SimpleUploadedFile("photo.jpg", b"%PDF-1.4 not a photo at all", "image/jpeg")

    _rejected(client, grid_worker, courtyard, upload, "photo.jpg")


def test_it_rejects_a_photo_over_the_size_limit(client, grid_worker, courtyard, settings):
    settings.MAX_PHOTO_BYTES = 2 * 1024 * 1024
    big = Image.effect_noise((1600, 1600), 100).convert("RGB")
    out = io.BytesIO()
    big.save(out, "BMP")
    assert len(out.getvalue()) > settings.MAX_PHOTO_BYTES
    upload = SimpleUploadedFile("huge.bmp", out.getvalue(), "image/bmp")

    _rejected(client, grid_worker, courtyard, upload, "huge.bmp")


@pytest.mark.parametrize("side", [20_000, 8_000])
def test_it_rejects_a_decompression_bomb(client, grid_worker, courtyard, side):
    bomb = png_bomb(side)
    assert len(bomb) < 100_000

    _rejected(
        client,
        grid_worker,
        courtyard,
        SimpleUploadedFile("bomb.png", bomb, "image/png"),
        "bomb.png",
    )


def test_it_rejects_more_than_six_photos(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    uploads = [
        SimpleUploadedFile(f"p{i}.jpg", jpeg_with_gps(), content_type="image/jpeg")
        for i in range(7)
    ]

    r = client.post(URL, {**form_data(courtyard), "photos": uploads})

    assert r.status_code == 400
    assert not Issue.objects.exists()
    assert not Attachment.objects.exists()


# --- Patrols -------------------------------------------------------------------------------------


def test_it_does_not_link_another_workers_patrol(
    client, grid_worker, other_grid_worker, other_grid, courtyard
):
    from grids.services import start_patrol

    theirs = start_patrol(by=other_grid_worker, grid=other_grid, kind="routine")
    client.force_login(grid_worker)

    r = client.post(URL, form_data(courtyard, patrol=theirs.pk))

    assert r.status_code == 400
    assert not Issue.objects.exists()


# --- Duplicates ----------------------------------------------------------------------------------


def test_it_hints_at_the_open_issues_of_that_courtyard_and_category(client, grid_worker, courtyard):
    road = category("road")
    open_ = IssueFactory(courtyard=courtyard, category=road, status="listed", title="路面坑洼")
    IssueFactory(courtyard=courtyard, category=road, status="resolved", title="已修好")
    IssueFactory(courtyard=courtyard, category=category("parking"), title="电动车乱停")
    IssueFactory(courtyard=CourtyardFactory(grid=courtyard.grid), category=road, title="别处")
    client.force_login(grid_worker)

    r = client.get(reverse("issues:duplicates"), {"courtyard": courtyard.pk, "category": road.pk})

    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="duplicates"' in html
    assert re.findall(r'class="ref" href="/issues/([^/]+)/"', html) == [open_.reference]
    assert reverse("issues:add_report", args=[open_.reference]) in html
    assert "<html" not in html


def test_it_hints_nothing_for_a_courtyard_outside_the_scope(
    client, grid_worker, other_courtyard, other_community
):
    road = category("road")
    IssueFactory(courtyard=other_courtyard, category=road)
    foreign = IssueFactory(community=other_community, category=road)
    client.force_login(grid_worker)

    for courtyard_id in (other_courtyard.pk, foreign.courtyard_id):
        r = client.get(
            reverse("issues:duplicates"), {"courtyard": courtyard_id, "category": road.pk}
        )
        assert r.status_code == 200
        assert r.content.decode().strip() == ""


@pytest.mark.parametrize(
    "params", [{}, {"courtyard": "abc", "category": "1"}, {"courtyard": "1" * 30, "category": "1"}]
)
def test_it_hints_nothing_for_bad_parameters(client, grid_worker, params):
    client.force_login(grid_worker)

    r = client.get(reverse("issues:duplicates"), params)

    assert r.status_code == 200
    assert r.content.decode().strip() == ""


# --- Query count ---------------------------------------------------------------------------------


def test_it_draws_the_form_in_the_same_queries_with_few_and_many_courtyards(
    client, grid_worker, grid, django_assert_num_queries
):
    client.force_login(grid_worker)
    for n in (3, 40):
        while grid.courtyards.count() < n:
            c = CourtyardFactory(grid=grid)
            IssueFactory(courtyard=c, created_by=grid_worker)
        GridFactory(community=grid.community)
        # 1. session, 2. user, 3. scope, 4. a running patrol of this worker, 5. the active
        # categories (the urgency each suggests), 6. the unread badge, 7. the courtyards,
        # recently used first, 8. the categories again, for the select
        with django_assert_num_queries(8):
            r = client.get(URL)
        assert r.status_code == 200
        assert len(r.context["form"].fields["courtyard"].queryset) == n


# --- Photo limits drawn for the browser (issue 13, item 10) --------------------------------------


def test_it_draws_the_servers_photo_limits_into_the_picker(client, grid_worker, settings):
    settings.MAX_PHOTO_BYTES = 3 * 1024 * 1024
    client.force_login(grid_worker)

    html = client.get(URL).content.decode()

    # The browser reads the limits from here (app.js), never its own copy of them.
    photos = re.search(r'<input type="file" name="photos"[^>]*>', html).group(0)
    assert f'data-max-bytes="{3 * 1024 * 1024}"' in photos
    assert 'data-max-count="6"' in photos
    assert "最多6张，每张不超过3 MB" in html
    assert "超过3 MB，未添加" in html
    assert 'data-testid="photo-picker"' in html
    assert "拍照或选择照片" in html


# --- Someone else's token --------------------------------------------------------------------


def test_it_tells_nothing_of_an_issue_whose_token_someone_else_posts(
    client, outsider, other_community, courtyard
):
    """A token copied from another area's form, posted with a courtyard of one's own area."""
    token = uuid.uuid4()
    theirs = IssueFactory(courtyard=courtyard, submission_token=token)
    mine = CourtyardFactory(grid=GridFactory(community=other_community))
    client.force_login(outsider)

    r = client.post(reverse("issues:new"), {**form_data(mine), "token": str(token)})

    assert r.status_code == 400
    assert theirs.reference not in r.get("Location", "")
    assert theirs.reference not in r.content.decode()
    assert Issue.objects.get() == theirs


def test_it_checks_the_courtyard_before_it_looks_at_the_token(
    client, outsider, courtyard, grid_worker
):
    from issues import services
    from issues.services import TransitionRefused

    token = uuid.uuid4()
    IssueFactory(courtyard=courtyard, submission_token=token)

    with pytest.raises(TransitionRefused, match="网格"):
        services.create_issue(
            by=outsider,
            courtyard=courtyard,
            category=category("road"),
            title="路灯不亮",
            submission_token=token,
        )


def test_it_still_answers_a_resent_form_with_its_own_issue(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    data = form_data(courtyard)

    first = client.post(reverse("issues:new"), data)
    again = client.post(reverse("issues:new"), data)

    issue = Issue.objects.get()
    created = reverse("issues:created", args=[issue.reference])
    assert first["Location"] == again["Location"] == created
