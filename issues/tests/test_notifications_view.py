"""The notifications inbox, marking read, and the header's unread badge."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from issues.models import Notification
from issues.tests.factories import FollowUpFactory, IssueFactory

pytestmark = pytest.mark.django_db

URL = reverse("issues:notifications")
READ = reverse("issues:notifications_read")


def badge(html: str) -> int | None:
    m = re.search(r'data-testid="unread-badge">(\d+)<', html)
    return int(m.group(1)) if m else None


@pytest.fixture
def inbox(staff, assignee, courtyard):
    issue = IssueFactory(courtyard=courtyard, title="电线裸露")
    visit = FollowUpFactory(issue=issue, assignee=staff)
    return [
        Notification.objects.create(recipient=staff, kind="urgent", issue=issue),
        Notification.objects.create(recipient=staff, kind="assigned", issue=issue),
        Notification.objects.create(
            recipient=staff, kind="follow_up_due", issue=issue, follow_up=visit
        ),
        Notification.objects.create(
            recipient=staff, kind="reopened", issue=issue, read_at=timezone.now()
        ),
        Notification.objects.create(recipient=assignee, kind="urgent", issue=issue),
    ]


def test_it_lists_my_notifications_newest_first(client, staff, inbox):
    client.force_login(staff)

    r = client.get(URL)

    assert r.status_code == 200
    assert r.context["notifications"] == [inbox[3], inbox[2], inbox[1], inbox[0]]
    html = r.content.decode()
    assert "电线裸露" in html
    assert inbox[0].issue.get_absolute_url() in html


def test_it_shows_the_unread_count_in_the_header(client, staff, assignee, inbox):
    client.force_login(staff)
    assert badge(client.get(URL).content.decode()) == 3
    assert badge(client.get(reverse("issues:list")).content.decode()) == 3

    client.force_login(assignee)
    assert badge(client.get(URL).content.decode()) == 1


def test_the_badge_counts_only_what_the_inbox_lists(client, staff, inbox, other_community):
    # A notification about an issue that is no longer in the user's area (moved, or the user
    # moved) is neither listed nor counted.
    elsewhere = IssueFactory(community=other_community, title="别处的问题")
    Notification.objects.create(recipient=staff, kind="urgent", issue=elsewhere)
    client.force_login(staff)

    page = client.get(URL).content.decode()

    assert "别处的问题" not in page
    assert badge(page) == 3


def test_it_marks_one_read(client, staff, inbox):
    client.force_login(staff)

    r = client.post(READ, {"id": inbox[1].pk})

    assert r.status_code == 302
    assert r["Location"] == URL
    unread = set(Notification.objects.filter(read_at__isnull=True).values_list("pk", flat=True))
    assert unread == {inbox[0].pk, inbox[2].pk, inbox[4].pk}
    assert badge(client.get(URL).content.decode()) == 2


def test_it_marks_all_read(client, staff, inbox):
    client.force_login(staff)

    client.post(READ)

    assert not Notification.objects.filter(recipient=staff, read_at__isnull=True).exists()
    # Someone else's stay unread.
    assert Notification.objects.get(pk=inbox[4].pk).read_at is None
    assert badge(client.get(URL).content.decode()) is None


def test_it_does_not_mark_someone_elses_notification(client, staff, inbox):
    client.force_login(staff)

    client.post(READ, {"id": inbox[4].pk})

    assert Notification.objects.get(pk=inbox[4].pk).read_at is None


@pytest.mark.parametrize("ids", [["abc"], ["9" * 30], ["-1"], [""]])
def test_it_ignores_ids_that_are_not_ids(client, staff, inbox, ids):
    client.force_login(staff)

    r = client.post(READ, {"id": ids})

    assert r.status_code == 302


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/issues/", "/issues/"),
        ("https://evil.example/", URL),
        ("//evil.example/", URL),
        ("/\\evil.example/", URL),
    ],
)
def test_it_goes_back_only_within_the_site(client, staff, inbox, target, expected):
    client.force_login(staff)

    r = client.post(READ, {"next": target})

    assert r["Location"] == expected


def test_it_refuses_a_get_to_mark_read(client, staff, inbox):
    client.force_login(staff)

    assert client.get(READ).status_code == 405
    assert Notification.objects.filter(read_at__isnull=True).count() == 4


def test_it_draws_the_inbox_in_the_same_queries_at_any_size(
    client, staff, courtyard, django_assert_num_queries
):
    client.force_login(staff)
    for n in (3, 40):
        while Notification.objects.count() < n:
            issue = IssueFactory(courtyard=courtyard)
            Notification.objects.create(
                recipient=staff,
                kind="follow_up_due",
                issue=issue,
                follow_up=FollowUpFactory(issue=issue, assignee=staff),
            )
        # 1. session, 2. user, 3. the notifications with issue, courtyard and visit,
        # 4. the scope (the header's menu), 5. the badge
        with django_assert_num_queries(5):
            r = client.get(URL)
        assert len(r.context["notifications"]) == n


def test_it_emails_the_title_as_typed(mailoutbox, staff, courtyard):
    from issues import notifications

    issue = IssueFactory(courtyard=courtyard, title='水管&电线 <裸露> "危险"')
    row = Notification.objects.create(recipient=staff, kind="urgent", issue=issue)

    notifications.deliver([row.pk])

    mail = mailoutbox[0]
    # Plain text: nothing is HTML-escaped.
    assert '水管&电线 <裸露> "危险"' in mail.subject
    assert '水管&电线 <裸露> "危险"' in mail.body
    assert "&amp;" not in mail.subject + mail.body
