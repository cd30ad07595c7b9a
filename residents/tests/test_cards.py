import io
import re

import pytest
import segno
from django.urls import reverse

from grids.tests.factories import CourtyardFactory, GridFactory, GridWorkerFactory
from residents.models import CourtyardLink
from residents.tests.factories import CourtyardLinkFactory, ServiceNumberFactory

pytestmark = pytest.mark.django_db


def test_staff_print_a_courtyards_card(client, staff, courtyard, grid_worker, community):
    courtyard.leader_name, courtyard.leader_phone = "次仁", "13900001111"
    courtyard.save()
    grid_worker.grid_worker.phone = "13800002222"
    grid_worker.grid_worker.save()
    ServiceNumberFactory(community=community, name="水电维修", phone="0891-6320000")
    client.force_login(staff)

    r = client.get(reverse("residents:card", args=[courtyard.pk]))

    assert r.status_code == 200
    link = CourtyardLink.objects.current().get(courtyard=courtyard)
    for shown in ("格东大院", "冲赛康社区", "扎西", "13800002222", "次仁", "13900001111"):
        assert shown in r.text
    assert "水电维修" in r.text
    assert "0891-6320000" in r.text
    # Chinese and Tibetan side by side.
    assert "便民服务卡" in r.text
    assert "མི་དམངས་ལ་ཕན་པའི་ཞབས་ཞུའི་ཤོག་བྱང་།" in r.text
    assert "<svg" in r.text
    # Printing again shows the same code.
    client.get(reverse("residents:card", args=[courtyard.pk]))
    assert CourtyardLink.objects.filter(courtyard=courtyard).count() == 1
    assert link.public_url == f"https://grassroots.example.org/r/{link.token}/"


def test_the_qr_code_encodes_the_public_link(client, staff, courtyard):
    client.force_login(staff)
    client.get(reverse("residents:card", args=[courtyard.pk]))
    link = CourtyardLink.objects.get()
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    out = io.BytesIO()
    segno.make(link.public_url, error="m").save(out, kind="png", scale=6, border=4)
    [code] = zxingcpp.read_barcodes(Image.open(io.BytesIO(out.getvalue())))

    assert code.text == link.public_url
    assert str(courtyard.pk) not in code.text.removeprefix("https://grassroots.example.org/")[:3]


@pytest.mark.parametrize("who", ["grid_worker", "official"])
def test_readers_of_the_courtyard_may_not_print(client, request, courtyard, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("residents:card", args=[courtyard.pk])).status_code == 403
    assert not CourtyardLink.objects.exists()


def test_an_outsider_gets_not_found(client, outsider, courtyard, community):
    client.force_login(outsider)

    assert client.get(reverse("residents:card", args=[courtyard.pk])).status_code == 404
    assert client.get(reverse("residents:community_cards", args=[community.pk])).status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in(client, courtyard):
    r = client.get(reverse("residents:card", args=[courtyard.pk]))

    assert r.status_code == 302
    assert "/accounts/login/" in r["Location"]


def test_a_community_prints_all_its_cards_four_to_a_sheet(client, staff, community, grid):
    courtyards = [CourtyardFactory(grid=grid, name=f"第{i}大院") for i in range(5)]
    client.force_login(staff)

    r = client.get(reverse("residents:community_cards", args=[community.pk]))

    assert r.status_code == 200
    assert r.text.count('data-testid="service-card"') == 5
    assert r.text.count('class="sheet"') == 2
    assert CourtyardLink.objects.current().count() == len(courtyards)


@pytest.mark.parametrize("n", [2, 12])
def test_the_community_cards_take_a_fixed_number_of_queries(
    client, staff, community, django_assert_num_queries, n
):
    grids = [GridFactory(community=community) for _ in range(2)]
    for i in range(n):
        CourtyardLinkFactory(courtyard=CourtyardFactory(grid=grids[i % 2]))
    GridWorkerFactory(grids=grids)
    ServiceNumberFactory.create_batch(3, community=community)
    client.force_login(staff)
    # 1. session, 2. user, 3. the user's scope, 4. the community, 5. its courtyards with their
    # grids, 6. their current links, 7. the grid workers of their grids, 8. the service numbers
    with django_assert_num_queries(8):
        r = client.get(reverse("residents:community_cards", args=[community.pk]))
    assert r.text.count('data-testid="service-card"') == n


def test_staff_replace_a_card_after_confirming(client, staff, courtyard):
    old = CourtyardLinkFactory(courtyard=courtyard)
    client.force_login(staff)
    url = reverse("residents:replace_link", args=[courtyard.pk])

    confirm = client.get(url)
    assert confirm.status_code == 200
    assert 'data-testid="confirm-replace"' in confirm.text
    assert CourtyardLink.objects.get() == old

    r = client.post(url)

    assert r.status_code == 302
    old.refresh_from_db()
    assert old.replaced_at is not None
    assert old.replaced_by == staff
    new = CourtyardLink.objects.current().get(courtyard=courtyard)
    assert new.token != old.token
    assert client.get(reverse("residents:report", args=[old.token])).status_code == 410
    assert client.get(reverse("residents:report", args=[new.token])).status_code == 200


@pytest.mark.parametrize("who", ["grid_worker", "official"])
def test_readers_may_not_replace_a_card(client, request, courtyard, who):
    link = CourtyardLinkFactory(courtyard=courtyard)
    client.force_login(request.getfixturevalue(who))

    r = client.post(reverse("residents:replace_link", args=[courtyard.pk]))

    assert r.status_code == 403
    link.refresh_from_db()
    assert link.is_current


def test_the_courtyard_page_links_staff_to_the_card(client, staff, grid_worker, courtyard):
    client.force_login(staff)
    assert 'data-testid="card-link"' in client.get(courtyard.get_absolute_url()).text
    client.force_login(grid_worker)
    assert 'data-testid="card-link"' not in client.get(courtyard.get_absolute_url()).text


def test_the_qr_svg_is_markup_from_segno_alone():
    from residents.qr import qr_svg

    svg = qr_svg('https://x.example/r/"><script>/')

    assert svg.startswith("<svg")
    assert "<script" not in svg
    assert not re.search(r"https://", svg)
