"""The wish pages: scoped lookups, the actions' forms, refusals, and flat query counts."""

import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from grids.tests.factories import UserFactory
from wishes import services
from wishes.models import Dispatch, Offer, Provider, Wish
from wishes.tests.factories import OfferFactory, ProviderFactory, WishFactory, kind

pytestmark = pytest.mark.django_db
S = Wish.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def offer(provider, community) -> Offer:
    return OfferFactory(
        provider=Provider.objects.get(user=provider), community=community, title="上门理发"
    )


def action_url(wish: Wish, action: str) -> str:
    return reverse("wishes:action", args=[wish.reference, action])


def jpeg() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return SimpleUploadedFile("done.jpg", out.getvalue(), content_type="image/jpeg")


def dispatched(courtyard, offer, staff) -> tuple[Wish, Dispatch]:
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED, beneficiary_phone="13812345678")
    [dispatch] = services.dispatch_wish(wish, [offer], by=staff, seen_status=S.VERIFIED)
    return wish, dispatch


def test_it_logs_a_wish_from_the_capture_screen(client, grid_worker, courtyard):
    client.force_login(grid_worker)
    assert reverse("wishes:new") in client.get(reverse("issues:new")).content.decode()

    r = client.post(
        reverse("wishes:new"),
        {
            "token": str(uuid.uuid4()),
            "courtyard": courtyard.pk,
            "kind": kind("daily_care").pk,
            "title": "想请人帮忙理发",
            "beneficiary_name": "次仁卓玛",
            "beneficiary_phone": "１３８１２３４５６７８",
            "source": "visit",
        },
    )

    wish = Wish.objects.get()
    assert r.status_code == 302
    assert r.url == wish.get_absolute_url()
    assert (wish.created_by, wish.beneficiary_phone) == (grid_worker, "13812345678")
    assert wish.events.get().action == "create"


def test_it_redisplays_a_bad_wish_with_what_was_typed(client, grid_worker, courtyard):
    client.force_login(grid_worker)

    r = client.post(
        reverse("wishes:new"),
        {"token": str(uuid.uuid4()), "courtyard": courtyard.pk, "title": "想要轮椅"},
    )

    assert r.status_code == 400
    assert "想要轮椅" in r.content.decode()
    assert not Wish.objects.exists()


def test_it_refuses_an_official_logging_a_wish(client, official):
    client.force_login(official)

    assert client.get(reverse("wishes:new")).status_code == 403


def test_it_answers_404_outside_the_area(client, outsider, courtyard):
    wish = WishFactory(courtyard=courtyard)
    client.force_login(outsider)

    assert client.get(wish.get_absolute_url()).status_code == 404
    r = client.post(action_url(wish, "verify"), {"verify-seen_status": "collected"})
    assert r.status_code == 404
    assert Wish.objects.get().status == S.COLLECTED


def test_it_verifies_from_the_wish_page(client, staff, courtyard):
    wish = WishFactory(courtyard=courtyard)
    client.force_login(staff)

    r = client.post(action_url(wish, "verify"), {"verify-seen_status": "collected"})

    assert r.status_code == 302
    wish.refresh_from_db()
    assert wish.status == S.VERIFIED
    assert wish.events.get().actor == staff


def test_it_refuses_a_stale_action_with_a_reason_and_changes_nothing(client, staff, courtyard):
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    client.force_login(staff)

    r = client.post(
        action_url(wish, "decline"), {"decline-seen_status": "collected", "decline-reason": "重复"}
    )

    assert r.status_code == 409
    assert "重复" in r.content.decode()
    wish.refresh_from_db()
    assert (wish.status, wish.decline_reason) == (S.VERIFIED, "")
    assert not wish.events.exists()


def test_it_shows_fitting_offers_same_community_first(client, staff, courtyard, offer):
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    elsewhere = OfferFactory(provider=ProviderFactory(communities=[courtyard.grid.community]))
    full = OfferFactory(community=courtyard.grid.community, capacity=1)
    other_kind = OfferFactory(community=courtyard.grid.community, kind=kind("legal"))
    services.dispatch_wish(
        WishFactory(courtyard=courtyard, status=S.VERIFIED),
        [full],
        by=staff,
        seen_status="verified",
    )
    client.force_login(staff)

    r = client.get(reverse("wishes:dispatch", args=[wish.reference]))

    assert [o.pk for o in r.context["offers"]] == [offer.pk, elsewhere.pk]
    assert full.pk not in [o.pk for o in r.context["offers"]]
    assert other_kind.pk not in [o.pk for o in r.context["offers"]]


def test_it_dispatches_in_one_step(client, staff, courtyard, offer):
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    client.force_login(staff)

    r = client.post(
        reverse("wishes:dispatch", args=[wish.reference]),
        {"seen_status": "verified", "offers": [offer.pk]},
    )

    assert r.status_code == 302
    assert wish.dispatches.get().offer == offer
    wish.refresh_from_db()
    assert wish.status == S.DISPATCHED


def test_it_refuses_to_dispatch_past_capacity_with_a_message(client, staff, courtyard, offer):
    Offer.objects.filter(pk=offer.pk).update(capacity=1)
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    client.force_login(staff)
    r0 = client.get(reverse("wishes:dispatch", args=[wish.reference]))
    assert r0.status_code == 200
    dispatched(courtyard, offer, staff)

    r = client.post(
        reverse("wishes:dispatch", args=[wish.reference]),
        {"seen_status": "verified", "offers": [offer.pk]},
    )

    assert r.status_code == 409
    assert not wish.dispatches.exists()
    wish.refresh_from_db()
    assert wish.status == S.VERIFIED


def test_it_hides_the_phone_from_a_provider_until_it_takes_the_wish(
    client, provider, staff, courtyard, offer
):
    wish, dispatch = dispatched(courtyard, offer, staff)
    client.force_login(provider)

    before = client.get(wish.get_absolute_url()).content.decode()
    r = client.post(
        action_url(wish, "take"),
        {"take-seen_status": "dispatched", "take-dispatch_id": dispatch.pk},
    )
    after = client.get(wish.get_absolute_url()).content.decode()

    assert "13812345678" not in before
    assert "138****5678" in before
    assert r.status_code == 302
    assert "13812345678" in after


def test_it_lets_the_provider_complete_with_a_photo(client, provider, staff, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)
    services.take_wish(wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)
    client.force_login(provider)

    r = client.post(
        action_url(wish, "complete"),
        {
            "complete-seen_status": "taken",
            "complete-dispatch_id": dispatch.pk,
            "complete-note": "已上门理发",
            "complete-photos": jpeg(),
        },
    )

    assert r.status_code == 302
    wish.refresh_from_db()
    assert (wish.status, wish.done_note) == (S.DONE, "已上门理发")
    photo = wish.photos.get()
    assert photo.uploaded_by == provider
    assert (
        client.get(reverse("wishes:photo", args=[wish.reference, photo.pk, "thumb"])).status_code
        == 200
    )


def test_it_refuses_a_provider_completing_a_wish_it_has_not_taken(
    client, provider, staff, courtyard, offer
):
    wish, dispatch = dispatched(courtyard, offer, staff)
    client.force_login(provider)

    r = client.post(
        action_url(wish, "complete"),
        {
            "complete-seen_status": "dispatched",
            "complete-dispatch_id": dispatch.pk,
            "complete-note": "好了",
            "complete-photos": jpeg(),
        },
    )

    assert r.status_code == 409
    wish.refresh_from_db()
    assert wish.status == S.DISPATCHED
    assert not wish.events.filter(action="complete").exists()


def test_it_shows_a_provider_nothing_not_dispatched_to_it(client, provider, courtyard):
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    client.force_login(provider)

    assert client.get(wish.get_absolute_url()).status_code == 404
    assert client.get(reverse("wishes:dispatch", args=[wish.reference])).status_code == 404
    assert wish.reference not in client.get(reverse("wishes:list")).content.decode()


def test_it_shows_a_provider_nothing_after_it_hands_the_wish_back(
    client, provider, staff, courtyard, offer
):
    wish, dispatch = dispatched(courtyard, offer, staff)
    client.force_login(provider)

    r = client.post(
        action_url(wish, "hand_back"),
        {
            "hand_back-seen_status": "dispatched",
            "hand_back-dispatch_id": dispatch.pk,
            "hand_back-reason": "这周出差",
        },
    )

    assert r.status_code == 302
    assert r.url == reverse("wishes:mine")
    assert client.get(wish.get_absolute_url()).status_code == 404
    assert wish.reference not in client.get(reverse("wishes:mine")).content.decode()


def test_it_refuses_a_provider_taking_another_providers_dispatch(
    client, staff, community, courtyard, offer
):
    wish, dispatch = dispatched(courtyard, offer, staff)
    other = ProviderFactory(communities=[community], user=UserFactory(username="other"))
    services.dispatch_wish(
        wish,
        [OfferFactory(provider=other, community=community)],
        by=staff,
        seen_status="dispatched",
    )
    client.force_login(other.user)

    r = client.post(
        action_url(wish, "take"),
        {"take-seen_status": "dispatched", "take-dispatch_id": dispatch.pk},
    )

    assert r.status_code == 409
    dispatch.refresh_from_db()
    assert dispatch.state == "dispatched"


def test_it_sends_a_provider_home_to_its_dispatches(client, provider):
    client.force_login(provider)

    r = client.get("/")

    assert r.url == reverse("wishes:mine")


def test_it_lets_the_provider_take_a_wish_from_its_list(client, provider, staff, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)
    client.force_login(provider)
    page = client.get(reverse("wishes:mine")).content.decode()
    assert f'data-testid="take-{wish.reference}"' in page

    r = client.post(
        action_url(wish, "take"),
        {"take-seen_status": "dispatched", "take-dispatch_id": dispatch.pk},
    )

    assert r.status_code == 302
    dispatch.refresh_from_db()
    assert dispatch.state == "taken"


def test_it_lists_the_providers_dispatches_by_state(client, provider, staff, courtyard, offer):
    waiting, _ = dispatched(courtyard, offer, staff)
    taken, d = dispatched(courtyard, offer, staff)
    services.take_wish(taken, by=provider, seen_status=S.DISPATCHED, dispatch_id=d.pk)
    client.force_login(provider)

    r = client.get(reverse("wishes:mine"))

    groups = {state: [x.wish for x in rows] for state, _label, rows in r.context["groups"]}
    assert groups["dispatched"] == [waiting]
    assert groups["taken"] == [taken]


# --- Query counts, at two sizes --------------------------------------------------------------


@pytest.mark.parametrize("n", [3, 30])
def test_it_keeps_the_needs_list_query_count_flat(
    n, client, staff, courtyard, django_assert_num_queries
):
    WishFactory.create_batch(n, courtyard=courtyard)
    daily_care = kind("daily_care").pk
    client.force_login(staff)
    # session, user, the scope's one query, the chosen kind (the filter checks it), count for
    # the pager, the unread badge, the kinds for the filter form, one page of wishes with joins
    with django_assert_num_queries(8):
        r = client.get(reverse("wishes:list"), {"kind": daily_care})
    assert r.context["page"].paginator.count == n


@pytest.mark.parametrize("n", [2, 20])
def test_it_keeps_the_services_list_query_count_flat(
    n, client, staff, community, django_assert_num_queries
):
    OfferFactory.create_batch(n, community=community)
    client.force_login(staff)
    # session, user, scope, unread badge, count for the pager, one page of offers with their
    # providers, kinds, communities and open counts
    with django_assert_num_queries(6):
        r = client.get(reverse("wishes:offers"))
    assert r.context["page"].paginator.count == n


@pytest.mark.parametrize("n", [2, 12])
def test_it_keeps_the_providers_list_query_count_flat(
    n, client, provider, staff, courtyard, offer, django_assert_num_queries
):
    Offer.objects.filter(pk=offer.pk).update(capacity=100)
    for _ in range(n):
        dispatched(courtyard, offer, staff)
    client.force_login(provider)
    # session, user, scope, unread badge, the dispatches with their wishes
    with django_assert_num_queries(5):
        client.get(reverse("wishes:mine"))


@pytest.mark.parametrize("n", [1, 8])
def test_it_keeps_the_dispatch_screen_query_count_flat(
    n, client, staff, community, courtyard, django_assert_num_queries
):
    OfferFactory.create_batch(n, community=community)
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    client.force_login(staff)
    # session, user, scope, unread badge, the wish, the fitting offers, the wish's dispatches
    with django_assert_num_queries(7):
        r = client.get(reverse("wishes:dispatch", args=[wish.reference]))
    assert len(r.context["offers"]) == n


@pytest.mark.parametrize("n", [1, 6])
def test_it_keeps_the_wish_page_query_count_flat(
    n, client, staff, community, courtyard, django_assert_num_queries
):
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    services.dispatch_wish(
        wish, OfferFactory.create_batch(n, community=community), by=staff, seen_status="verified"
    )
    client.force_login(staff)
    # session, user, scope, unread badge, the wish, its dispatches with providers and offers,
    # its timeline with actors, its photos
    with django_assert_num_queries(8):
        client.get(wish.get_absolute_url())
