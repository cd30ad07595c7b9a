"""Reminders of micro-wishes: each sent once, to the right people, and the task is idempotent."""

from datetime import timedelta

import pytest
from django.utils import timezone

from issues.models import Notification
from issues.tests.test_celery import wait_for
from wishes import services, tasks
from wishes.models import Dispatch, Offer, Provider, Wish
from wishes.tests.factories import OfferFactory, ProviderFactory, WishFactory, kind

S = Wish.Status


@pytest.fixture
def offer(provider, community) -> Offer:
    return OfferFactory(provider=Provider.objects.get(user=provider), community=community)


def dispatched(courtyard, offer, staff, *, days_ago: int, **wish) -> tuple[Wish, Dispatch]:
    w = WishFactory(courtyard=courtyard, status=S.VERIFIED, kind=kind("daily_care"), **wish)
    [d] = services.dispatch_wish(w, [offer], by=staff, seen_status=S.VERIFIED)
    Dispatch.objects.filter(pk=d.pk).update(dispatched_at=timezone.now() - timedelta(days=days_ago))
    return w, d


@pytest.mark.django_db
def test_it_reminds_the_provider_after_its_kinds_days_once_when_run_twice(
    provider, staff, courtyard, offer
):
    # 生活照料: remind after 2 days.
    late, d = dispatched(courtyard, offer, staff, days_ago=3)
    dispatched(courtyard, offer, staff, days_ago=1)

    assert tasks.remind_untaken_dispatches() == 1
    assert tasks.remind_untaken_dispatches() == 0

    note = Notification.objects.get()
    assert (note.recipient, note.kind, note.wish) == (provider, "wish_untaken", late)
    d.refresh_from_db()
    assert d.reminded_at is not None
    assert late.events.filter(action="remind").count() == 1


@pytest.mark.django_db
def test_it_reminds_staff_for_a_provider_without_a_login(staff, community, courtyard):
    offer = OfferFactory(provider=ProviderFactory(user=None), community=community)
    dispatched(courtyard, offer, staff, days_ago=3)

    tasks.remind_untaken_dispatches()

    assert list(Notification.objects.values_list("recipient", "kind")) == [
        (staff.pk, "wish_untaken")
    ]


@pytest.mark.django_db
def test_it_tells_staff_once_when_a_dispatch_is_still_not_taken(provider, staff, courtyard, offer):
    # 生活照料: tell staff after 5 days.
    wish, _d = dispatched(courtyard, offer, staff, days_ago=6)
    dispatched(courtyard, offer, staff, days_ago=4)

    assert tasks.escalate_untaken_dispatches() == 1
    assert tasks.escalate_untaken_dispatches() == 0

    assert list(Notification.objects.values_list("recipient", "kind", "wish")) == [
        (staff.pk, "wish_escalated", wish.pk)
    ]


@pytest.mark.django_db
def test_it_never_reminds_of_a_taken_or_handed_back_dispatch(provider, staff, courtyard, offer):
    taken, d1 = dispatched(courtyard, offer, staff, days_ago=9)
    back, d2 = dispatched(courtyard, offer, staff, days_ago=9)
    services.take_wish(taken, by=provider, seen_status=S.DISPATCHED, dispatch_id=d1.pk)
    services.hand_back_wish(
        back, by=provider, seen_status=S.DISPATCHED, dispatch_id=d2.pk, reason="出差"
    )

    assert tasks.remind_untaken_dispatches() == 0
    assert tasks.escalate_untaken_dispatches() == 0
    assert not Notification.objects.exists()


@pytest.mark.django_db
def test_it_reminds_once_of_a_taken_wish_past_its_date(provider, staff, courtyard, offer):
    yesterday = timezone.localdate() - timedelta(days=1)
    late, d = dispatched(courtyard, offer, staff, days_ago=1, due_on=yesterday)
    services.take_wish(late, by=provider, seen_status=S.DISPATCHED, dispatch_id=d.pk)
    on_time, d2 = dispatched(courtyard, offer, staff, days_ago=1, due_on=timezone.localdate())
    services.take_wish(on_time, by=provider, seen_status=S.DISPATCHED, dispatch_id=d2.pk)

    assert tasks.remind_overdue_taken() == 1
    assert tasks.remind_overdue_taken() == 0

    assert list(Notification.objects.values_list("recipient", "kind", "wish")) == [
        (provider.pk, "wish_overdue", late.pk)
    ]


@pytest.mark.celery_worker
@pytest.mark.usefixtures("celery_worker")
@pytest.mark.django_db(transaction=True)
def test_it_reminds_through_a_real_worker_once_when_sent_twice(provider, staff, courtyard, offer):
    wish, d = dispatched(courtyard, offer, staff, days_ago=3)

    tasks.remind_untaken_dispatches.delay()
    tasks.remind_untaken_dispatches.delay()

    assert wait_for(lambda: Notification.objects.filter(wish=wish).exists())
    assert not wait_for(lambda: Notification.objects.filter(wish=wish).count() > 1, timeout=2)
    assert Dispatch.objects.get(pk=d.pk).reminded_at is not None
