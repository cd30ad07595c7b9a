"""Text messages to a resident who left a phone: each reply and each change of state, with
the tracking link. Sent by a task after commit; a `SentText` row makes each one go once."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import translation

from grassroots.sms import send_sms
from issues.models import Issue, IssueEvent
from residents.models import SentText
from residents.states import PLAIN_STATES, plain_state

# A text message is short: a longer reply is cut, and the tracking page has it whole.
REPLY_CHARS = 60


def concerns_resident(issue: Issue, event: IssueEvent) -> bool:
    return bool(issue.resident_phone) and (event.is_public or bool(event.to_status))


def tell_resident_on_commit(issue: Issue, event: IssueEvent) -> None:
    if concerns_resident(issue, event):
        from residents import tasks

        event_id = event.pk
        # Robust: a broker outage must not undo the reply or the change it reports.
        transaction.on_commit(lambda: tasks.text_resident.delay(event_id), robust=True)


def message_for(event: IssueEvent) -> str:
    issue = event.issue
    reply = event.note if event.is_public else ""
    if len(reply) > REPLY_CHARS:
        reply = reply[:REPLY_CHARS] + "…"
    with translation.override(issue.resident_language or "zh-hans"):
        body = render_to_string(
            "residents/text_message.txt",
            {
                "issue": issue,
                "reply": reply,
                # The state this entry moved it to, not a later one the task may find.
                "state": PLAIN_STATES.get(event.to_status) or plain_state(issue),
                "link": issue.tracking_url,
            },
        )
    return " ".join(body.split())


def text_resident(event_id: int) -> int:
    """Send the message about one timeline entry, once; returns how many were sent."""
    event = IssueEvent.objects.select_related("issue__community").filter(pk=event_id).first()
    if event is None or not concerns_resident(event.issue, event):
        return 0
    body = message_for(event)
    try:
        with transaction.atomic():
            SentText.objects.create(event=event, phone=event.issue.resident_phone, body=body)
            # Inside the transaction: a failed send leaves no row, and the retry sends it.
            send_sms(event.issue.resident_phone, body)
    except IntegrityError:
        return 0  # sent already, by an earlier run of the task
    return 1
