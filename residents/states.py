"""The state of a matter in a resident's plain words (the tracking page, the text messages)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy

from issues.models import Issue

S = Issue.Status

PLAIN_STATES: dict[str, Promise] = {
    S.COLLECTED: pgettext_lazy("resident", "Received"),
    S.LISTED: pgettext_lazy("resident", "On the community's list"),
    S.IN_PROGRESS: pgettext_lazy("resident", "Being handled"),
    S.RESOLVED: pgettext_lazy("resident", "Done"),
    S.REVISITED: pgettext_lazy("resident", "Done, and we came back to check"),
}

# The steps the tracking page draws, with the issue's column that dates each.
STEPS: list[tuple[str, str]] = [
    (S.COLLECTED, "created_at"),
    (S.LISTED, "listed_at"),
    (S.IN_PROGRESS, "started_at"),
    (S.RESOLVED, "resolved_at"),
    (S.REVISITED, "revisited_at"),
]


# Closed without resolving, by outcome. A duplicate's page follows the issue it joined instead.
CLOSED_STATES: dict[str, Promise] = {
    Issue.Outcome.DUPLICATE: pgettext_lazy("resident", "Merged with the same matter"),
    Issue.Outcome.REFERRED: pgettext_lazy("resident", "Referred to another body"),
    Issue.Outcome.NOT_ACCEPTED: pgettext_lazy("resident", "Not taken up by the community"),
}


def plain_state(issue: Issue) -> Promise:
    if issue.status == S.CLOSED:
        return CLOSED_STATES[issue.outcome]
    return PLAIN_STATES[issue.status]


def followed(issue: Issue) -> Issue:
    """The issue whose progress the resident follows: a duplicate follows its original."""
    if issue.outcome == Issue.Outcome.DUPLICATE and issue.duplicate_of is not None:
        return issue.duplicate_of
    return issue
