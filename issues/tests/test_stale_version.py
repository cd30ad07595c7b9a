"""An action drawn before changes that came back to the same status is refused.

Comparing the status alone let a "reopen" drawn while an issue was resolved go through after
it had been reopened and resolved again; the page now carries the state's version too.
"""

import pytest
from django.urls import reverse

from issues import services
from issues.models import Issue, IssueEvent
from issues.tests.factories import IssueFactory

pytestmark = pytest.mark.django_db

S = Issue.Status


def transition(issue: Issue, action: str) -> str:
    return reverse("issues:transition", args=[issue.reference, action])


def drawn_form(client, issue: Issue, action: str) -> dict:
    """The hidden fields of one action's form, as the page drew them."""
    r = client.get(issue.get_absolute_url())
    form = dict(r.context["action_forms"])[action]
    return {f"{action}-{name}": form[name].value() for name in ("seen_status", "seen_version")}


@pytest.fixture
def resolved(courtyard, staff) -> Issue:
    issue = IssueFactory(courtyard=courtyard, status=S.IN_PROGRESS, resident_phone="")
    services.resolve_issue(
        issue, by=staff, seen_status=S.IN_PROGRESS, resolution="已修复。", reply="已修复。"
    )
    issue.refresh_from_db()
    return issue


def reopen_and_resolve_again(issue: Issue, staff) -> None:
    services.reopen_issue(issue, by=staff, seen_status=S.RESOLVED, reason="又塌了。")
    services.resolve_issue(
        issue, by=staff, seen_status=S.IN_PROGRESS, resolution="再次修复。", reply="已再次修复。"
    )
    issue.refresh_from_db()


def test_it_draws_the_version_into_every_action_form(client, staff, resolved):
    client.force_login(staff)

    fields = drawn_form(client, resolved, "reopen")

    last = resolved.events.exclude(to_status="").order_by("-pk").first()
    assert fields == {"reopen-seen_status": "resolved", "reopen-seen_version": last.pk}
    html = client.get(resolved.get_absolute_url()).content.decode()
    assert f'name="reopen-seen_version" value="{last.pk}"' in html


def test_it_refuses_an_action_drawn_before_a_reopen_and_a_second_resolve(client, staff, resolved):
    client.force_login(staff)
    old_form = drawn_form(client, resolved, "reopen")
    reopen_and_resolve_again(resolved, staff)
    events = resolved.events.count()

    r = client.post(transition(resolved, "reopen"), {**old_form, "reopen-reason": "旧页面。"})

    assert r.status_code == 409
    resolved.refresh_from_db()
    assert resolved.status == S.RESOLVED
    assert resolved.events.count() == events  # no event written
    assert "重新加载" in r.content.decode() or "刷新" in r.content.decode()
    assert "旧页面。" in r.content.decode()  # what was typed comes back


def test_it_refuses_it_in_the_service_too(staff, resolved):
    version = services.state_version(resolved.events.all())
    reopen_and_resolve_again(resolved, staff)
    events = resolved.events.count()

    with pytest.raises(services.TransitionRefused):
        services.reopen_issue(
            resolved, by=staff, seen_status=S.RESOLVED, seen_version=version, reason="旧。"
        )

    assert resolved.events.count() == events


def test_it_accepts_the_current_version(client, staff, resolved):
    client.force_login(staff)

    r = client.post(
        transition(resolved, "reopen"),
        {**drawn_form(client, resolved, "reopen"), "reopen-reason": "又塌了。"},
    )

    assert r.status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == S.IN_PROGRESS


def test_it_is_not_made_stale_by_a_comment(client, staff, grid_worker, resolved):
    client.force_login(staff)
    form = drawn_form(client, resolved, "reopen")
    services.comment_on_issue(resolved, by=grid_worker, note="住户来电询问。")

    r = client.post(transition(resolved, "reopen"), {**form, "reopen-reason": "又塌了。"})

    assert r.status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == S.IN_PROGRESS


def test_it_still_compares_the_status_alone_for_a_form_without_a_version(client, staff, resolved):
    client.force_login(staff)
    reopen_and_resolve_again(resolved, staff)

    r = client.post(
        transition(resolved, "reopen"),
        {"reopen-seen_status": "resolved", "reopen-reason": "又塌了。"},
    )

    assert r.status_code == 302
    resolved.refresh_from_db()
    assert resolved.status == S.IN_PROGRESS
    assert resolved.events.filter(action=IssueEvent.Action.REOPEN).count() == 2
