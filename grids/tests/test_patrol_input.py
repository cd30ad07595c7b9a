"""A patrol's typed input: notes that cannot be stored get a message saying so and are kept;
a hazard found on a patrol is in the patrol's grid."""

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.models import Patrol
from grids.tests.factories import GridWorkerFactory
from issues import services
from issues.forms import CaptureForm
from issues.models import Issue
from issues.tests.factories import category

pytestmark = pytest.mark.django_db

START = reverse("grids:patrol_start")
NUL_MESSAGE = "内容中含有空字符（NUL），无法保存，请删去后重试。"


@pytest.fixture
def worker_of_two_grids(grid, other_grid):
    return GridWorkerFactory(user__username="twogrids", grids=[grid, other_grid]).user


def test_it_says_what_is_wrong_with_a_nul_in_the_notes_of_a_new_patrol(client, grid_worker, grid):
    client.force_login(grid_worker)

    r = client.post(START, {"grid": grid.pk, "kind": "flood", "notes": "暴雨\x00后巡查"})

    assert r.status_code == 400
    html = r.content.decode()
    assert NUL_MESSAGE in html
    assert "选择网格和巡查类型" not in html
    assert not Patrol.objects.exists()
    assert r.context["form"]["kind"].value() == "flood"  # what was chosen is kept


def test_it_does_not_end_a_patrol_dropping_notes_with_a_nul(client, grid_worker, grid):
    patrol = Patrol.objects.create(grid_worker=grid_worker, grid=grid, started_at=timezone.now())
    client.force_login(grid_worker)

    r = client.post(reverse("grids:patrol_end", args=[patrol.pk]), {"notes": "两处\x00积水"})

    assert r.status_code == 400
    assert NUL_MESSAGE in r.content.decode()
    patrol.refresh_from_db()
    assert patrol.ended_at is None
    assert patrol.notes == ""


def test_it_offers_only_the_courtyards_of_the_patrols_grid(
    worker_of_two_grids, grid, courtyard, other_courtyard
):
    patrol = Patrol.objects.create(
        grid_worker=worker_of_two_grids, grid=grid, started_at=timezone.now()
    )

    on_patrol = CaptureForm(user=worker_of_two_grids, initial={"patrol": patrol.pk})
    posted = CaptureForm({"patrol": str(patrol.pk)}, user=worker_of_two_grids)
    off_patrol = CaptureForm(user=worker_of_two_grids)

    assert set(on_patrol.fields["courtyard"].queryset) == {courtyard}
    assert set(posted.fields["courtyard"].queryset) == {courtyard}
    assert set(off_patrol.fields["courtyard"].queryset) == {courtyard, other_courtyard}
    assert set(on_patrol.fields["courtyard"].queryset) == set(patrol.courtyards())


def test_it_refuses_a_hazard_of_another_grid_on_a_patrol(
    client, worker_of_two_grids, grid, other_courtyard
):
    patrol = Patrol.objects.create(
        grid_worker=worker_of_two_grids, grid=grid, started_at=timezone.now()
    )
    client.force_login(worker_of_two_grids)

    r = client.post(
        f"{reverse('issues:new')}?patrol={patrol.pk}",
        {
            "courtyard": other_courtyard.pk,
            "category": category("drainage").pk,
            "urgency": "urgent",
            "title": "院内积水",
            "source": "visit",
            "patrol": patrol.pk,
            "token": str(uuid.uuid4()),
        },
    )

    assert r.status_code == 400
    assert not Issue.objects.exists()
    with pytest.raises(services.TransitionRefused, match=other_courtyard.name):
        services.create_issue(
            by=worker_of_two_grids,
            courtyard=other_courtyard,
            category=category("drainage"),
            title="院内积水",
            patrol=patrol,
        )
    assert not Issue.objects.exists()
