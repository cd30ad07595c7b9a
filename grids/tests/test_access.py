"""Who sees what: `Scope.for_user` and every `visible_to`, for each role of the matrix."""

import pytest
from django.utils import timezone

from grids.access import Role, Scope
from grids.models import Community, Courtyard, District, Grid, Patrol, Subdistrict
from grids.tests.factories import (
    CommunityFactory,
    CourtyardFactory,
    GridFactory,
    GridWorkerFactory,
    StaffAssignmentFactory,
    SubdistrictFactory,
    UserFactory,
)
from issues.models import FollowUp, Issue
from issues.tests.factories import FollowUpFactory, IssueFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(community, grid, other_grid, courtyard, other_courtyard, other_community):
    """One issue in each place a role boundary runs between.

    ours: the first grid; other_grid: the second grid of the same community; sibling: another
    community of the same subdistrict; cousin: a community of another subdistrict of the same
    district; foreign: the outsider's community, in another district.
    """
    subdistrict = community.subdistrict
    sibling = CommunityFactory(subdistrict=subdistrict, name="八一社区")
    cousin = CommunityFactory(
        subdistrict=SubdistrictFactory(district=subdistrict.district, name="娘热街道"),
        name="慈松塘社区",
    )
    return {
        "ours": IssueFactory(courtyard=courtyard),
        "other_grid": IssueFactory(courtyard=other_courtyard),
        "sibling": IssueFactory(community=sibling),
        "cousin": IssueFactory(community=cousin),
        "foreign": IssueFactory(community=other_community),
    }


def visible(user, places) -> set[str]:
    seen = set(Issue.objects.visible_to(user).values_list("pk", flat=True))
    return {name for name, issue in places.items() if issue.pk in seen}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("grid_worker", {"ours"}),
        ("other_grid_worker", {"other_grid"}),
        ("staff", {"ours", "other_grid"}),
        ("assignee", {"ours", "other_grid"}),
        ("official", {"ours", "other_grid", "sibling"}),
        ("district_official", {"ours", "other_grid", "sibling", "cousin"}),
        ("outsider", {"foreign"}),
        ("admin_user", {"ours", "other_grid", "sibling", "cousin", "foreign"}),
    ],
)
def test_it_shows_each_role_exactly_its_area(request, places, role, expected):
    user = request.getfixturevalue(role)

    assert visible(user, places) == expected


def test_it_never_shows_a_grid_worker_another_grids_issues(
    grid_worker, other_grid_worker, courtyard, other_courtyard
):
    mine = IssueFactory.create_batch(3, courtyard=courtyard)
    theirs = IssueFactory.create_batch(3, courtyard=other_courtyard)

    assert set(Issue.objects.visible_to(grid_worker)) == set(mine)
    assert set(Issue.objects.visible_to(other_grid_worker)) == set(theirs)


def test_it_shows_a_user_with_no_role_nothing(places):
    nobody = UserFactory(username="nobody")

    assert visible(nobody, places) == set()
    assert Scope.for_user(nobody).role == Role.NONE


def test_it_shows_an_inactive_grid_worker_profile_nothing(places, grid):
    retired = GridWorkerFactory(user__username="retired", grids=[grid], is_active=False).user

    assert visible(retired, places) == set()
    assert Scope.for_user(retired) == Scope()


def test_it_shows_an_inactive_user_nothing(places, staff):
    staff.is_active = False
    staff.save(update_fields=["is_active"])

    assert visible(staff, places) == set()


def test_it_shows_an_anonymous_user_nothing(places):
    from django.contrib.auth.models import AnonymousUser

    assert Scope.for_user(AnonymousUser()) == Scope()
    assert not Issue.objects.visible_to(AnonymousUser()).exists()


def test_it_combines_the_areas_of_several_roles(places, grid, other_community):
    both = GridWorkerFactory(user__username="both", grids=[grid]).user
    StaffAssignmentFactory(user=both, community=other_community)

    assert visible(both, places) == {"ours", "foreign"}
    assert Scope.for_user(both).role == Role.STAFF


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("admin_user", Role.ADMIN),
        ("district_official", Role.OFFICIAL),
        ("official", Role.OFFICIAL),
        ("staff", Role.STAFF),
        ("grid_worker", Role.GRID_WORKER),
    ],
)
def test_it_derives_the_widest_role(request, role, expected):
    assert Scope.for_user(request.getfixturevalue(role)).role == expected


def test_it_reads_the_scope_in_one_query(grid_worker, grid, community, django_assert_num_queries):
    user = type(grid_worker).objects.get(pk=grid_worker.pk)
    StaffAssignmentFactory(user=user, community=CommunityFactory())

    # One UNION of grid worker grids, staff assignments and official assignments.
    with django_assert_num_queries(1):
        scope = Scope.for_user(user)

    assert scope.grid_ids == {grid.pk}
    assert len(scope.community_ids) == 1


def test_it_caches_the_scope_on_the_user(staff, community, django_assert_num_queries):
    first = Scope.for_user(staff)

    with django_assert_num_queries(0):
        again = Scope.for_user(staff)

    assert again is first
    assert again.community_ids == {community.pk}


def test_it_loads_a_superuser_scope_without_a_query(admin_user, django_assert_num_queries):
    with django_assert_num_queries(0):
        scope = Scope.for_user(admin_user)

    assert scope.is_all


def test_it_loads_each_official_level(official, district_official, community):
    assert Scope.for_user(official).subdistrict_ids == {community.subdistrict_id}
    assert Scope.for_user(official).district_ids == frozenset()
    assert Scope.for_user(district_official).district_ids == {community.subdistrict.district_id}


# --- Areas ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("grid_worker", {"格东大院"}),
        ("other_grid_worker", {"西嘎奴大院"}),
        ("staff", {"格东大院", "西嘎奴大院"}),
        ("official", {"格东大院", "西嘎奴大院", "八一大院"}),
        ("district_official", {"格东大院", "西嘎奴大院", "八一大院"}),
        ("outsider", {"色麦大院"}),
        ("admin_user", {"格东大院", "西嘎奴大院", "八一大院", "色麦大院"}),
    ],
)
def test_it_shows_each_role_its_courtyards(
    request, courtyard, other_courtyard, community, other_community, role, expected
):
    CourtyardFactory(grid__community__subdistrict=community.subdistrict, name="八一大院")
    CourtyardFactory(grid__community=other_community, name="色麦大院")

    user = request.getfixturevalue(role)

    assert set(Courtyard.objects.visible_to(user).values_list("name", flat=True)) == expected


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("grid_worker", {"第一网格"}),
        ("other_grid_worker", {"第二网格"}),
        ("staff", {"第一网格", "第二网格"}),
        ("official", {"第一网格", "第二网格", "八一网格"}),
        ("outsider", {"色麦网格"}),
    ],
)
def test_it_shows_each_role_its_grids(
    request, grid, other_grid, community, other_community, role, expected
):
    GridFactory(community__subdistrict=community.subdistrict, name="八一网格")
    GridFactory(community=other_community, name="色麦网格")

    user = request.getfixturevalue(role)

    assert set(Grid.objects.visible_to(user).values_list("name", flat=True)) == expected


def test_it_shows_areas_at_or_below_the_assignment(
    official, district_official, staff, grid_worker, community, other_community
):
    subdistrict, district = community.subdistrict, community.subdistrict.district

    assert set(Community.objects.visible_to(staff)) == {community}
    assert set(Community.objects.visible_to(official)) == {community}
    assert set(Subdistrict.objects.visible_to(official)) == {subdistrict}
    assert not District.objects.visible_to(official).exists()
    assert set(District.objects.visible_to(district_official)) == {district}
    # A grid worker sees their grid, not the community around it.
    assert not Community.objects.visible_to(grid_worker).exists()
    assert other_community not in Community.objects.visible_to(district_official)


# --- Patrols and follow-up visits -------------------------------------------------------------


def patrol(worker, grid) -> Patrol:
    return Patrol.objects.create(grid_worker=worker, grid=grid, started_at=timezone.now())


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("grid_worker", {"ours"}),
        ("other_grid_worker", {"other_grid"}),
        ("staff", {"ours", "other_grid"}),
        ("official", {"ours", "other_grid"}),
        ("district_official", {"ours", "other_grid"}),
        ("outsider", {"foreign"}),
        ("admin_user", {"ours", "other_grid", "foreign"}),
    ],
)
def test_it_shows_each_role_the_patrols_of_its_area(
    request, grid, other_grid, other_community, role, expected
):
    walker = UserFactory()
    patrols = {
        "ours": patrol(walker, grid),
        "other_grid": patrol(walker, other_grid),
        "foreign": patrol(walker, GridFactory(community=other_community)),
    }
    user = request.getfixturevalue(role)

    seen = set(Patrol.objects.visible_to(user))

    assert {name for name, p in patrols.items() if p in seen} == expected


def test_it_shows_a_user_with_no_role_no_patrols(grid):
    patrol(UserFactory(), grid)

    assert not Patrol.objects.visible_to(UserFactory()).exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("grid_worker", {"ours"}),
        ("other_grid_worker", {"other_grid"}),
        ("staff", {"ours", "other_grid"}),
        ("official", {"ours", "other_grid", "sibling"}),
        ("district_official", {"ours", "other_grid", "sibling", "cousin"}),
        ("outsider", {"foreign"}),
        ("admin_user", {"ours", "other_grid", "sibling", "cousin", "foreign"}),
    ],
)
def test_it_shows_each_role_the_follow_ups_of_its_area(request, places, role, expected):
    visits = {name: FollowUpFactory(issue=issue) for name, issue in places.items()}
    user = request.getfixturevalue(role)

    seen = set(FollowUp.objects.visible_to(user))

    assert {name for name, v in visits.items() if v in seen} == expected
