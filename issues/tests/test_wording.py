"""What the app says in Chinese where it used to read as machine text (issue 13, item 11)."""

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone, translation

from grids.models import Patrol
from issues import services
from issues.forms import CaptureForm, MediationForm
from issues.models import FollowUp, Issue, IssueEvent, Mediation
from issues.services import TransitionRefused
from issues.tests.factories import FollowUpFactory, IssueFactory, category

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def test_it_says_how_long_a_title_may_be_in_plain_chinese(grid_worker):
    form = CaptureForm(data={"title": "路" * 121}, user=grid_worker)

    assert not form.is_valid()
    assert form.errors["title"] == ["最多 120 个字，现有 121 个字，请删减。"]


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        (Issue.Status.LISTED, "start", "已开始办理。"),
        (Issue.Status.IN_PROGRESS, "resolve", "已办结。"),
        (Issue.Status.RESOLVED, "reopen", "已重新办理，问题回到办理中。"),
    ],
)
def test_it_says_what_was_done_in_a_sentence_of_its_own(
    client, staff, assignee, courtyard, status, action, message
):
    issue = IssueFactory(courtyard=courtyard, status=status, assignee=assignee)
    client.force_login(staff)

    r = client.post(
        reverse("issues:transition", args=[issue.reference, action]),
        {
            f"{action}-seen_status": status,
            f"{action}-resolution": "已修复。",
            f"{action}-reason": "居民反映仍未修好。",
            f"{action}-reply": "已修复，谢谢您的反映。",
        },
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert r.status_code == 302
    assert [str(m) for m in get_messages(r.wsgi_request)] == [message]
    assert issue.events.filter(action=action).exists()


def test_it_names_the_refused_action_by_its_button(staff, assignee, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=Issue.Status.LISTED, assignee=assignee)

    with pytest.raises(TransitionRefused) as refused:
        services.check_allowed(issue, "list", by=staff, seen_status=Issue.Status.LISTED)

    assert str(refused.value) == "该问题当前状态为“已列入清单”，此时不能“列入清单”。"


def test_it_prompts_for_the_mediation_outcome_instead_of_dashes():
    html = str(MediationForm()["outcome"])

    assert '<option value="" selected>请选择调解结果</option>' in html
    assert "---------" not in html


def test_it_writes_the_mediation_outcome_with_a_full_width_colon(staff, courtyard):
    issue = IssueFactory(
        courtyard=courtyard, status=Issue.Status.IN_PROGRESS, category=category("dispute")
    )

    services.record_mediation(
        issue,
        by=staff,
        mediated_on=timezone.localdate(),
        parties="住户甲、住户乙",
        method=Mediation.Method.IN_PERSON,
        outcome=Mediation.Outcome.AGREEMENT,
        agreement="双方同意共同承担维修费用。",
    )

    event = issue.events.get(action=IssueEvent.Action.MEDIATE)
    assert event.note == "达成协议：双方同意共同承担维修费用。"


def test_it_does_not_call_a_basically_satisfied_resident_satisfied(grid_worker, courtyard):
    now = timezone.now()
    issue = IssueFactory(
        courtyard=courtyard, status=Issue.Status.RESOLVED, resolved_at=now - timedelta(days=4)
    )
    visit = FollowUpFactory(issue=issue, due_at=now - timedelta(days=1), assignee=grid_worker)

    services.record_follow_up(
        FollowUp.objects.select_related("issue").get(pk=visit.pk),
        by=grid_worker,
        method=FollowUp.Method.PHONE,
        satisfaction=FollowUp.Satisfaction.BASICALLY,
    )

    revisit = issue.events.get(action=IssueEvent.Action.REVISIT)
    assert revisit.note == "到期的回访均已完成，居民表示满意或基本满意。"


def test_it_tells_a_patrol_hazard_apart_from_a_residents_concern(
    client, grid_worker, grid, courtyard
):
    patrol = Patrol.objects.create(
        grid_worker=grid_worker, grid=grid, kind=Patrol.Kind.SAFETY, started_at=timezone.now()
    )
    hazard = IssueFactory(courtyard=courtyard, patrol=patrol, source="patrol")
    concern = IssueFactory(courtyard=courtyard)
    client.force_login(grid_worker)

    saved_hazard = client.get(reverse("issues:created", args=[hazard.reference])).text
    saved_concern = client.get(reverse("issues:created", args=[concern.reference])).text

    assert "已保存为本次巡查发现的隐患，编号：" in saved_hazard
    assert "居民" not in saved_hazard
    assert "已保存。请将以下编号告知居民：" in saved_concern
