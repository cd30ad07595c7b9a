"""Replies to the resident (答复): the timeline's one public kind of entry.

Every other entry is internal. A reply goes out to a resident who left a phone as a text
message carrying the tracking link (residents/texts.py), as does each change of state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils.translation import gettext as _

from issues import workflow
from issues.models import Issue, IssueEvent
from issues.services import TransitionRefused, _event, actors_for

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def may_reply(user: User, issue: Issue) -> bool:
    """Staff of the issue's community and its assignee, as the transition table says."""
    return workflow.may_reply(actors_for(user, issue))


def has_reply(issue: Issue) -> bool:
    return issue.events.filter(action__in=IssueEvent.PUBLIC_ACTIONS).exists()


@transaction.atomic
def reply_to_resident(issue: Issue, *, by: User, text: str) -> IssueEvent:
    """Write a public reply; the resident who left a phone is sent it after commit."""
    from residents import texts

    text = text.strip()
    if not text:
        raise TransitionRefused(_("Write the reply to the resident first."))
    if not may_reply(by, issue):
        raise TransitionRefused(
            _("Only the community's staff and the assignee can reply to the resident.")
        )
    event = _event(issue, IssueEvent.Action.REPLY, by=by, note=text)
    texts.tell_resident_on_commit(issue, event)
    return event


def require_reply(issue: Issue) -> None:
    """事事有答复: an issue with a resident is not resolved or closed without a reply."""
    if issue.has_resident and not has_reply(issue):
        raise TransitionRefused(
            _("This concern came from a resident: write a reply to them before resolving it.")
        )
