"""The demo's micro-wishes: 慈松塘社区's believable set, once, whatever the number of runs."""

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Q

from wishes.models import Dispatch, Offer, Provider, Wish

pytestmark = pytest.mark.django_db
User = get_user_model()


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def test_it_seeds_the_communitys_wishes_offers_and_providers_once():
    seed()
    first = (Wish.objects.count(), Offer.objects.count(), Provider.objects.count())
    out = seed()

    assert (Wish.objects.count(), Offer.objects.count(), Provider.objects.count()) == first
    assert "left as they are" in out
    wishes = Wish.objects.filter(community__name="慈松塘社区")
    figures = wishes.aggregate(
        collected=Count("pk"),
        listed=Count("pk", filter=Q(status__in=Wish.LISTED_STATUSES)),
        fulfilled=Count("pk", filter=Q(status__in=Wish.FULFILLED_STATUSES)),
    )
    assert figures == {"collected": 44, "listed": 42, "fulfilled": 36}
    assert Offer.objects.filter(community__name="慈松塘社区").count() == 15
    assert set(Provider.objects.values_list("kind", flat=True)) == set(Provider.Kind.values)


def test_it_keeps_every_seeded_wish_consistent_with_its_timeline_and_dispatches():
    seed()

    for wish in Wish.objects.prefetch_related("events", "dispatches"):
        events = list(wish.events.all())
        assert events[0].action == "create"
        assert (events[-1].to_status or "collected") == wish.status
        open_ = [d for d in wish.dispatches.all() if d.state in Dispatch.OPEN_STATES]
        if wish.status in ("dispatched", "taken"):
            assert open_
    for offer in Offer.objects.with_open_count():
        assert offer.open_count <= offer.capacity


def test_it_gives_the_demo_provider_a_login_with_work_on_its_phone(client):
    seed()
    user = User.objects.get(username="provider")

    assert user.check_password("grassroots-demo")
    provider = Provider.objects.get(user=user)
    assert provider.kind == Provider.Kind.PARTY_MEMBER
    client.force_login(user)
    r = client.get("/", follow=True)
    assert r.request["PATH_INFO"] == "/wishes/mine/"
    assert Dispatch.objects.filter(provider=provider, state__in=Dispatch.OPEN_STATES).exists()
