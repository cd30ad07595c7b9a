"""The wish services: each change writes its rows and one event, or refuses and writes none."""

import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image

from grids.tests.factories import UserFactory
from issues.photos import CleanPhoto, clean_photo
from wishes import services
from wishes.models import Dispatch, Offer, Provider, Wish, WishEvent
from wishes.services import WishRefused
from wishes.tests.factories import DispatchFactory, OfferFactory, ProviderFactory, WishFactory

pytestmark = pytest.mark.django_db
S = Wish.Status


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def photo() -> CleanPhoto:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "green").save(out, "JPEG")
    return clean_photo(SimpleUploadedFile("done.jpg", out.getvalue()))


@pytest.fixture
def offer(provider, community) -> Offer:
    return OfferFactory(provider=Provider.objects.get(user=provider), community=community)


def dispatched(courtyard, offer, staff) -> tuple[Wish, Dispatch]:
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)
    [dispatch] = services.dispatch_wish(wish, [offer], by=staff, seen_status=S.VERIFIED)
    return wish, dispatch


def test_it_logs_a_wish_with_its_area_and_a_first_event(grid_worker, courtyard):
    wish = services.create_wish(
        by=grid_worker,
        courtyard=courtyard,
        kind=WishFactory.kind.function(),
        title="想要一副老花镜",
        beneficiary_name="次仁卓玛",
    )

    assert (wish.grid, wish.community_id) == (courtyard.grid, courtyard.grid.community_id)
    assert wish.reference.startswith("W")
    event = wish.events.get()
    assert (event.actor, event.action, event.to_status) == (grid_worker, "create", "collected")


def test_it_refuses_to_log_a_wish_outside_the_users_grids(other_grid_worker, courtyard):
    with pytest.raises(WishRefused):
        services.create_wish(
            by=other_grid_worker,
            courtyard=courtyard,
            kind=WishFactory.kind.function(),
            title="x",
            beneficiary_name="y",
        )

    assert not Wish.objects.exists()


def test_it_verifies_a_collected_wish(staff, courtyard):
    wish = WishFactory(courtyard=courtyard)

    services.verify_wish(wish, by=staff, seen_status=S.COLLECTED)

    wish.refresh_from_db()
    assert wish.status == S.VERIFIED
    assert wish.verified_at is not None
    assert wish.events.get().action == "verify"


def test_it_refuses_a_stale_verify_and_changes_nothing(staff, courtyard):
    wish = WishFactory(courtyard=courtyard, status=S.DECLINED)

    with pytest.raises(WishRefused):
        services.verify_wish(wish, by=staff, seen_status=S.COLLECTED)

    wish.refresh_from_db()
    assert wish.status == S.DECLINED
    assert wish.verified_at is None
    assert not wish.events.exists()


def test_it_declines_only_with_a_reason(staff, courtyard):
    wish = WishFactory(courtyard=courtyard)

    with pytest.raises(WishRefused):
        services.decline_wish(wish, by=staff, seen_status=S.COLLECTED, reason=" ")
    services.decline_wish(wish, by=staff, seen_status=S.COLLECTED, reason="已由低保解决")

    wish.refresh_from_db()
    assert (wish.status, wish.decline_reason) == (S.DECLINED, "已由低保解决")
    assert wish.events.get().note == "已由低保解决"


def test_it_refuses_a_grid_worker_verifying(grid_worker, courtyard):
    wish = WishFactory(courtyard=courtyard, created_by=grid_worker)

    with pytest.raises(WishRefused):
        services.verify_wish(wish, by=grid_worker, seen_status=S.COLLECTED)

    assert Wish.objects.get().status == S.COLLECTED


def test_it_dispatches_to_two_offers_in_one_step(staff, courtyard, offer, community):
    other = OfferFactory(community=community)
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)

    services.dispatch_wish(wish, [offer, other], by=staff, seen_status=S.VERIFIED)

    wish.refresh_from_db()
    assert wish.status == S.DISPATCHED
    assert set(wish.dispatches.values_list("offer_id", "state")) == {
        (offer.pk, "dispatched"),
        (other.pk, "dispatched"),
    }
    assert wish.events.filter(action="dispatch").count() == 2


def test_it_refuses_to_dispatch_past_an_offers_capacity(staff, courtyard, offer):
    Offer.objects.filter(pk=offer.pk).update(capacity=1)
    dispatched(courtyard, offer, staff)
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)

    with pytest.raises(WishRefused, match=offer.title):
        services.dispatch_wish(wish, [offer], by=staff, seen_status=S.VERIFIED)

    wish.refresh_from_db()
    assert wish.status == S.VERIFIED
    assert not wish.dispatches.exists()
    assert not wish.events.exists()


def test_it_counts_a_handed_back_dispatch_as_free_capacity(staff, provider, courtyard, offer):
    Offer.objects.filter(pk=offer.pk).update(capacity=1)
    first, dispatch = dispatched(courtyard, offer, staff)
    services.hand_back_wish(
        first, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk, reason="出差"
    )
    wish = WishFactory(courtyard=courtyard, status=S.VERIFIED)

    services.dispatch_wish(wish, [offer], by=staff, seen_status=S.VERIFIED)

    assert wish.dispatches.get().offer == offer


def test_it_lets_the_provider_take_a_wish_dispatched_to_it(staff, provider, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)

    services.take_wish(wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)

    dispatch.refresh_from_db()
    wish.refresh_from_db()
    assert (dispatch.state, wish.status) == ("taken", "taken")
    assert dispatch.taken_at is not None
    assert wish.taken_at is not None
    assert wish.events.filter(action="take", actor=provider).count() == 1


def test_it_refuses_taking_a_wish_dispatched_to_someone_else(staff, community, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)
    stranger = ProviderFactory(communities=[community], user=UserFactory(username="stranger"))
    other_dispatch = DispatchFactory(
        wish=wish, offer=OfferFactory(provider=stranger, community=community)
    )
    intruder = stranger.user

    for dispatch_id in (dispatch.pk, None):
        with pytest.raises(WishRefused):
            services.take_wish(wish, by=intruder, seen_status=S.DISPATCHED, dispatch_id=dispatch_id)

    dispatch.refresh_from_db()
    assert dispatch.state == "dispatched"
    assert other_dispatch.state == "dispatched"
    assert not wish.events.filter(action="take").exists()


def test_it_lets_staff_act_only_for_a_provider_without_a_login(staff, community, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)
    no_login = OfferFactory(provider=ProviderFactory(user=None), community=community)
    [for_them] = services.dispatch_wish(wish, [no_login], by=staff, seen_status=S.DISPATCHED)

    with pytest.raises(WishRefused):
        services.take_wish(wish, by=staff, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)
    services.take_wish(wish, by=staff, seen_status=S.DISPATCHED, dispatch_id=for_them.pk)

    assert set(wish.dispatches.values_list("pk", "state")) == {
        (dispatch.pk, "dispatched"),
        (for_them.pk, "taken"),
    }


def test_it_refuses_completing_a_wish_not_taken(staff, provider, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)

    with pytest.raises(WishRefused):
        services.complete_wish(
            wish,
            by=provider,
            seen_status=S.DISPATCHED,
            dispatch_id=dispatch.pk,
            note="已送达",
            photos=[photo()],
        )

    wish.refresh_from_db()
    assert wish.status == S.DISPATCHED
    assert wish.done_at is None
    assert not wish.events.filter(action="complete").exists()


def test_it_completes_a_taken_wish_and_withdraws_the_others(
    staff, provider, community, courtyard, offer
):
    wish, dispatch = dispatched(courtyard, offer, staff)
    [other] = services.dispatch_wish(
        wish, [OfferFactory(community=community)], by=staff, seen_status=S.DISPATCHED
    )
    services.take_wish(wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)

    services.complete_wish(
        wish,
        by=provider,
        seen_status=S.TAKEN,
        dispatch_id=dispatch.pk,
        note="已送去轮椅",
        photos=[photo()],
    )

    wish.refresh_from_db()
    assert (wish.status, wish.done_note) == (S.DONE, "已送去轮椅")
    assert dict(wish.dispatches.values_list("pk", "state")) == {
        dispatch.pk: "done",
        other.pk: "withdrawn",
    }


def test_it_refuses_completing_without_a_photo(staff, provider, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)
    services.take_wish(wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)

    with pytest.raises(WishRefused):
        services.complete_wish(
            wish, by=provider, seen_status=S.TAKEN, dispatch_id=dispatch.pk, note="已送到"
        )

    wish.refresh_from_db()
    dispatch.refresh_from_db()
    assert (wish.status, dispatch.state) == (S.TAKEN, "taken")
    assert not wish.photos.exists()


def test_it_hands_back_to_verified_when_no_one_else_holds_it(staff, provider, courtyard, offer):
    wish, dispatch = dispatched(courtyard, offer, staff)
    services.take_wish(wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)

    services.hand_back_wish(
        wish, by=provider, seen_status=S.TAKEN, dispatch_id=dispatch.pk, reason="临时出差"
    )

    wish.refresh_from_db()
    dispatch.refresh_from_db()
    assert (wish.status, dispatch.state) == (S.VERIFIED, "handed_back")
    event = wish.events.get(action="hand_back")
    assert (event.from_status, event.to_status, event.note) == ("taken", "verified", "临时出差")


def test_it_refuses_a_stale_take_after_the_provider_handed_it_back(
    staff, provider, courtyard, offer
):
    wish, dispatch = dispatched(courtyard, offer, staff)
    stale = Wish.objects.get(pk=wish.pk)
    services.hand_back_wish(
        wish, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk, reason="没空"
    )

    with pytest.raises(WishRefused):
        services.take_wish(stale, by=provider, seen_status=S.DISPATCHED, dispatch_id=dispatch.pk)

    dispatch.refresh_from_db()
    assert dispatch.state == "handed_back"
    assert not WishEvent.objects.filter(action="take").exists()


def test_it_records_satisfaction_by_the_logging_grid_worker(grid_worker, courtyard):
    wish = WishFactory(courtyard=courtyard, created_by=grid_worker, status=S.DONE)

    services.record_satisfaction(
        wish, by=grid_worker, seen_status=S.DONE, satisfaction="satisfied", note="老人很高兴"
    )

    wish.refresh_from_db()
    assert (wish.status, wish.satisfaction) == (S.REVISITED, "satisfied")
    assert wish.events.get().note.endswith("老人很高兴")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_it_never_dispatches_past_capacity_when_two_staff_dispatch_at_once(staff, courtyard, offer):
    Offer.objects.filter(pk=offer.pk).update(capacity=1)
    wishes = [WishFactory(courtyard=courtyard, status=S.VERIFIED) for _ in range(2)]
    barrier = threading.Barrier(2)
    refused = []

    def run(wish: Wish) -> None:
        barrier.wait()
        try:
            services.dispatch_wish(wish, [offer], by=staff, seen_status=S.VERIFIED)
        except WishRefused:
            refused.append(wish.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(w,)) for w in wishes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert Dispatch.objects.filter(offer=offer).count() == 1
    assert len(refused) == 1
