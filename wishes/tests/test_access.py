"""Who sees which wishes and whose contact: through Scope and issues/privacy.py."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from grids.access import Role, Scope
from issues.privacy import wish_beneficiary_view
from wishes import services
from wishes.models import Offer, Provider, Wish
from wishes.tests.factories import OfferFactory, WishFactory

pytestmark = pytest.mark.django_db
S = Wish.Status


@pytest.fixture
def offer(provider, community) -> Offer:
    return OfferFactory(provider=Provider.objects.get(user=provider), community=community)


def test_it_gives_a_provider_its_role_and_providers_in_the_one_scope_query(provider):
    with CaptureQueriesContext(connection) as queries:
        scope = Scope.for_user(provider)

    assert len(queries) == 1
    assert scope.role == Role.PROVIDER
    assert scope.provider_ids == {Provider.objects.get(user=provider).pk}


def test_it_shows_a_provider_only_wishes_dispatched_to_it_and_not_handed_back(
    provider, staff, courtyard, offer
):
    mine, elsewhere, handed_back = (
        WishFactory(courtyard=courtyard, status=S.VERIFIED) for _ in range(3)
    )
    [_d] = services.dispatch_wish(mine, [offer], by=staff, seen_status=S.VERIFIED)
    [back] = services.dispatch_wish(handed_back, [offer], by=staff, seen_status=S.VERIFIED)
    services.hand_back_wish(
        handed_back, by=provider, seen_status=S.DISPATCHED, dispatch_id=back.pk, reason="忙"
    )

    assert list(Wish.objects.visible_to(provider)) == [mine]
    assert elsewhere not in Wish.objects.visible_to(provider)


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("staff", True),
        ("grid_worker", True),
        ("other_grid_worker", False),
        ("official", True),
        ("outsider", False),
        ("admin_user", True),
    ],
)
def test_it_scopes_wishes_by_area_like_issues(request, role, sees, courtyard):
    wish = WishFactory(courtyard=courtyard)

    assert (
        Wish.objects.visible_to(request.getfixturevalue(role)).filter(pk=wish.pk).exists() == sees
    )


def test_it_masks_the_beneficiary_for_a_provider_until_it_takes_the_wish(
    provider, staff, courtyard, offer
):
    wish = WishFactory(
        courtyard=courtyard,
        status=S.VERIFIED,
        beneficiary_name="次仁卓玛",
        beneficiary_phone="13812345678",
    )
    [dispatch] = services.dispatch_wish(wish, [offer], by=staff, seen_status=S.VERIFIED)

    before = wish_beneficiary_view(provider, wish, wish.dispatches.all())
    services.take_wish(wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)
    after = wish_beneficiary_view(provider, wish, wish.dispatches.all())

    assert (before.name, before.phone, before.is_masked) == ("次**", "138****5678", True)
    assert (after.name, after.phone) == ("次仁卓玛", "13812345678")


def test_it_masks_the_beneficiary_for_an_official(official, courtyard):
    wish = WishFactory(courtyard=courtyard, beneficiary_phone="13812345678")

    assert wish_beneficiary_view(official, wish, []).phone == "138****5678"
