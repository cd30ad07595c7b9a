"""Closing an issue without resolving it: a duplicate, referred to another body (转办), or
not accepted. A terminal outcome of the transition table, with a reply to the resident."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext as _

from issues import replies
from issues.models import Issue, IssueEvent
from issues.services import TransitionRefused, _stale_message, check_allowed, transition_issue

if TYPE_CHECKING:
    from django.contrib.auth.models import User

OUT = Issue.Outcome


def _normalised(reference: str) -> str:
    raw = "".join(ch for ch in reference.upper() if ch.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


def _original(issue: Issue, reference: str, by: User) -> Issue:
    """The issue a duplicate joins: in the same community, visible, open or resolved."""
    reference = _normalised(reference)
    if not reference:
        raise TransitionRefused(_("Give the reference of the issue it duplicates."))
    original = (
        Issue.objects.visible_to(by)
        .filter(reference=reference, community_id=issue.community_id)
        .exclude(pk=issue.pk)
        .first()
    )
    if original is None:
        raise TransitionRefused(
            _("There is no issue %(ref)s in this community.") % {"ref": reference}
        )
    if original.status == Issue.Status.CLOSED:
        raise TransitionRefused(
            _("%(ref)s is closed itself: merge into the issue it joined.") % {"ref": reference}
        )
    return original


def close_issue(
    issue: Issue,
    *,
    by: User,
    seen_status: str,
    outcome: str,
    reply: str,
    duplicate_of: str = "",
    referred_to: str = "",
    seen_version: int | None = None,
) -> IssueEvent:
    """Close without resolving; the resident is told why (a reply is required)."""
    check_allowed(issue, "close", by=by, seen_status=seen_status)
    if not reply.strip():
        raise TransitionRefused(_("Closing without resolving needs a reply to the resident."))
    changes: dict[str, Any] = {"outcome": outcome}
    if outcome == OUT.DUPLICATE:
        if issue.duplicates.exists():
            raise TransitionRefused(
                _("Other reports were merged into this issue: it cannot be a duplicate itself.")
            )
        original = _original(issue, duplicate_of, by)
        changes["duplicate_of_id"] = original.pk
        note = _("Duplicate of %(ref)s.") % {"ref": original.reference}
    elif outcome == OUT.REFERRED:
        body = referred_to.strip()
        if not body:
            raise TransitionRefused(_("Name the body the issue was referred to."))
        changes["referred_to"] = body
        note = _("Referred to %(body)s.") % {"body": body}
    elif outcome == OUT.NOT_ACCEPTED:
        note = str(OUT.NOT_ACCEPTED.label)
    else:
        raise TransitionRefused(_("Choose why the issue is closed."))
    with transaction.atomic():
        # Held and checked first, as resolving does: a stale close writes no reply.
        if not Issue.objects.select_for_update().filter(pk=issue.pk, status=seen_status):
            issue.refresh_from_db()
            raise TransitionRefused(_stale_message(issue))
        replies.reply_to_resident(issue, by=by, text=reply)
        return transition_issue(
            issue,
            "close",
            by=by,
            seen_status=seen_status,
            seen_version=seen_version,
            note=note,
            **changes,
        )
