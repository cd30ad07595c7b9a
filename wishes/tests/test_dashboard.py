"""The dashboard's micro-wish figures: right, and each equal to the count of the list it opens."""

import html
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from wishes.models import Wish
from wishes.tests.factories import OfferFactory, WishFactory

pytestmark = pytest.mark.django_db
S = Wish.Status
FIGURE = re.compile(
    r'<a class="figure" data-wish-figure="([^"]+)" href="([^"]+)">'
    r'<span class="n[^"]*">(.*?)</span>',
    re.S,
)


@pytest.fixture
def wishes(courtyard, other_courtyard, community, other_community):
    now = timezone.now()

    def wish(status, *, days_ago, done_days_ago=None, where=courtyard):
        return WishFactory(
            courtyard=where,
            status=status,
            created_at=now - timedelta(days=days_ago),
            done_at=now - timedelta(days=done_days_ago) if done_days_ago is not None else None,
        )

    wish(S.COLLECTED, days_ago=2)
    wish(S.DECLINED, days_ago=3)
    wish(S.VERIFIED, days_ago=4, where=other_courtyard)
    wish(S.TAKEN, days_ago=5)
    wish(S.DONE, days_ago=10, done_days_ago=6)
    wish(S.REVISITED, days_ago=60, done_days_ago=20)  # collected before the last 30 days
    wish(S.REVISITED, days_ago=90, done_days_ago=80)  # outside the period altogether
    WishFactory(courtyard__grid__community=other_community)  # another area
    OfferFactory.create_batch(2, community=community)
    OfferFactory(community=community, is_active=False)
    OfferFactory(community=other_community)


def test_it_counts_the_wish_figures_of_the_period(client, staff, wishes):
    client.force_login(staff)

    w = client.get("/dashboard/").context["wish_figures"]

    assert (w["collected"], w["verified"], w["offers"], w["fulfilled"]) == (5, 3, 2, 2)
    # Fulfilled after 4 days and after 40: the lower median is 4 days.
    assert w["median_days"] == 4


@pytest.mark.parametrize("who", ["staff", "official", "grid_worker", "admin_user"])
def test_it_links_each_wish_figure_to_a_list_of_exactly_that_many(client, request, wishes, who):
    client.force_login(request.getfixturevalue(who))

    page = client.get("/dashboard/").content.decode()

    figures = FIGURE.findall(page)
    assert [name for name, _h, _n in figures] == [
        "collected",
        "verified",
        "offers",
        "fulfilled",
        "median",
    ]
    for name, href, shown in figures:
        if name == "median":
            continue
        r = client.get(html.unescape(href))
        assert r.status_code == 200, href
        assert str(r.context["page"].paginator.count) == shown.strip(), (name, href)
