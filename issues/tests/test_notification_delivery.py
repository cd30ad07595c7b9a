"""Outside channels (email) deliver each notification once, and nothing lost stays lost."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from issues import notifications, tasks
from issues.models import Notification
from issues.tests.factories import IssueFactory


@pytest.fixture
def unsent(staff, courtyard):
    issue = IssueFactory(courtyard=courtyard, title="井盖缺失")
    return Notification.objects.create(
        recipient=staff,
        kind=Notification.Kind.URGENT,
        issue=issue,
        created_at=timezone.now() - timedelta(minutes=5),
    )


def test_delivering_sends_once_and_marks_it(unsent):
    assert notifications.deliver([unsent.pk]) == 1
    # The task sent again (a broker that delivered twice, a retry) sends nothing more.
    assert notifications.deliver([unsent.pk]) == 0

    assert len(mail.outbox) == 1
    assert "井盖缺失" in mail.outbox[0].subject
    unsent.refresh_from_db()
    assert unsent.delivered_at is not None


def test_a_failed_send_leaves_it_for_the_sweep(unsent, monkeypatch):
    def broken_mail_server(notification):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(notifications, "CHANNELS", [broken_mail_server])
    with pytest.raises(ConnectionRefusedError):
        notifications.deliver([unsent.pk])
    unsent.refresh_from_db()
    assert unsent.delivered_at is None

    monkeypatch.undo()
    assert tasks.deliver_pending_notifications() == 1
    assert len(mail.outbox) == 1


def test_the_sweep_sends_what_a_lost_task_did_not(unsent, staff, settings):
    settings.NOTIFICATION_REDELIVER_AFTER = timedelta(minutes=1)
    # Too new: its own task may still be on its way.
    fresh = Notification.objects.create(
        recipient=staff, kind=Notification.Kind.URGENT, issue=unsent.issue
    )

    assert tasks.deliver_pending_notifications() == 1

    assert len(mail.outbox) == 1
    fresh.refresh_from_db()
    assert fresh.delivered_at is None
    assert tasks.deliver_pending_notifications() == 0


def test_the_sweep_is_on_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["deliver-pending-notifications"]

    assert entry["task"] == "issues.tasks.deliver_pending_notifications"
    assert entry["options"]["expires"] < entry["schedule"].total_seconds()
