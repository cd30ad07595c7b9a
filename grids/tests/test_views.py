"""Courtyards and patrols: the pages, their scope, a patrol from start to end, query counts."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grids.models import Patrol
from grids.tests.factories import CourtyardFactory
from issues.models import Issue
from issues.tests.factories import IssueFactory, category

pytestmark = pytest.mark.django_db

COURTYARDS = reverse("grids:courtyards")
PATROLS = reverse("grids:patrols")
START = reverse("grids:patrol_start")


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- Courtyards ----------------------------------------------------------------------------------


def test_it_lists_the_courtyards_of_the_users_area_with_open_issues(
    client, grid_worker, staff, courtyard, other_courtyard, other_community
):
    IssueFactory.create_batch(2, courtyard=courtyard)
    IssueFactory(courtyard=courtyard, status=Issue.Status.RESOLVED)
    foreign = CourtyardFactory(grid__community=other_community, name="色麦大院")

    client.force_login(grid_worker)
    r = client.get(COURTYARDS)
    assert r.status_code == 200
    assert [c.name for c in r.context["courtyards"]] == ["格东大院"]
    assert r.context["courtyards"][0].open_issues == 2

    client.force_login(staff)
    names = {c.name for c in client.get(COURTYARDS).context["courtyards"]}
    assert names == {"格东大院", "西嘎奴大院"}
    assert foreign.name not in client.get(COURTYARDS).content.decode()


def test_a_moved_courtyard_counts_only_the_issues_of_its_new_grid(
    client, grid_worker, other_grid_worker, courtyard, other_grid
):
    IssueFactory(courtyard=courtyard)
    courtyard.grid = other_grid
    courtyard.save()
    IssueFactory(courtyard=courtyard)

    client.force_login(other_grid_worker)
    listed = client.get(COURTYARDS).context["courtyards"]
    page = client.get(reverse("grids:courtyard", args=[courtyard.pk])).context["open_issues"]

    assert [c.open_issues for c in listed if c.pk == courtyard.pk] == [1] == [len(page)]


def test_it_shows_a_courtyard_with_its_issues_and_patrols(client, grid_worker, courtyard):
    open_ = IssueFactory(courtyard=courtyard, title="路灯不亮")
    closed = IssueFactory(courtyard=courtyard, status=Issue.Status.RESOLVED, title="井盖已修")
    elsewhere = IssueFactory(courtyard=CourtyardFactory(grid=courtyard.grid), title="别的院子")
    Patrol.objects.create(grid_worker=grid_worker, grid=courtyard.grid, started_at=timezone.now())
    client.force_login(grid_worker)

    r = client.get(courtyard.get_absolute_url())

    assert r.status_code == 200
    assert r.context["open_issues"] == [open_]
    assert r.context["past_issues"] == [closed]
    assert len(r.context["patrols"]) == 1
    html = r.content.decode()
    assert "格东大院" in html
    assert courtyard.leader_phone in html
    assert elsewhere.title not in html


@pytest.mark.parametrize("who", ["outsider", "other_grid_worker"])
def test_it_answers_404_for_a_courtyard_outside_the_scope(client, request, courtyard, who):
    client.force_login(request.getfixturevalue(who))

    assert client.get(courtyard.get_absolute_url()).status_code == 404


def test_it_lets_an_official_read_a_courtyard_of_their_area(client, official, courtyard):
    client.force_login(official)

    assert client.get(courtyard.get_absolute_url()).status_code == 200


# --- A patrol, from start to end -----------------------------------------------------------------


def test_it_walks_a_patrol_from_start_to_end_with_a_hazard(client, grid_worker, grid, courtyard):
    client.force_login(grid_worker)

    # Start.
    r = client.post(START, {"grid": grid.pk, "kind": "flood", "notes": "暴雨后巡查"})
    patrol = Patrol.objects.get()
    assert r.status_code == 302
    assert r["Location"] == patrol.get_absolute_url()
    assert (patrol.grid_worker, patrol.grid, patrol.kind, patrol.ended_at) == (
        grid_worker,
        grid,
        "flood",
        None,
    )

    # The patrol page offers to log a hazard; the form knows the patrol.
    page = client.get(patrol.get_absolute_url())
    new_url = f"{reverse('issues:new')}?patrol={patrol.pk}"
    assert new_url in page.content.decode()
    form = client.get(new_url)
    assert form.status_code == 200
    assert form.context["patrol"] == patrol
    assert f'name="patrol" value="{patrol.pk}"' in form.content.decode()

    # Log a hazard on it.
    r = client.post(
        new_url,
        {
            "courtyard": courtyard.pk,
            "category": category("drainage").pk,
            "urgency": "urgent",
            "title": "院内积水没过脚踝",
            "source": "visit",
            "patrol": patrol.pk,
            "token": str(uuid.uuid4()),
        },
    )
    assert r.status_code == 302
    hazard = Issue.objects.get()
    assert (hazard.patrol, hazard.source) == (patrol, Issue.Source.PATROL)
    assert hazard.events.get().action == "create"
    page = client.get(patrol.get_absolute_url())
    assert page.context["hazards"] == [hazard]
    assert hazard.title in page.content.decode()

    # End.
    r = client.post(reverse("grids:patrol_end", args=[patrol.pk]), {"notes": "两处积水"})
    assert r.status_code == 302
    patrol.refresh_from_db()
    assert patrol.ended_at is not None
    assert patrol.notes == "暴雨后巡查\n两处积水"

    # The list shows it with its hazard count, and a new patrol can start.
    r = client.get(PATROLS)
    listed = {p.pk: p for p in r.context["patrols"]}
    assert listed[patrol.pk].hazard_count == 1
    assert r.context["running"] is None
    assert r.context["form"] is not None


def test_it_refuses_a_second_running_patrol(client, grid_worker, grid):
    client.force_login(grid_worker)
    client.post(START, {"grid": grid.pk, "kind": "routine"})

    r = client.post(START, {"grid": grid.pk, "kind": "safety"}, follow=True)

    assert Patrol.objects.count() == 1
    assert messages_of(r)
    assert r.context["running"] == Patrol.objects.get()


def test_it_refuses_a_patrol_of_someone_elses_grid(client, grid_worker, other_grid):
    client.force_login(grid_worker)

    r = client.post(START, {"grid": other_grid.pk, "kind": "routine"})

    assert not Patrol.objects.exists()
    # The form comes back with the grid marked, not a message about something else.
    assert r.status_code == 400
    assert r.context["form"].errors["grid"]


@pytest.mark.parametrize("who", ["official", "staff", "outsider"])
def test_it_lets_only_grid_workers_start_a_patrol(client, request, grid, who):
    client.force_login(request.getfixturevalue(who))

    r = client.post(START, {"grid": grid.pk, "kind": "routine"})

    assert r.status_code == 403
    assert not Patrol.objects.exists()


def test_it_does_not_offer_a_patrol_form_to_an_official(client, official):
    client.force_login(official)

    r = client.get(PATROLS)

    assert r.status_code == 200
    assert r.context["form"] is None


def test_it_lets_only_the_walker_end_a_patrol(client, grid_worker, staff, official, outsider, grid):
    patrol = Patrol.objects.create(grid_worker=grid_worker, grid=grid, started_at=timezone.now())
    end = reverse("grids:patrol_end", args=[patrol.pk])

    for user, status in [(staff, 403), (official, 403), (outsider, 404)]:
        client.force_login(user)
        assert client.post(end).status_code == status
    patrol.refresh_from_db()
    assert patrol.ended_at is None


def test_it_says_so_when_a_patrol_has_already_ended(client, grid_worker, grid):
    patrol = Patrol.objects.create(
        grid_worker=grid_worker, grid=grid, started_at=timezone.now(), ended_at=timezone.now()
    )
    client.force_login(grid_worker)

    r = client.post(reverse("grids:patrol_end", args=[patrol.pk]), follow=True)

    assert r.status_code == 200
    assert messages_of(r)


def test_it_does_not_log_a_hazard_on_an_ended_patrol(client, grid_worker, grid, courtyard):
    patrol = Patrol.objects.create(
        grid_worker=grid_worker, grid=grid, started_at=timezone.now(), ended_at=timezone.now()
    )
    client.force_login(grid_worker)

    r = client.post(
        reverse("issues:new"),
        {
            "courtyard": courtyard.pk,
            "category": category("road").pk,
            "urgency": "normal",
            "title": "路面破损",
            "source": "visit",
            "patrol": patrol.pk,
            "token": str(uuid.uuid4()),
        },
    )

    assert r.status_code == 400
    assert not Issue.objects.exists()
    # The patrol is a hidden field: its error must still be said, above the form.
    alert = r.content.decode().split('class="alert-error"', 1)[1].split("</div>", 1)[0]
    assert "该巡查不属于您或已结束。" in alert
    assert 'value="路面破损"' in r.content.decode()


def test_it_answers_404_for_a_patrol_outside_the_scope(
    client, grid_worker, other_grid_worker, other_grid, outsider
):
    patrol = Patrol.objects.create(
        grid_worker=other_grid_worker, grid=other_grid, started_at=timezone.now()
    )

    for user in (grid_worker, outsider):
        client.force_login(user)
        assert client.get(patrol.get_absolute_url()).status_code == 404


def test_it_lists_the_patrols_of_the_area(
    client, grid_worker, other_grid_worker, official, grid, other_grid
):
    mine = Patrol.objects.create(grid_worker=grid_worker, grid=grid, started_at=timezone.now())
    theirs = Patrol.objects.create(
        grid_worker=other_grid_worker, grid=other_grid, started_at=timezone.now()
    )

    client.force_login(grid_worker)
    assert {p.pk for p in client.get(PATROLS).context["patrols"]} == {mine.pk}

    client.force_login(official)
    assert {p.pk for p in client.get(PATROLS).context["patrols"]} == {mine.pk, theirs.pk}


# --- Query counts --------------------------------------------------------------------------------


def _patrols_with_hazards(n, grid_worker, grid, courtyard) -> None:
    start = timezone.now() - timedelta(days=n)
    for k in range(n):
        patrol = Patrol.objects.create(
            grid_worker=grid_worker,
            grid=grid,
            started_at=start + timedelta(days=k),
            ended_at=start + timedelta(days=k, hours=1),
        )
        IssueFactory(courtyard=courtyard, patrol=patrol, source=Issue.Source.PATROL)


def test_it_lists_patrols_in_the_same_queries_at_any_size(
    client, grid_worker, grid, courtyard, django_assert_num_queries
):
    client.force_login(grid_worker)
    for n in (3, 30):
        _patrols_with_hazards(n - Patrol.objects.count(), grid_worker, grid, courtyard)
        # 1. session, 2. user, 3. scope, 4. the patrols with grid, worker and hazard count,
        # 5. this worker's running patrol, 6. the unread badge, 7.-8. the grids of the start
        # form (Django reads a required select's first option once more for `required`)
        with django_assert_num_queries(8):
            r = client.get(PATROLS)
        assert len(r.context["patrols"]) == n


def test_it_draws_a_patrol_in_the_same_queries_at_any_size(
    client, grid_worker, grid, django_assert_num_queries
):
    patrol = Patrol.objects.create(grid_worker=grid_worker, grid=grid, started_at=timezone.now())
    client.force_login(grid_worker)
    for n in (2, 20):
        while patrol.hazards.count() < n:
            IssueFactory(
                courtyard=CourtyardFactory(grid=grid), patrol=patrol, source=Issue.Source.PATROL
            )
        # 1. session, 2. user, 3. scope, 4. the patrol with grid, community and worker,
        # 5. its hazards with category and courtyard, 6. the unread badge
        with django_assert_num_queries(6):
            r = client.get(patrol.get_absolute_url())
        assert len(r.context["hazards"]) == n


def test_it_draws_the_courtyard_pages_in_the_same_queries_at_any_size(
    client, staff, grid_worker, grid, courtyard, django_assert_num_queries
):
    client.force_login(staff)
    for n in (3, 30):
        while grid.courtyards.count() < n:
            IssueFactory(courtyard=CourtyardFactory(grid=grid))
        _patrols_with_hazards(2, grid_worker, grid, courtyard)
        IssueFactory.create_batch(3, courtyard=courtyard)
        IssueFactory.create_batch(2, courtyard=courtyard, status=Issue.Status.RESOLVED)
        # 1. session, 2. user, 3. scope, 4. the courtyards with grid, community and open
        # issue count, 5. the unread badge
        with django_assert_num_queries(5):
            r = client.get(COURTYARDS)
        assert len(r.context["courtyards"]) == n
        # 1.-3. as above, 4. the courtyard with grid and community, 5. its open issues,
        # 6. its past issues, 7. the grid's patrols with worker and hazards here, 8. badge
        with django_assert_num_queries(8):
            r = client.get(courtyard.get_absolute_url())
        assert r.status_code == 200
