"""State changes of issues: one function per change, each in one transaction.

Each function guards, writes compactly, appends an event row, and enqueues its side effects
on commit. A refusal raises `TransitionRefused` with a message the user sees as it is.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, transaction
from django.db.models import Exists, Field, ForeignObjectRel, Max, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grassroots.celery import enqueue
from grids.access import Scope, may_be_assigned
from grids.models import Courtyard, Patrol, phone_validator
from grids.models import person_name as _name
from issues import notifications, workflow
from issues.models import (
    Attachment,
    Category,
    FollowUp,
    Issue,
    IssueEvent,
    Mediation,
    Notification,
    Reporter,
    Urgency,
    one_line,
)
from issues.photos import CleanPhoto
from issues.workflow import Actor

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class TransitionRefused(Exception):
    """An action the user may not take, or one someone else's change has made stale."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


def actors_for(user: User, issue: Issue) -> set[Actor]:
    """The roles in which `user` stands to `issue`; makes no query once the scope is loaded."""
    scope = Scope.for_user(user)
    actors: set[Actor] = set()
    if scope.is_staff_of(issue.community_id):
        actors.add(Actor.STAFF)
    if issue.assignee_id is not None and issue.assignee_id == user.pk:
        actors.add(Actor.ASSIGNEE)
    if issue.created_by_id == user.pk and scope.walks(issue.grid_id):
        actors.add(Actor.LOGGER)
    return actors


def available_actions(user: User, issue: Issue) -> list[str]:
    """The actions `user` may take on `issue` now: what the issue page offers, and all it does."""
    return workflow.allowed_actions(
        actors_for(user, issue), issue.status, is_urgent=issue.is_urgent
    )


def can_contribute(user: User, issue: Issue) -> bool:
    """Comments and mediations: staff, the assignee and the grid's workers (not officials)."""
    return bool(actors_for(user, issue)) or Scope.for_user(user).walks(issue.grid_id)


def mediation_refusal(user: User, issue: Issue) -> str | None:
    """Why `user` may not record a mediation on the issue; None on an open dispute they work on.

    The issue page offers the mediation form exactly where this is None, and
    `record_mediation` refuses with this reason everywhere else.
    """
    if not can_contribute(user, issue):
        return _("You are not allowed to record a mediation on this issue.")
    if not issue.category.is_dispute:
        return _("Mediations are recorded on disputes only.")
    if not issue.is_open:
        return _("Mediations are recorded while the issue is open.")
    return None


def may_record_mediation(user: User, issue: Issue) -> bool:
    return mediation_refusal(user, issue) is None


# A due date lies between the day the issue was collected and this far ahead of today.
DUE_AHEAD = timedelta(days=365)


def check_due_at(issue: Issue, due_at: datetime) -> None:
    """Refuse a due date before the issue was collected or more than DUE_AHEAD from now."""
    earliest = timezone.localdate(issue.created_at)
    latest = timezone.localdate() + DUE_AHEAD
    if not earliest <= timezone.localdate(due_at) <= latest:
        raise TransitionRefused(
            _("The due date must lie between %(earliest)s and %(latest)s.")
            % {"earliest": earliest.isoformat(), "latest": latest.isoformat()}
        )


def mediation_date_q(issue: Issue) -> Q:
    """Mediations dated on a possible day: not before the issue was collected, not in future."""
    return Q(mediated_on__gte=timezone.localdate(issue.created_at)) & Q(
        mediated_on__lte=timezone.localdate()
    )


def check_mediation_date(issue: Issue, day: date) -> None:
    earliest, today = timezone.localdate(issue.created_at), timezone.localdate()
    if day > today:
        raise TransitionRefused(_("A mediation cannot be dated in the future."))
    if day < earliest:
        raise TransitionRefused(
            _("A mediation cannot be dated before the issue was collected (%(day)s).")
            % {"day": earliest.isoformat()}
        )


def _stale_message(issue: Issue) -> str:
    last = issue.events.select_related("actor").order_by("-created_at", "-pk").first()
    if last is None:
        return _("Someone else has just changed this issue. Reload to see it.")
    who = (last.actor.get_full_name() or last.actor.username) if last.actor else _("the system")
    return _(
        "%(who)s has just changed this issue (%(action)s, %(when)s); it is now “%(status)s”. "
        "Nothing was changed by you; reload to see it."
    ) % {
        "who": who,
        "action": last.get_action_display(),
        "when": timezone.localtime(last.created_at).strftime("%H:%M"),
        "status": Issue.Status(issue.status).label,
    }


def _event(
    issue: Issue,
    action: str,
    *,
    by: User | None,
    note: str = "",
    from_status: str = "",
    to_status: str = "",
    at: datetime | None = None,
) -> IssueEvent:
    at = at or timezone.now()
    Issue.objects.filter(pk=issue.pk).update(last_activity_at=at)
    issue.last_activity_at = at
    return IssueEvent.objects.create(
        issue=issue,
        actor=by,
        action=action,
        note=note,
        from_status=from_status,
        to_status=to_status,
        created_at=at,
    )


def check_allowed(issue: Issue, action: str, *, by: User | None, seen_status: str) -> None:
    """Refuse an action the table does not give this user from the state they saw.

    Called first by every service, so that someone without a part in the issue hears "not
    allowed" rather than a guard's message about what the action would need.
    """
    t = workflow.TRANSITIONS[action]
    if by is None:
        if not workflow.system_may(action, seen_status):
            raise TransitionRefused(_("That change is not possible from this state."))
    elif not workflow.is_allowed(action, actors_for(by, issue), seen_status):
        if seen_status not in t.sources:
            raise TransitionRefused(
                _("This issue is “%(status)s”: “%(action)s” is not possible now.")
                % {
                    "status": Issue.Status(seen_status).label,
                    # The action by its button's name ("列入清单"), not its event's ("已列入清单").
                    "action": render_to_string(
                        "issues/partials/action_label.html", {"action": action}
                    ).strip(),
                }
            )
        raise TransitionRefused(_("You are not allowed to do that to this issue."))
    if t.urgent_only and not issue.is_urgent:
        raise TransitionRefused(_("Only urgent issues can be handled at once; list it."))


def state_version(events: Iterable[IssueEvent]) -> int | None:
    """The version of an issue's state: the id of its last change of state, read off the
    events the page already loaded. Comments and visits leave it as it is."""
    return max((e.pk for e in events if e.to_status), default=None)


@transaction.atomic
def transition_issue(
    issue: Issue,
    action: str,
    *,
    by: User | None,
    seen_status: str,
    seen_version: int | None = None,
    note: str = "",
    **changes: Any,
) -> IssueEvent:
    """Apply one row of the transition table, or refuse it and change nothing.

    `by=None` is the system (automatic revisit and reopen). `changes` are further fields
    written in the same compare-and-set update. `seen_version` (`state_version` when the page
    was drawn) refuses an action drawn before changes that came back to the same status
    (resolved, reopened, resolved again); without it only the status is compared.
    """
    check_allowed(issue, action, by=by, seen_status=seen_status)
    t = workflow.TRANSITIONS[action]
    now = timezone.now()
    # Compare-and-set: if someone moved the issue after this page was drawn, nothing changes.
    unchanged = Issue.objects.filter(pk=issue.pk, status=seen_status)
    if seen_version is not None:
        later = IssueEvent.objects.filter(issue=OuterRef("pk"), pk__gt=seen_version).exclude(
            to_status=""
        )
        unchanged = unchanged.exclude(Exists(later))
    changed = unchanged.update(
        status=t.target, last_activity_at=now, **{workflow.ENTERED_AT[t.target]: now}, **changes
    )
    if not changed:
        issue.refresh_from_db()
        raise TransitionRefused(_stale_message(issue))
    issue.refresh_from_db()
    event = IssueEvent.objects.create(
        issue=issue,
        actor=by,
        action=action,
        note=note,
        from_status=seen_status,
        to_status=t.target,
        created_at=now,
    )
    from residents import texts

    # A resident who left a phone hears of each change of state.
    texts.tell_resident_on_commit(issue, event)
    return event


def default_due_at(issue: Issue, start: datetime | None = None) -> datetime:
    return (start or timezone.now()) + issue.category.time_limit


def list_issue(
    issue: Issue,
    *,
    by: User,
    seen_status: str,
    seen_version: int | None = None,
    assignee: User | None = None,
    due_at: datetime | None = None,
    note: str = "",
) -> IssueEvent:
    """List a collected issue on the duty list, with an assignee and a due date."""
    check_allowed(issue, "list", by=by, seen_status=seen_status)
    with transaction.atomic():
        if due_at is not None:
            check_due_at(issue, due_at)
        due_at = due_at or default_due_at(issue)
        assignee_id = assignee.pk if assignee else issue.assignee_id
        if assignee is not None:
            _check_assignable(assignee, issue)
        parts = [note] if note else []
        if assignee is not None:
            parts.append(_("Assigned to %(name)s.") % {"name": _name(assignee)})
        parts.append(
            _("Due %(date)s.") % {"date": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M")}
        )
        event = transition_issue(
            issue,
            "list",
            by=by,
            seen_status=seen_status,
            seen_version=seen_version,
            note=" ".join(parts),
            assignee_id=assignee_id,
            due_at=due_at,
        )
        if assignee is not None and assignee.pk != by.pk:
            notifications.notify([assignee], Notification.Kind.ASSIGNED, issue=issue)
    return event


def handle_now(
    issue: Issue, *, by: User, seen_status: str, seen_version: int | None = None, note: str = ""
) -> IssueEvent:
    """紧急情况立即办: an urgent issue goes straight to work, with the actor as assignee."""
    check_allowed(issue, "handle_now", by=by, seen_status=seen_status)
    with transaction.atomic():
        return transition_issue(
            issue,
            "handle_now",
            by=by,
            seen_status=seen_status,
            seen_version=seen_version,
            note=note,
            assignee_id=issue.assignee_id or by.pk,
            due_at=issue.due_at or default_due_at(issue),
        )


def start_issue(
    issue: Issue, *, by: User, seen_status: str, seen_version: int | None = None, note: str = ""
) -> IssueEvent:
    return transition_issue(
        issue, "start", by=by, seen_status=seen_status, seen_version=seen_version, note=note
    )


def resolve_issue(
    issue: Issue,
    *,
    by: User,
    seen_status: str,
    resolution: str,
    seen_version: int | None = None,
    amount_recovered: Decimal | None = None,
    people_affected: int | None = None,
    reply: str = "",
) -> IssueEvent:
    """Resolve with a resolution text; a dispute needs a successful mediation first, and an
    issue with a resident a reply to them (written before, or given here as `reply`). A wage
    case records the sum recovered and how many workers it concerns."""
    from issues import replies

    check_allowed(issue, "resolve", by=by, seen_status=seen_status)
    resolution = resolution.strip()
    if not resolution:
        raise TransitionRefused(_("Write how the issue was resolved."))
    with transaction.atomic():
        if reply.strip():
            # The row is held and checked first: a stale resolution writes no reply, and its
            # refusal names whoever really changed the issue, not this reply.
            if not Issue.objects.select_for_update().filter(pk=issue.pk, status=seen_status):
                issue.refresh_from_db()
                raise TransitionRefused(_stale_message(issue))
            replies.reply_to_resident(issue, by=by, text=reply)
        # The mediation first: without one there is nothing yet to answer the resident with.
        if (
            issue.category.is_dispute
            and not issue.mediations.exclude(outcome=Mediation.Outcome.FAILED)
            .filter(mediation_date_q(issue))
            .exists()
        ):
            raise TransitionRefused(_mediation_first(issue.category))
        replies.require_reply(issue)
        changes: dict[str, Any] = {"resolution": resolution}
        if amount_recovered is not None:
            changes["amount_recovered"] = amount_recovered
        if people_affected is not None:
            changes["people_affected"] = people_affected
        event = transition_issue(
            issue,
            "resolve",
            by=by,
            seen_status=seen_status,
            seen_version=seen_version,
            note=resolution,
            **changes,
        )
        issue_id = issue.pk
        # Robust: with the broker down the resolution still stands (and the user sees no error);
        # the periodic sweep schedules the visits the task did not.
        transaction.on_commit(
            lambda: enqueue("issues.tasks.schedule_follow_ups", issue_id), robust=True
        )
    return event


def _mediation_first(category: Category) -> str:
    """Why a category that needs a mediation cannot be resolved yet, in its own words."""
    if category.code == "wage_arrears":
        return _(
            "Record the mediation (the talks with the employer) before resolving a "
            "wage-arrears case."
        )
    if category.code == "dispute":
        return _("Record the mediation before resolving a dispute.")
    return _("Record the mediation before resolving an issue of “%(category)s”.") % {
        "category": category.display_name
    }


def reopen_issue(
    issue: Issue,
    *,
    by: User | None,
    seen_status: str,
    reason: str,
    seen_version: int | None = None,
) -> IssueEvent:
    """Back to work, with a reason; tells the assignee and the community's staff."""
    check_allowed(issue, "reopen", by=by, seen_status=seen_status)
    reason = reason.strip()
    if not reason:
        raise TransitionRefused(_("Give the reason for reopening."))
    with transaction.atomic():
        event = transition_issue(
            issue,
            "reopen",
            by=by,
            seen_status=seen_status,
            seen_version=seen_version,
            note=reason,
            resolved_at=None,
            revisited_at=None,
        )
        # The visits not yet made are dropped: the next resolution schedules them afresh.
        issue.follow_ups.filter(done_at__isnull=True).delete()
        recipients = [u for u in [issue.assignee] if u is not None and u != by]
        recipients += [
            u for u in notifications.staff_of(issue.community_id) if u != by and u not in recipients
        ]
        notifications.notify(recipients, Notification.Kind.REOPENED, issue=issue)
    return event


def perform(issue: Issue, action: str, *, by: User, seen_status: str, **data: Any) -> IssueEvent:
    """Route an action from the issue page to its service."""
    from issues.closing import close_issue

    services: dict[str, Callable[..., IssueEvent]] = {
        "list": list_issue,
        "handle_now": handle_now,
        "start": start_issue,
        "resolve": resolve_issue,
        "reopen": reopen_issue,
        "close": close_issue,
    }
    if action not in services:
        raise TransitionRefused(_("You are not allowed to do that to this issue."))
    return services[action](issue, by=by, seen_status=seen_status, **data)


def _check_assignable(user: User, issue: Issue) -> None:
    """Refuse, saying why, anyone `grids.access.assignable_users` does not offer."""
    if not may_be_assigned(user, issue.community_id, issue.grid_id):
        raise TransitionRefused(
            _(
                "%(name)s is neither on the staff of this community nor an active grid worker "
                "of this issue's grid (%(grid)s)."
            )
            % {"name": _name(user), "grid": issue.grid.name}
        )


@transaction.atomic
def assign_issue(
    issue: Issue,
    *,
    by: User,
    assignee: User,
    seen_assignee_id: int | None,
    due_at: datetime | None = None,
) -> IssueEvent:
    """Reassign an open issue; refused if someone else reassigned it since the page was drawn."""
    if Actor.STAFF not in actors_for(by, issue):
        raise TransitionRefused(_("Only the community's staff can assign issues."))
    if not issue.is_open:
        raise TransitionRefused(_("Only open issues can be reassigned."))
    _check_assignable(assignee, issue)
    changes: dict[str, Any] = {"assignee_id": assignee.pk}
    if due_at is not None:
        check_due_at(issue, due_at)
        changes["due_at"] = due_at
    changed = Issue.objects.filter(
        pk=issue.pk, assignee_id=seen_assignee_id, status__in=Issue.OPEN_STATUSES
    ).update(**changes)
    if not changed:
        issue.refresh_from_db()
        raise TransitionRefused(_stale_message(issue))
    issue.refresh_from_db()
    event = _event(
        issue,
        IssueEvent.Action.ASSIGN,
        by=by,
        note=_("Assigned to %(name)s.") % {"name": _name(assignee)},
    )
    if assignee.pk != by.pk:
        notifications.notify([assignee], Notification.Kind.ASSIGNED, issue=issue)
    return event


@transaction.atomic
def comment_on_issue(issue: Issue, *, by: User, note: str) -> IssueEvent:
    note = note.strip()
    if not note:
        raise TransitionRefused(_("Write a comment first."))
    if not can_contribute(by, issue):
        raise TransitionRefused(_("You are not allowed to comment on this issue."))
    return _event(issue, IssueEvent.Action.COMMENT, by=by, note=note)


def _resent(token: uuid.UUID, by: User | None) -> Issue | None:
    """The issue a resent capture form already created, if it was `by`'s own form (`None`: a
    resident's, through the service card).

    Someone else's token (copied from a page, or guessed) tells nothing: not the issue's
    reference, not even that it exists.
    """
    existing = Issue.objects.filter(submission_token=token).first()
    if existing is None:
        return None
    if existing.created_by_id != (by.pk if by is not None else None):
        raise TransitionRefused(_("This form has already been sent. Reload the page."))
    return existing


@transaction.atomic
def create_issue(
    *,
    by: User | None,
    courtyard: Courtyard,
    category: Category,
    title: str,
    description: str = "",
    urgency: str | None = None,
    source: str = Issue.Source.VISIT,
    resident_name: str = "",
    resident_phone: str = "",
    patrol: Patrol | None = None,
    photos: Iterable[CleanPhoto] = (),
    submission_token: uuid.UUID | None = None,
    people_affected: int | None = None,
    amount_owed: Decimal | None = None,
    created_at: datetime | None = None,
    resident_language: str = "",
) -> tuple[Issue, bool]:
    """Log a concern. Returns (issue, created); a resent form returns the first issue.

    `by=None` is a resident writing through the service card (source `qr`): the card's link
    names the courtyard, and the grid's workers and the community's staff are told.
    """
    if by is None:
        if source != Issue.Source.QR or patrol is not None:
            raise TransitionRefused(
                _("Only a resident's report through the service card has no author.")
            )
    else:
        scope = Scope.for_user(by)
        # The scope first: a token is answered with its issue only after the courtyard is
        # checked.
        if not (scope.walks(courtyard.grid_id) or scope.is_staff_of(courtyard.grid.community_id)):
            raise TransitionRefused(_("That courtyard is outside your grids."))
    if submission_token is not None:
        existing = _resent(submission_token, by)
        if existing is not None:
            return existing, False
    if patrol is not None and (
        by is None or patrol.grid_worker_id != by.pk or patrol.ended_at is not None
    ):
        raise TransitionRefused(_("That patrol is not yours or has ended."))
    if patrol is not None and not patrol.courtyards().filter(pk=courtyard.pk).exists():
        raise TransitionRefused(
            _("%(courtyard)s is not in the grid of this patrol (%(grid)s).")
            % {"courtyard": courtyard.name, "grid": patrol.grid.name}
        )
    now = created_at or timezone.now()
    issue = Issue(
        title=one_line(title),
        description=description.strip(),
        category=category,
        urgency=urgency or category.default_urgency,
        source=Issue.Source.PATROL if patrol else source,
        courtyard=courtyard,
        patrol=patrol,
        resident_name=resident_name.strip(),
        resident_phone=resident_phone.strip(),
        created_by=by,
        created_at=now,
        last_activity_at=now,
        submission_token=submission_token,
        people_affected=people_affected,
        amount_owed=amount_owed,
        resident_language=resident_language,
    )
    issue.set_area_from_courtyard()
    issue.search_text = issue.search_document()
    try:
        with transaction.atomic():
            issue.save()
    except IntegrityError:
        # Two copies of one form arrived at once: the other one stored it.
        existing = _resent(submission_token, by) if submission_token is not None else None
        if existing is None:
            raise
        return existing, False
    _attach(issue, photos, by=by)
    IssueEvent.objects.create(
        issue=issue,
        actor=by,
        action=IssueEvent.Action.CREATE,
        to_status=issue.status,
        created_at=now,
    )
    if issue.source == Issue.Source.QR:
        # Nobody in the community saw it come in: the grid's workers and the staff are told,
        # as for an urgent concern when it is one.
        notifications.notify(
            notifications.grid_workers_of(issue.grid_id)
            + notifications.staff_of(issue.community_id),
            Notification.Kind.URGENT if issue.is_urgent else Notification.Kind.RESIDENT,
            issue=issue,
        )
    elif issue.urgency == Urgency.URGENT:
        notifications.notify(
            [u for u in notifications.staff_of(issue.community_id) if u != by],
            Notification.Kind.URGENT,
            issue=issue,
        )
    return issue, True


def _attach(issue: Issue, photos: Iterable[CleanPhoto], *, by: User | None) -> int:
    """Store photos already checked and re-encoded (`issues.photos.clean_photo`)."""
    n = 0
    for photo in photos:
        Attachment.objects.create(
            issue=issue,
            image=photo.image,
            thumbnail=photo.thumbnail,
            size=photo.size,
            uploaded_by=by,
        )
        n += 1
    return n


def _report_note(words: str, *, photos: int, has_contact: bool) -> str:
    """The timeline's entry for a further report: no name or phone (officials read it too)."""
    if has_contact and photos:
        head = ngettext(
            "A further resident reported this, with %(n)d photo; their name and phone are "
            "kept with the issue's residents.",
            "A further resident reported this, with %(n)d photos; their name and phone are "
            "kept with the issue's residents.",
            photos,
        ) % {"n": photos}
    elif has_contact:
        head = _(
            "A further resident reported this; their name and phone are kept with the issue's "
            "residents."
        )
    elif photos:
        head = ngettext(
            "A further resident reported this, with %(n)d photo.",
            "A further resident reported this, with %(n)d photos.",
            photos,
        ) % {"n": photos}
    else:
        head = _("A further resident reported this.")
    return f"{head}\n{words}" if words else head


@transaction.atomic
def add_reporter_to_issue(
    issue: Issue,
    *,
    by: User,
    name: str = "",
    phone: str = "",
    words: str = "",
    photos: Iterable[CleanPhoto] = (),
    source: str = Issue.Source.VISIT,
    submission_token: uuid.UUID | None = None,
) -> tuple[IssueEvent, bool]:
    """A further resident reported an issue already logged: their name and phone (as a
    `Reporter`), their photos and their words join it, all or nothing. Returns (event,
    created); a resent form (same token) returns the first event and adds nothing."""
    if submission_token is not None:
        existing = IssueEvent.objects.filter(submission_token=submission_token).first()
        if existing is not None:
            if existing.issue_id != issue.pk:
                raise TransitionRefused(
                    _("This form was already saved to %(ref)s; open a new form.")
                    % {"ref": existing.issue.reference}
                )
            return existing, False
    if not Issue.objects.visible_to(by).filter(pk=issue.pk).exists():
        raise TransitionRefused(_("Not found in your area."))
    if not can_contribute(by, issue):
        raise TransitionRefused(_("You are not allowed to comment on this issue."))
    name, phone, words = name.strip(), phone.strip(), words.strip()
    if phone:
        try:
            phone_validator(phone)
        except ValidationError as e:
            raise TransitionRefused(" ".join(e.messages)) from e
    photos = list(photos)
    if not (words or name or phone or photos):
        raise TransitionRefused(
            _("Nothing to add: write what the resident said, or give their name, phone or a photo.")
        )
    now = timezone.now()
    has_contact = bool(name or phone)
    try:
        # The event first: its unique token stops a second copy of the form that arrives at
        # the same moment before it writes anything.
        with transaction.atomic():
            event = IssueEvent.objects.create(
                issue=issue,
                actor=by,
                action=IssueEvent.Action.REPORT,
                note=_report_note(words, photos=len(photos), has_contact=has_contact),
                created_at=now,
                submission_token=submission_token,
            )
    except IntegrityError:
        existing = IssueEvent.objects.filter(submission_token=submission_token).first()
        if submission_token is None or existing is None:
            raise
        return existing, False
    Issue.objects.filter(pk=issue.pk).update(last_activity_at=now)
    if has_contact:
        Reporter.objects.create(
            issue=issue, name=name, phone=phone, source=source, created_by=by, created_at=now
        )
    _attach(issue, photos, by=by)
    return event, True


@transaction.atomic
def record_mediation(
    issue: Issue,
    *,
    by: User,
    mediator: User | None = None,
    mediated_on: date,
    parties: str,
    place: str = "",
    method: str,
    outcome: str,
    agreement: str = "",
) -> Mediation:
    refusal = mediation_refusal(by, issue)
    if refusal is not None:
        raise TransitionRefused(refusal)
    check_mediation_date(issue, mediated_on)
    mediation = Mediation.objects.create(
        issue=issue,
        mediator=mediator or by,
        mediated_on=mediated_on,
        parties=parties.strip(),
        place=place.strip(),
        method=method,
        outcome=outcome,
        agreement=agreement.strip(),
        created_by=by,
    )
    _event(
        issue,
        IssueEvent.Action.MEDIATE,
        by=by,
        note=_("%(outcome)s: %(agreement)s")
        % {"outcome": mediation.get_outcome_display(), "agreement": mediation.agreement}
        if mediation.agreement
        else mediation.get_outcome_display(),
    )
    return mediation


def follow_up_assignee_id(issue: Issue) -> int | None:
    """谁调解、谁回访: the last successful mediator, else whoever resolved the issue."""
    mediation = (
        issue.mediations.exclude(outcome=Mediation.Outcome.FAILED)
        .order_by("-mediated_on", "-pk")
        .first()
    )
    if mediation is not None:
        return mediation.mediator_id
    resolved = issue.events.filter(action=IssueEvent.Action.RESOLVE).order_by("-pk").first()
    if resolved is not None and resolved.actor_id is not None:
        return resolved.actor_id
    return issue.assignee_id or issue.created_by_id


@transaction.atomic
def schedule_follow_ups(issue: Issue) -> int:
    """Create the issue's visits at its category's offsets; running it twice creates nothing."""
    if issue.resolved_at is None:
        return 0
    # Two runs at once (a resent task, the sweep) queue here; the second then finds the visits
    # and writes neither visits nor a second "scheduled" event.
    list(Issue.objects.select_for_update().filter(pk=issue.pk).values_list("pk", flat=True))
    assignee_id = follow_up_assignee_id(issue)
    if assignee_id is None:
        # Nobody acted on it in the app (a resident's report resolved without an event): the
        # sweep does not retry, and staff see the issue resolved with no visits to make.
        return 0
    days = sorted({int(d) for d in issue.category.follow_up_days if int(d) >= 0})
    # The offset of a reopened-and-resolved-again issue counts from the latest resolution,
    # under new visit numbers after the ones already made.
    start_no = issue.follow_ups.aggregate(n=Max("visit_no"))["n"] or 0
    pending = issue.follow_ups.filter(done_at__isnull=True).exists()
    if pending or (
        start_no and issue.follow_ups.filter(created_at__gte=issue.resolved_at).exists()
    ):
        return 0
    rows = [
        FollowUp(
            issue=issue,
            visit_no=start_no + i + 1,
            assignee_id=assignee_id,
            due_at=issue.resolved_at + timedelta(days=d),
            **issue.area_ids(),
        )
        for i, d in enumerate(days)
    ]
    created = FollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    if rows:
        _event(
            issue,
            IssueEvent.Action.SCHEDULE,
            by=None,
            note=", ".join(timezone.localtime(r.due_at).strftime("%Y-%m-%d") for r in rows),
        )
    return len(created)


@transaction.atomic
def record_follow_up(
    visit: FollowUp, *, by: User, method: str, satisfaction: str, notes: str = ""
) -> FollowUp:
    """Record a visit; unsatisfied reopens the issue, all satisfied so far revisits it."""
    issue = visit.issue
    if visit.assignee_id != by.pk and Actor.STAFF not in actors_for(by, issue):
        raise TransitionRefused(_("This visit is assigned to someone else."))
    with transaction.atomic():
        # The issue first, as every writer of its visits and status does: two visits of one
        # issue recorded at once then run one after the other instead of deadlocking.
        list(Issue.objects.select_for_update().filter(pk=visit.issue_id).values_list("pk"))
        now = timezone.now()
        changed = FollowUp.objects.filter(pk=visit.pk, done_at__isnull=True).update(
            done_at=now, done_by=by, method=method, satisfaction=satisfaction, notes=notes.strip()
        )
        if not changed:
            raise TransitionRefused(_("This visit has already been recorded."))
        visit.refresh_from_db()
        _event(
            issue,
            IssueEvent.Action.FOLLOW_UP,
            by=by,
            note=_("Visit %(no)d (%(method)s): %(satisfaction)s. %(notes)s")
            % {
                "no": visit.visit_no,
                "method": visit.get_method_display(),
                "satisfaction": visit.get_satisfaction_display(),
                "notes": visit.notes,
            },
        )
        issue.refresh_from_db()
        if satisfaction == FollowUp.Satisfaction.UNSATISFIED:
            if issue.status in workflow.TRANSITIONS["reopen"].sources:
                reopen_issue(
                    issue,
                    by=None,
                    seen_status=issue.status,
                    reason=_("The resident was not satisfied at follow-up visit %(no)d.")
                    % {"no": visit.visit_no},
                )
        elif (
            issue.status == Issue.Status.RESOLVED
            and not issue.follow_ups.filter(due_at__lte=now, done_at__isnull=True).exists()
            and not issue.follow_ups.filter(
                done_at__isnull=False,
                satisfaction=FollowUp.Satisfaction.UNSATISFIED,
                done_at__gte=issue.resolved_at,
            ).exists()
        ):
            transition_issue(
                issue,
                "revisit",
                by=None,
                seen_status=issue.status,
                note=_(
                    "Every visit due so far is done; the resident was satisfied or basically "
                    "satisfied."
                ),
            )
    return visit


# The beat jobs work a thousand visits at a time, each batch in its own transaction: a batch
# is a handful of queries, and a run cut short by its time limit loses one batch at most,
# which the next run sends.
BEAT_BATCH = 1000


def _column(field: Field | ForeignObjectRel | None) -> str:
    """A concrete field's column (Options types get_field() and pk more loosely)."""
    assert isinstance(field, Field)
    assert field.column is not None
    return field.column


def _batches(visits: QuerySet[FollowUp]) -> Iterator[list[int]]:
    """The ids of `visits` a batch at a time, the longest waiting first, for a run cut short."""
    ids = list(visits.order_by("due_at", "pk").values_list("pk", flat=True))
    for start in range(0, len(ids), BEAT_BATCH):
        yield ids[start : start + BEAT_BATCH]


def _claim(
    visits: QuerySet[FollowUp], ids: list[int], **changes: Any
) -> list[tuple[int, int, int]]:
    """Write `changes` to those of `ids` still in `visits`; (id, issue, assignee) of each.

    One compare-and-set UPDATE claims the batch, so two beat workers never both send a
    reminder: PostgreSQL checks its conditions again on a row that another worker changed
    while this one waited, and SQLite runs the statement alone. Its subquery takes the row
    locks in id order, so the second of two workers waits for the first rather than
    deadlocking with it, and then claims whatever the first gave up (a time-out).
    `QuerySet.update()` returns only a count, hence RETURNING (SQLite 3.35+).
    """
    connection = connections[visits.db]
    batch = visits.filter(pk__in=ids)
    compiler = batch.query.get_compiler(connection=connection)
    where, where_params = compiler.compile(batch.query.where)
    locked = batch.order_by("pk").select_for_update(no_key=True).values("pk")
    subquery, subquery_params = locked.query.get_compiler(connection=connection).as_sql()
    quote = connection.ops.quote_name
    sets, values = [], []
    for name, value in changes.items():
        field = cast(Field, FollowUp._meta.get_field(name))  # a column, not a reverse relation
        sets.append(f"{quote(_column(field))} = %s")
        values.append(field.get_db_prep_save(value, connection))
    returning = ", ".join(
        quote(_column(FollowUp._meta.get_field(name))) for name in ("id", "issue", "assignee")
    )
    # Built only from the model's names and compiled querysets; every value is a parameter.
    sql = (
        f"UPDATE {quote(FollowUp._meta.db_table)} SET {', '.join(sets)} "  # noqa: S608
        f"WHERE {where} AND {quote(_column(FollowUp._meta.pk))} IN ({subquery}) "
        f"RETURNING {returning}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*values, *where_params, *subquery_params])
        return [tuple(row) for row in cursor.fetchall()]


def remind_due_follow_ups(now: datetime) -> int:
    """Tell each due visit's assignee, once per visit per day."""
    today = timezone.localdate(now)
    due = FollowUp.objects.due(now).exclude(reminded_on=today)
    sent = 0
    for ids in _batches(due):
        with transaction.atomic():
            claimed = _claim(due, ids, reminded_on=today)
            notifications.notify_many(
                notifications.Message(
                    assignee_id, Notification.Kind.FOLLOW_UP_DUE, issue_id, visit_id
                )
                for visit_id, issue_id, assignee_id in claimed
            )
        sent += len(claimed)
    return sent


def escalate_overdue_follow_ups(now: datetime) -> int:
    """Tell the community's staff of each visit overdue past the grace period, once."""
    overdue = FollowUp.objects.overdue(now, settings.FOLLOW_UP_GRACE).filter(
        escalated_at__isnull=True
    )
    sent = 0
    for ids in _batches(overdue):
        with transaction.atomic():
            claimed = _claim(overdue, ids, escalated_at=now)
            community_of = dict(
                Issue.objects.filter(pk__in={issue_id for _, issue_id, _ in claimed}).values_list(
                    "pk", "community_id"
                )
            )
            staff = notifications.staff_ids_by_community(community_of.values())
            notifications.notify_many(
                notifications.Message(
                    user_id, Notification.Kind.FOLLOW_UP_OVERDUE, issue_id, visit_id
                )
                for visit_id, issue_id, _ in claimed
                for user_id in staff.get(community_of[issue_id], [])
            )
        sent += len(claimed)
    return sent


def sweep_unscheduled_follow_ups(now: datetime, limit: int = 1000) -> int:
    """Schedule the visits of resolved issues that have none (the broker was down)."""
    # Visits made before a reopen do not count: the latest resolution needs its own.
    scheduled = FollowUp.objects.filter(
        issue=OuterRef("pk"), created_at__gte=OuterRef("resolved_at")
    )
    # A minute's slack leaves freshly resolved issues to their own on-commit task.
    missing = (
        Issue.objects.filter(
            status=Issue.Status.RESOLVED, resolved_at__lt=now - timedelta(minutes=1)
        )
        .exclude(Exists(scheduled))
        # A category with no visits would be picked up again on every run, crowding out the rest.
        .exclude(category__follow_up_days=[])
        .select_related("category")
        .order_by("resolved_at")[:limit]
    )
    return sum(1 for issue in missing if schedule_follow_ups(issue))


def mark_notifications_read(user: User, ids: Iterable[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user).unread()
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    return qs.update(read_at=timezone.now())


def log_phone_reveal(issue: Issue, *, by: User) -> None:
    """Every time a masked phone is revealed, who saw it and when is kept."""
    from issues.models import PhoneReveal

    PhoneReveal.objects.create(issue=issue, user=by)
