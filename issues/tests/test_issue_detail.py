"""The issue page: what it shows each role, each action posted to it, stale posts, scope."""

import io
from datetime import date, timedelta

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from grids.tests.factories import GridWorkerFactory
from issues.models import Attachment, Issue, Mediation, PhoneReveal, Urgency
from issues.tests.factories import IssueEventFactory, IssueFactory, MediationFactory, category

pytestmark = pytest.mark.django_db

S = Issue.Status


def png(size: tuple[int, int] = (40, 30), colour: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def issue(courtyard, grid_worker) -> Issue:
    return IssueFactory(
        courtyard=courtyard,
        created_by=grid_worker,
        title="格东大院路面塌陷",
        description="三号楼前路面塌陷，老人出行不便。",
        resident_name="卓玛",
        resident_phone="13812341234",
        category=category("road"),
        urgency=Urgency.NORMAL,
    )


def url(issue: Issue, name: str = "detail", *args: str) -> str:
    return reverse(f"issues:{name}", args=[issue.reference, *args])


def transition(issue: Issue, action: str) -> str:
    return url(issue, "transition", action)


def action_forms(response) -> list[str]:
    return [action for action, _form in response.context["action_forms"]]


# --- What the page shows --------------------------------------------------------------------------


def test_it_shows_the_issues_fields_timeline_and_photos(client, staff, issue, grid_worker):
    IssueEventFactory(issue=issue, actor=grid_worker, action="create", to_status="collected")
    IssueEventFactory(issue=issue, actor=staff, note="已电话联系住户。")
    photo = Attachment.objects.create(
        issue=issue,
        image=ContentFile(png(), name="photo.jpg"),
        thumbnail=ContentFile(png((12, 9)), name="thumb.jpg"),
        uploaded_by=grid_worker,
    )
    client.force_login(staff)

    r = client.get(url(issue))

    html = r.content.decode()
    assert r.status_code == 200
    for text in [
        issue.reference,
        "格东大院路面塌陷",
        "三号楼前路面塌陷，老人出行不便。",
        "格东大院",
        "冲赛康社区",
        "道路路面",
        "卓玛",
        "13812341234",
        "已电话联系住户。",
        "扎西",  # the grid worker who logged it
    ]:
        assert text in html
    assert [e.action for e in r.context["events"]] == ["create", "comment"]
    full = url(issue, "photo", str(photo.pk), "full")
    thumb = url(issue, "photo", str(photo.pk), "thumb")
    assert f'href="{full}"' in html
    assert f'src="{thumb}"' in html
    # The photo itself is served through the issue's scope.
    served = client.get(thumb)
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == png((12, 9))


def test_it_offers_staff_the_list_action_on_a_collected_issue(client, staff, issue):
    client.force_login(staff)

    r = client.get(url(issue))

    assert action_forms(r) == ["list", "close"]
    assert 'data-testid="action-list"' in r.content.decode()
    # A collected issue is assigned by listing it; reassigning comes after.
    assert r.context["assign_form"] is None
    assert r.context["comment_form"] is not None


def test_it_offers_staff_handle_now_only_on_an_urgent_issue(client, staff, issue):
    client.force_login(staff)
    assert "handle_now" not in action_forms(client.get(url(issue)))

    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    assert action_forms(client.get(url(issue))) == ["list", "handle_now", "close"]


def test_it_offers_the_logging_grid_worker_handle_now_on_an_urgent_issue(
    client, grid_worker, issue
):
    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(grid_worker)

    r = client.get(url(issue))

    assert action_forms(r) == ["handle_now"]
    assert 'data-testid="action-handle_now"' in r.content.decode()
    assert 'data-testid="action-list"' not in r.content.decode()
    assert r.context["assign_form"] is None


def test_it_offers_the_assignee_start_and_resolve(client, assignee, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.LISTED, assignee=assignee)
    client.force_login(assignee)
    # The assignee here is also the community's staff, who may close without resolving.
    assert action_forms(client.get(url(issue))) == ["start", "close"]

    Issue.objects.filter(pk=issue.pk).update(status=S.IN_PROGRESS)
    assert action_forms(client.get(url(issue))) == ["resolve", "close"]


def test_it_shows_an_official_no_actions_and_masks_the_resident(client, official, issue):
    client.force_login(official)

    r = client.get(url(issue))

    html = r.content.decode()
    assert r.status_code == 200
    assert action_forms(r) == []
    assert r.context["assign_form"] is None
    assert r.context["comment_form"] is None
    assert r.context["mediation_form"] is None
    assert 'data-testid="action-' not in html
    assert "卓**" in html
    assert "卓玛" not in html
    assert "138****1234" in html
    assert "13812341234" not in html
    assert url(issue, "reveal_phone") in html


def test_it_reveals_the_phone_to_an_official_and_logs_it(client, official, issue):
    client.force_login(official)

    r = client.post(url(issue, "reveal_phone"))

    assert r.status_code == 200
    assert "13812341234" in r.content.decode()
    reveal = PhoneReveal.objects.get()
    assert (reveal.issue, reveal.user) == (issue, official)
    # Revealing changes nothing else: the page still masks it next time.
    assert "13812341234" not in client.get(url(issue)).content.decode()


def test_it_does_not_reveal_a_phone_outside_the_scope(client, outsider, issue):
    client.force_login(outsider)

    assert client.post(url(issue, "reveal_phone")).status_code == 404
    assert not PhoneReveal.objects.exists()


def test_it_accepts_a_lower_case_reference(client, staff, issue):
    client.force_login(staff)

    assert client.get(f"/issues/{issue.reference.lower()}/").status_code == 200


# --- Each action ---------------------------------------------------------------------------------


def test_it_lists_an_issue_with_assignee_and_due_date(client, staff, assignee, issue):
    client.force_login(staff)
    due = timezone.localdate() + timedelta(days=5)

    r = client.post(
        transition(issue, "list"),
        {"list-seen_status": "collected", "list-assignee": assignee.pk, "list-due_date": due},
    )

    assert r.status_code == 302
    assert r["Location"] == url(issue)
    issue.refresh_from_db()
    assert issue.status == S.LISTED
    assert issue.assignee == assignee
    assert timezone.localtime(issue.due_at).date() == due
    assert issue.listed_at is not None
    event = issue.events.get()
    assert (event.actor, event.action, event.from_status, event.to_status) == (
        staff,
        "list",
        "collected",
        "listed",
    )
    assert assignee.notifications.get().kind == "assigned"


def test_it_lets_the_logging_grid_worker_handle_an_urgent_issue_now(client, grid_worker, issue):
    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(grid_worker)

    r = client.post(transition(issue, "handle_now"), {"handle_now-seen_status": "collected"})

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    assert issue.assignee == grid_worker
    assert issue.started_at is not None
    event = issue.events.get()
    assert (event.actor, event.action, event.to_status) == (
        grid_worker,
        "handle_now",
        "in_progress",
    )


def test_it_refuses_handle_now_on_a_normal_issue(client, staff, issue):
    client.force_login(staff)

    r = client.post(transition(issue, "handle_now"), {"handle_now-seen_status": "collected"})

    assert r.status_code == 409
    issue.refresh_from_db()
    assert issue.status == S.COLLECTED
    assert not issue.events.exists()


def test_it_starts_a_listed_issue(client, assignee, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.LISTED, assignee=assignee)
    client.force_login(assignee)

    r = client.post(transition(issue, "start"), {"start-seen_status": "listed"})

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    assert issue.started_at is not None
    event = issue.events.get()
    assert (event.actor, event.from_status, event.to_status) == (
        assignee,
        "listed",
        "in_progress",
    )


def test_it_resolves_with_the_resolution_text(client, staff, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.IN_PROGRESS)
    client.force_login(staff)

    r = client.post(
        transition(issue, "resolve"),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "已联系施工队修复路面。",
            "resolve-reply": "已答复居民。",
        },
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.RESOLVED
    assert issue.resolution == "已联系施工队修复路面。"
    assert issue.resolved_at is not None
    # The reply to the resident comes first, then the resolution.
    reply, event = issue.events.all()
    assert (reply.action, reply.note) == ("reply", "已答复居民。")
    assert (event.action, event.note, event.to_status) == (
        "resolve",
        "已联系施工队修复路面。",
        "resolved",
    )
    assert "已联系施工队修复路面。" in client.get(url(issue)).content.decode()


def test_it_refuses_to_resolve_without_a_resolution(client, staff, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.IN_PROGRESS)
    client.force_login(staff)

    r = client.post(
        transition(issue, "resolve"),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "  ",
            "resolve-reply": "已答复居民。",
        },
    )

    assert r.status_code == 409
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    assert not issue.events.exists()


def test_it_refuses_to_resolve_a_dispute_before_its_mediation(client, staff, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.IN_PROGRESS, category=category("dispute"))
    client.force_login(staff)

    r = client.post(
        transition(issue, "resolve"),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "双方和解。",
            "resolve-reply": "已答复居民。",
        },
    )

    assert r.status_code == 409
    assert "Record the mediation" in r.content.decode() or "调解" in r.content.decode()
    assert "双方和解。" in r.content.decode()
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    assert not issue.events.exists()


def test_it_reopens_a_resolved_issue_with_a_reason(client, staff, assignee, issue):
    Issue.objects.filter(pk=issue.pk).update(
        status=S.RESOLVED, resolved_at=timezone.now(), assignee=assignee
    )
    client.force_login(staff)

    r = client.post(
        transition(issue, "reopen"),
        {"reopen-seen_status": "resolved", "reopen-reason": "住户反映路面再次塌陷。"},
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    assert issue.resolved_at is None
    event = issue.events.get()
    assert (event.action, event.note, event.from_status) == (
        "reopen",
        "住户反映路面再次塌陷。",
        "resolved",
    )
    assert assignee.notifications.get().kind == "reopened"


def test_it_reassigns_an_open_issue(client, staff, assignee, grid_worker, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.LISTED, assignee=assignee)
    client.force_login(staff)

    r = client.post(
        url(issue, "assign"),
        {"assign-assignee": grid_worker.pk, "assign-seen_assignee": assignee.pk},
    )

    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.assignee == grid_worker
    assert issue.status == S.LISTED
    event = issue.events.get()
    assert (event.actor, event.action) == (staff, "assign")
    assert grid_worker.notifications.get().kind == "assigned"


def test_it_refuses_to_assign_someone_from_another_community(client, staff, outsider, issue):
    client.force_login(staff)

    r = client.post(
        url(issue, "assign"), {"assign-assignee": outsider.pk, "assign-seen_assignee": ""}
    )

    assert r.status_code == 409
    issue.refresh_from_db()
    assert issue.assignee is None
    assert not issue.events.exists()


def test_it_adds_a_comment(client, grid_worker, issue):
    client.force_login(grid_worker)

    r = client.post(url(issue, "comment"), {"note": "住户又打电话来催。"})

    assert r.status_code == 302
    event = issue.events.get()
    assert (event.actor, event.action, event.note) == (grid_worker, "comment", "住户又打电话来催。")
    issue.refresh_from_db()
    assert issue.status == S.COLLECTED


def test_it_keeps_an_empty_comment_out_of_the_timeline(client, staff, issue):
    client.force_login(staff)

    r = client.post(url(issue, "comment"), {"note": ""})

    assert r.status_code == 409
    assert not issue.events.exists()


def test_it_records_a_mediation(client, staff, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.IN_PROGRESS, category=category("dispute"))
    client.force_login(staff)

    r = client.post(
        url(issue, "mediation"),
        {
            "mediation-mediated_on": timezone.localdate().isoformat(),
            "mediation-parties": "二楼住户、三楼住户",
            "mediation-place": "社区调解室",
            "mediation-method": Mediation.Method.COMMITTEE,
            "mediation-outcome": Mediation.Outcome.AGREEMENT,
            "mediation-agreement": "三楼住户修好漏水管道。",
        },
    )

    assert r.status_code == 302
    mediation = issue.mediations.get()
    assert (mediation.mediator, mediation.parties, mediation.outcome) == (
        staff,
        "二楼住户、三楼住户",
        "agreement",
    )
    event = issue.events.get()
    assert (event.action, event.actor) == ("mediate", staff)
    assert "三楼住户修好漏水管道。" in event.note
    # Now the dispute can be resolved.
    r = client.post(
        transition(issue, "resolve"),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "按协议修复。",
            "resolve-reply": "已答复居民。",
        },
    )
    assert r.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.RESOLVED


def test_it_answers_an_htmx_action_with_the_page_main_part(client, staff, assignee, issue):
    client.force_login(staff)

    r = client.post(
        transition(issue, "list"),
        {"list-seen_status": "collected", "list-assignee": assignee.pk},
        headers={"HX-Request": "true"},
    )

    html = r.content.decode().strip()
    assert r.status_code == 200
    assert html.startswith('<div id="issue-main">')
    assert "<html" not in html
    assert 'data-testid="status"' in html
    issue.refresh_from_db()
    assert issue.status == S.LISTED


def test_it_answers_404_to_an_unknown_action(client, staff, issue):
    client.force_login(staff)

    r = client.post(transition(issue, "revisit"), {"revisit-seen_status": "resolved"})

    assert r.status_code == 404
    assert not issue.events.exists()


def test_it_refuses_a_get_on_an_action(client, staff, issue):
    client.force_login(staff)

    assert client.get(transition(issue, "list")).status_code == 405


# --- Stale posts ----------------------------------------------------------------------------------


def test_it_refuses_a_stale_resolve_and_keeps_the_typed_text(client, staff, assignee, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.IN_PROGRESS, assignee=assignee)
    # The assignee resolves it while the staff member's page still shows "in progress".
    client.force_login(assignee)
    client.post(
        transition(issue, "resolve"),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "已修复。",
            "resolve-reply": "已答复居民。",
        },
    )
    issue.refresh_from_db()
    before = (issue.status, issue.resolved_at, issue.resolution, issue.last_activity_at)
    events = issue.events.count()
    client.force_login(staff)

    r = client.post(
        transition(issue, "resolve"),
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "我写的办理结果，很长。",
            "resolve-reply": "已答复居民。",
        },
    )

    assert r.status_code == 409
    html = r.content.decode()
    issue.refresh_from_db()
    assert (issue.status, issue.resolved_at, issue.resolution, issue.last_activity_at) == before
    assert issue.events.count() == events
    # Who changed it is named, and what was typed is still in the form.
    assert "央金" in html
    assert "我写的办理结果，很长。" in html
    assert 'data-testid="status"' in html


@pytest.mark.parametrize(
    ("status", "action", "data"),
    [
        ("listed", "list", {"list-seen_status": "collected"}),
        ("in_progress", "start", {"start-seen_status": "listed"}),
        ("collected", "reopen", {"reopen-seen_status": "resolved", "reopen-reason": "没修好"}),
    ],
)
def test_it_refuses_each_stale_action_and_changes_nothing(
    client, staff, issue, status, action, data
):
    Issue.objects.filter(pk=issue.pk).update(status=status)
    issue.refresh_from_db()
    client.force_login(staff)

    r = client.post(transition(issue, action), data)

    assert r.status_code == 409
    issue.refresh_from_db()
    assert issue.status == status
    assert not issue.events.exists()
    assert "alert-error" in r.content.decode()


def test_it_refuses_a_stale_reassignment(client, staff, assignee, grid_worker, issue):
    Issue.objects.filter(pk=issue.pk).update(assignee=assignee)
    client.force_login(staff)

    # The page was drawn when nobody was assigned.
    r = client.post(
        url(issue, "assign"), {"assign-assignee": grid_worker.pk, "assign-seen_assignee": ""}
    )

    assert r.status_code == 409
    issue.refresh_from_db()
    assert issue.assignee == assignee
    assert not issue.events.exists()


# --- Scope ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("transition", ["list"], {"list-seen_status": "collected"}),
        ("assign", [], {"assign-assignee": "1"}),
        ("comment", [], {"note": "看看"}),
        ("mediation", [], {"mediation-parties": "甲乙"}),
    ],
)
def test_it_answers_404_to_an_outsider(client, outsider, issue, name, args, data):
    client.force_login(outsider)

    assert client.get(url(issue)).status_code == 404
    assert client.post(url(issue, name, *args), data).status_code == 404
    issue.refresh_from_db()
    assert issue.status == S.COLLECTED
    assert not issue.events.exists()


def test_it_answers_404_to_a_grid_worker_of_another_grid(client, other_grid_worker, issue):
    client.force_login(other_grid_worker)

    assert client.get(url(issue)).status_code == 404


def test_it_hides_an_outsiders_photo(client, outsider, issue, grid_worker):
    photo = Attachment.objects.create(
        issue=issue, image=ContentFile(png(), name="p.jpg"), uploaded_by=grid_worker
    )
    client.force_login(outsider)

    assert client.get(url(issue, "photo", str(photo.pk), "full")).status_code == 404


@pytest.mark.parametrize(
    ("name", "args", "data"),
    [
        ("transition", ["list"], {"list-seen_status": "collected"}),
        ("assign", [], {"assign-assignee": "1", "assign-seen_assignee": ""}),
        ("comment", [], {"note": "看看"}),
        ("mediation", [], {"mediation-parties": "甲乙"}),
    ],
)
def test_it_answers_403_to_an_officials_post(client, official, issue, name, args, data):
    client.force_login(official)

    r = client.post(url(issue, name, *args), data)

    assert r.status_code == 403
    issue.refresh_from_db()
    assert issue.status == S.COLLECTED
    assert not issue.events.exists()


# --- Query count ---------------------------------------------------------------------------------


def test_it_draws_the_page_in_the_same_queries_with_5_and_50_events(
    client, staff, grid_worker, assignee, issue, django_assert_num_queries
):
    Issue.objects.filter(pk=issue.pk).update(
        status=S.IN_PROGRESS, category=category("dispute"), assignee=assignee
    )
    for _ in range(2):
        Attachment.objects.create(
            issue=issue, image=ContentFile(png(), name="p.jpg"), uploaded_by=grid_worker
        )
        MediationFactory(issue=issue, mediator=assignee, mediated_on=date(2026, 1, 5))
    client.force_login(staff)
    actors = [staff, grid_worker, assignee, None]

    for n in (5, 50):
        while issue.events.count() < n:
            IssueEventFactory(issue=issue, actor=actors[issue.events.count() % 4])
        # 1. session, 2. user, 3. scope, 4. the issue with its category, courtyard, grid,
        # community, assignee, logger, patrol and original, 5. events with their actors,
        # 6. follow-up visits with assignee and visitor, 7. photos, 8. mediations with their
        # mediators, 9. the further residents who reported it, 10. the reports merged into it,
        # 11. the unread badge, 12. the people the assign form offers
        with django_assert_num_queries(12):
            r = client.get(url(issue))
        assert r.status_code == 200
        assert len(r.context["events"]) == n


def test_it_answers_a_stale_htmx_action_with_the_main_part_and_409(client, staff, issue):
    Issue.objects.filter(pk=issue.pk).update(status=S.LISTED)
    client.force_login(staff)

    r = client.post(
        transition(issue, "list"), {"list-seen_status": "collected"}, headers={"HX-Request": "true"}
    )

    html = r.content.decode().strip()
    assert r.status_code == 409
    assert html.startswith('<div id="issue-main">')
    assert "alert-error" in html
    assert not issue.events.exists()


def test_it_shows_the_systems_events_in_the_timeline(client, staff, issue):
    IssueEventFactory(issue=issue, actor=None, action="schedule", note="2026-03-09")
    client.force_login(staff)

    r = client.get(url(issue))

    assert r.status_code == 200
    assert "2026-03-09" in r.content.decode()


# --- Urgent work first (issue 13, item 5) --------------------------------------------------------


def test_it_puts_handle_now_above_the_photos_and_timeline_of_an_urgent_issue(
    client, grid_worker, issue
):
    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(grid_worker)

    html = client.get(url(issue)).content.decode()

    # Once, at the top: before the description, the timeline and the comment box.
    assert html.count('data-testid="action-handle_now"') == 1
    top = html.index('data-testid="urgent-now"')
    assert top < html.index('data-testid="action-handle_now"')
    assert top < html.index("三号楼前路面塌陷") < html.index('data-testid="timeline"')
    assert 'name="handle_now-seen_status" value="collected"' in html
    assert f'action="{transition(issue, "handle_now")}"' in html


def test_it_keeps_the_other_actions_in_their_place_for_staff(client, staff, issue):
    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(staff)

    html = client.get(url(issue)).content.decode()

    assert html.index('data-testid="action-handle_now"') < html.index('data-testid="timeline"')
    assert html.index('data-testid="timeline"') < html.index('data-testid="action-list"')


def test_it_offers_no_urgent_block_on_a_normal_issue_or_to_an_official(
    client, staff, official, issue
):
    client.force_login(staff)
    assert 'data-testid="urgent-now"' not in client.get(url(issue)).content.decode()

    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(official)
    assert 'data-testid="urgent-now"' not in client.get(url(issue)).content.decode()


def test_it_offers_handle_now_on_the_saved_screen_of_an_urgent_issue(client, grid_worker, issue):
    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(grid_worker)

    html = client.get(url(issue, "created")).content.decode()

    assert 'data-testid="urgent-now"' in html
    assert f'action="{transition(issue, "handle_now")}"' in html
    assert 'name="handle_now-seen_status" value="collected"' in html
    # The saved screen has no issue page to swap: a plain post, redirected to the issue.
    assert "hx-post" not in html.split('data-testid="urgent-now"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    ("urgency", "status"),
    [(Urgency.NORMAL, S.COLLECTED), (Urgency.URGENT, S.IN_PROGRESS), (Urgency.URGENT, S.LISTED)],
)
def test_it_offers_no_handle_now_on_the_saved_screen_when_the_table_does_not(
    client, grid_worker, issue, urgency, status
):
    Issue.objects.filter(pk=issue.pk).update(urgency=urgency, status=status)
    client.force_login(grid_worker)

    r = client.get(url(issue, "created"))

    assert r.status_code == 200
    assert r.context["handle_now_form"] is None
    assert "action-handle_now" not in r.content.decode()


def test_it_offers_handle_now_on_the_saved_screen_only_to_who_may(client, staff, grid, issue):
    """The logger and staff may; a colleague of the same grid who did not log it may not."""
    colleague = GridWorkerFactory(grids=[grid]).user
    Issue.objects.filter(pk=issue.pk).update(urgency=Urgency.URGENT)
    client.force_login(staff)
    assert client.get(url(issue, "created")).context["handle_now_form"] is not None

    client.force_login(colleague)
    r = client.get(url(issue, "created"))
    assert r.status_code == 200
    assert r.context["handle_now_form"] is None
