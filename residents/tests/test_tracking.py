import pytest
from django.urls import reverse

from issues.models import Issue, IssueEvent
from issues.tests.factories import IssueEventFactory, IssueFactory

pytestmark = pytest.mark.django_db

S = Issue.Status


def track_url(issue):
    return reverse("residents:track", args=[issue.reference])


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (S.COLLECTED, "已收到"),
        (S.LISTED, "已列入清单"),
        (S.IN_PROGRESS, "正在办理"),
        (S.RESOLVED, "已办结"),
        (S.REVISITED, "已回访"),
    ],
)
def test_it_tells_the_state_in_plain_words(client, courtyard, status, words):
    issue = IssueFactory(courtyard=courtyard, status=status)

    r = client.get(track_url(issue))

    assert r.status_code == 200
    assert f'data-testid="state">{words}<' in r.text


def test_it_speaks_tibetan_for_the_fixed_words(client, courtyard):
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS)
    client.cookies["django_language"] = "bo"

    r = client.get(track_url(issue))

    assert "སྒྲུབ་བཞིན་པ།" in r.text
    assert "正在办理" not in r.text


def test_it_shows_public_replies_and_nothing_personal(client, courtyard, assignee):
    assignee.first_name = "央金承办"
    assignee.save()
    issue = IssueFactory(
        courtyard=courtyard,
        status=S.IN_PROGRESS,
        assignee=assignee,
        resident_name="卓玛居民",
        resident_phone="13812341234",
        description="我家住三单元",
    )
    IssueEventFactory(issue=issue, action=IssueEvent.Action.COMMENT, note="内部意见：先找物业")
    IssueEventFactory(issue=issue, action=IssueEvent.Action.REPLY, note="已派人查看，三天内修好。")

    r = client.get(track_url(issue))

    assert "已派人查看，三天内修好。" in r.text
    for secret in ("内部意见", "卓玛居民", "13812341234", "1234", "央金承办", "我家住三单元"):
        assert secret not in r.text
    assert "<img" not in r.text


def test_it_escapes_a_hostile_reply(client, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    IssueEventFactory(issue=issue, action=IssueEvent.Action.REPLY, note="<b onmouseover=x>hi</b>")

    r = client.get(track_url(issue))

    assert "<b onmouseover" not in r.text
    assert "&lt;b onmouseover=x&gt;hi&lt;/b&gt;" in r.text


def test_the_lookup_form_goes_to_the_reference_however_typed(client, courtyard):
    issue = IssueFactory(courtyard=courtyard)
    typed = issue.reference.replace("-", " ").lower()

    r = client.get(reverse("residents:track_lookup"), {"reference": typed})

    assert r.status_code == 302
    assert r["Location"] == track_url(issue)


def test_an_unknown_reference_says_so_in_the_residents_language(client, db):
    r = client.get(reverse("residents:track", args=["ABCD-EFGH"]))

    assert r.status_code == 404
    assert "没有找到这个查询码对应的诉求" in r.text


def test_lookups_are_rate_limited(client, courtyard, settings):
    settings.TRACKING_LOOKUPS_PER_HOUR_PER_ADDRESS = 3
    issue = IssueFactory(courtyard=courtyard)
    for ref in ("ABCD-EFGH", "ABCD-EFGJ", issue.reference):
        client.get(reverse("residents:track", args=[ref]))

    r = client.get(track_url(issue))

    assert r.status_code == 429
    assert 'data-testid="state"' not in r.text
    assert "短时间内从这里查询的次数过多" in r.text
