"""Replies to the resident (答复), the resolve guard, and the text messages."""

import pytest
from django.urls import reverse

from grassroots import sms
from issues import replies, services
from issues.models import Issue, IssueEvent
from issues.services import TransitionRefused
from issues.tests.factories import IssueEventFactory, IssueFactory
from residents import texts
from residents.models import SentText

pytestmark = pytest.mark.django_db

S = Issue.Status


def test_staff_reply_is_a_public_timeline_entry(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)

    event = replies.reply_to_resident(issue, by=staff, text="  已安排维修。 ")

    assert (event.action, event.note, event.actor) == ("reply", "已安排维修。", staff)
    assert event.is_public
    assert not IssueEventFactory(issue=issue).is_public


def test_the_assignee_may_reply(assignee, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.LISTED, assignee=assignee)

    replies.reply_to_resident(issue, by=assignee, text="明天上门。")

    assert issue.events.filter(action="reply").count() == 1


@pytest.mark.parametrize("who", ["grid_worker", "official", "outsider"])
def test_others_may_not_reply(request, courtyard, who):
    user = request.getfixturevalue(who)
    issue = IssueFactory(courtyard=courtyard)

    with pytest.raises(TransitionRefused):
        replies.reply_to_resident(issue, by=user, text="好的")

    assert not issue.events.exists()


def test_an_empty_reply_is_refused(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)

    with pytest.raises(TransitionRefused):
        replies.reply_to_resident(issue, by=staff, text="   ")

    assert not issue.events.exists()


def test_the_issue_page_shows_the_reply_form_and_marks_public_entries(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    IssueEventFactory(issue=issue, action=IssueEvent.Action.REPLY, note="已答复")
    IssueEventFactory(issue=issue, action=IssueEvent.Action.COMMENT, note="内部")
    client.force_login(staff)

    r = client.get(issue.get_absolute_url())

    assert 'data-testid="reply-form"' in r.text
    assert r.text.count('data-testid="public-entry"') == 1
    assert "公开：居民可见" in r.text
    assert "其余记录均为内部记录" in r.text


def test_a_grid_worker_sees_no_reply_form(client, grid_worker, courtyard):
    issue = IssueFactory(courtyard=courtyard, created_by=grid_worker)
    client.force_login(grid_worker)

    r = client.get(issue.get_absolute_url())

    assert 'data-testid="reply-form"' not in r.text


def test_replying_from_the_page_writes_the_entry(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = client.post(reverse("residents:reply", args=[issue.reference]), {"reply-text": "已修好"})

    assert r.status_code == 302
    assert issue.events.get().note == "已修好"


def test_an_empty_reply_from_the_page_is_refused_and_changes_nothing(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(staff)

    r = client.post(reverse("residents:reply", args=[issue.reference]), {"reply-text": ""})

    assert r.status_code == 409
    assert not issue.events.exists()


def test_an_outsider_cannot_reach_the_reply(client, outsider, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    client.force_login(outsider)

    r = client.post(reverse("residents:reply", args=[issue.reference]), {"reply-text": "x"})

    assert r.status_code == 404
    assert not issue.events.exists()


# --- Resolving needs a reply when there is a resident ----------------------------------


def test_has_resident_is_one_definition(courtyard):
    assert IssueFactory.build(resident_name="卓玛", resident_phone="").has_resident
    assert IssueFactory.build(resident_name="", resident_phone="13812341234").has_resident
    assert IssueFactory.build(resident_name="", resident_phone="", source="qr").has_resident
    assert not IssueFactory.build(resident_name="", resident_phone="", source="visit").has_resident


def test_resolving_an_issue_with_a_resident_is_refused_without_a_reply(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)

    with pytest.raises(TransitionRefused, match=r"答复|reply"):
        services.resolve_issue(issue, by=staff, seen_status=S.IN_PROGRESS, resolution="修好了")

    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    assert not issue.events.exists()


def test_resolving_with_a_reply_writes_both(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)

    services.resolve_issue(
        issue, by=staff, seen_status=S.IN_PROGRESS, resolution="修好了", reply="路面已修复。"
    )

    issue.refresh_from_db()
    assert issue.status == S.RESOLVED
    assert list(issue.events.values_list("action", flat=True)) == ["reply", "resolve"]


def test_an_earlier_reply_is_enough(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)
    replies.reply_to_resident(issue, by=staff, text="已安排。")

    services.resolve_issue(issue, by=staff, seen_status=S.IN_PROGRESS, resolution="修好了")

    issue.refresh_from_db()
    assert issue.status == S.RESOLVED


def test_an_issue_without_a_resident_resolves_without_a_reply(staff, courtyard):
    issue = IssueFactory(
        courtyard=courtyard, status=S.IN_PROGRESS, resident_name="", resident_phone=""
    )

    services.resolve_issue(issue, by=staff, seen_status=S.IN_PROGRESS, resolution="修好了")

    issue.refresh_from_db()
    assert issue.status == S.RESOLVED


def test_a_stale_resolve_with_a_reply_leaves_no_reply_and_names_who_acted(
    staff, assignee, courtyard
):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, assignee=assignee)
    stale = Issue.objects.get(pk=issue.pk)
    services.resolve_issue(
        issue, by=assignee, seen_status=S.IN_PROGRESS, resolution="修好了", reply="好了"
    )

    with pytest.raises(TransitionRefused) as refused:
        services.resolve_issue(
            stale, by=staff, seen_status=S.IN_PROGRESS, resolution="另一种", reply="我的答复"
        )

    assert "央金" in str(refused.value)
    assert not issue.events.filter(note="我的答复").exists()


def test_the_resolve_form_refuses_without_a_reply_and_keeps_the_text(client, staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)
    client.force_login(staff)
    url = reverse("issues:transition", args=[issue.reference, "resolve"])

    r = client.post(url, {"resolve-seen_status": "in_progress", "resolve-resolution": "已修复"})

    assert r.status_code == 409
    assert "办结前请先答复居民" in r.text
    assert "已修复" in r.text
    ok = client.post(
        url,
        {
            "resolve-seen_status": "in_progress",
            "resolve-resolution": "已修复",
            "resolve-reply": "路面已修好，谢谢反映。",
        },
    )
    assert ok.status_code == 302
    issue.refresh_from_db()
    assert issue.status == S.RESOLVED


# --- Text messages ---------------------------------------------------------------------


def run_on_commit(callbacks):
    for callback in callbacks:
        callback()


def test_a_reply_texts_the_resident_with_the_tracking_link(
    staff, courtyard, django_capture_on_commit_callbacks
):
    issue = IssueFactory(courtyard=courtyard, resident_phone="13812341234")
    with django_capture_on_commit_callbacks() as callbacks:
        event = replies.reply_to_resident(issue, by=staff, text="已安排维修。")
    assert len(callbacks) == 1

    assert texts.text_resident(event.pk) == 1
    assert texts.text_resident(event.pk) == 0  # a resent task sends nothing twice

    [message] = sms.outbox
    assert message.to == "13812341234"
    assert "已安排维修。" in message.body
    assert f"https://grassroots.example.org/t/{issue.reference}/" in message.body
    assert SentText.objects.get().event == event


def test_a_change_of_state_texts_the_resident_in_their_language(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, resident_phone="13812341234", resident_language="bo")

    event = services.list_issue(issue, by=staff, seen_status=S.COLLECTED)
    texts.text_resident(event.pk)

    [message] = sms.outbox
    assert "ཐོ་གཞུང་དུ་བཀོད་ཟིན།" in message.body
    assert issue.reference in message.body


def test_nobody_is_texted_without_a_phone_or_for_an_internal_entry(staff, courtyard):
    no_phone = IssueFactory(courtyard=courtyard, resident_phone="")
    with_phone = IssueFactory(courtyard=courtyard)
    listed = services.list_issue(no_phone, by=staff, seen_status=S.COLLECTED)
    comment = services.comment_on_issue(with_phone, by=staff, note="内部")

    assert texts.text_resident(listed.pk) == 0
    assert texts.text_resident(comment.pk) == 0
    assert sms.outbox == []


def test_the_file_backend_writes_one_file_per_message(settings, tmp_path):
    settings.SMS_BACKEND = "grassroots.sms.FileBackend"
    settings.SMS_FILE_PATH = tmp_path / "sms"

    sms.send_sms("13812341234", "第一条")
    sms.send_sms("13812341234", "第二条")

    bodies = sorted(p.read_text(encoding="utf-8") for p in (tmp_path / "sms").iterdir())
    assert bodies == ["13812341234\n\n第一条\n", "13812341234\n\n第二条\n"]
