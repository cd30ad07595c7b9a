"""Who may see what: a user's scope, derived from their role assignments.

Every view, export and dashboard filters through `Scope.for_user(user)`, usually behind a
`visible_to(user)` queryset method. Anything outside the scope answers 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, cast

from django.apps import apps
from django.db.models import Model, Q, Value

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db.models import QuerySet


class Role(StrEnum):
    ADMIN = "admin"
    OFFICIAL = "official"
    STAFF = "staff"
    GRID_WORKER = "grid_worker"
    PROVIDER = "provider"
    NONE = "none"


# For each area model, the lookup from it to each level of the hierarchy (None: below it).
_AREA_PATHS: dict[str, dict[str, str | None]] = {
    "district": {"district": "pk", "subdistrict": None, "community": None, "grid": None},
    "subdistrict": {
        "district": "district_id",
        "subdistrict": "pk",
        "community": None,
        "grid": None,
    },
    "community": {
        "district": "subdistrict__district_id",
        "subdistrict": "subdistrict_id",
        "community": "pk",
        "grid": None,
    },
    "grid": {
        "district": "community__subdistrict__district_id",
        "subdistrict": "community__subdistrict_id",
        "community": "community_id",
        "grid": "pk",
    },
    "courtyard": {
        "district": "grid__community__subdistrict__district_id",
        "subdistrict": "grid__community__subdistrict_id",
        "community": "grid__community_id",
        "grid": "grid_id",
    },
}


@dataclass(frozen=True)
class Scope:
    """The areas a user is assigned to; `is_all` for administrators."""

    is_all: bool = False
    district_ids: frozenset[int] = field(default_factory=frozenset)
    subdistrict_ids: frozenset[int] = field(default_factory=frozenset)
    community_ids: frozenset[int] = field(default_factory=frozenset)
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    # The micro-wish providers (wishes.Provider) whose login this user is.
    provider_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: User | AnonymousUser) -> Scope:
        """The user's scope, read in one query and cached on the user object."""
        if not user.is_authenticated or not user.is_active:
            return cls()
        cached = getattr(user, "_grassroots_scope", None)
        if cached is not None:
            return cached
        scope = cls(is_all=True) if user.is_superuser else cls._load(user)
        # A cache on this request's user instance, an attribute the model does not declare.
        user._grassroots_scope = scope  # type: ignore[attr-defined]
        return scope

    @classmethod
    def _load(cls, user: User) -> Scope:
        # By name: grids.models and wishes.models ask this module for scopes, so neither is
        # imported here.
        workers = apps.get_model("grids", "GridWorker")
        staff_roles = apps.get_model("grids", "StaffAssignment")
        official_roles = apps.get_model("grids", "OfficialAssignment")
        providers_model = apps.get_model("wishes", "Provider")

        grids = workers.grids.through.objects.filter(
            gridworker__user=user, gridworker__is_active=True
        ).values_list(Value("grid"), "grid_id")
        staff = staff_roles.objects.filter(user=user).values_list(
            Value("community"), "community_id"
        )
        subdistricts = official_roles.objects.filter(
            user=user, subdistrict__isnull=False
        ).values_list(Value("subdistrict"), "subdistrict_id")
        districts = official_roles.objects.filter(user=user, district__isnull=False).values_list(
            Value("district"), "district_id"
        )
        providers = (
            providers_model.objects.filter(user=user, is_active=True)
            .order_by()
            .values_list(Value("provider"), "pk")
        )
        ids: dict[str, set[int]] = {
            "grid": set(),
            "community": set(),
            "subdistrict": set(),
            "district": set(),
            "provider": set(),
        }
        for level, pk in grids.union(staff, subdistricts, districts, providers, all=True):
            ids[level].add(pk)
        return cls(
            district_ids=frozenset(ids["district"]),
            subdistrict_ids=frozenset(ids["subdistrict"]),
            community_ids=frozenset(ids["community"]),
            grid_ids=frozenset(ids["grid"]),
            provider_ids=frozenset(ids["provider"]),
        )

    @property
    def role(self) -> Role:
        """The widest role, which decides the user's home page."""
        if self.is_all:
            return Role.ADMIN
        if self.district_ids or self.subdistrict_ids:
            return Role.OFFICIAL
        if self.community_ids:
            return Role.STAFF
        if self.grid_ids:
            return Role.GRID_WORKER
        if self.provider_ids:
            return Role.PROVIDER
        return Role.NONE

    def _levels(self) -> dict[str, frozenset[int]]:
        return {
            "district": self.district_ids,
            "subdistrict": self.subdistrict_ids,
            "community": self.community_ids,
            "grid": self.grid_ids,
        }

    def issue_q(self, prefix: str = "") -> Q:
        """Rows that store all four area columns, as issues do."""
        if self.is_all:
            return Q()
        q = Q(pk__in=[])
        for level, ids in self._levels().items():
            if ids:
                q |= Q(**{f"{prefix}{level}_id__in": sorted(ids)})
        return q

    def grid_q(self, path: str) -> Q:
        """Rows reached through a foreign key to a grid (`path` names it)."""
        if self.is_all:
            return Q()
        return self._q(_AREA_PATHS["grid"], f"{path}__")

    def community_q(self, path: str) -> Q:
        """Rows reached through a foreign key to a community (`path` names it)."""
        if self.is_all:
            return Q()
        return self._q(_AREA_PATHS["community"], f"{path}__")

    def area_q(self, model: type[Model]) -> Q:
        """Area rows (district … courtyard) at or below the user's assignments."""
        if self.is_all:
            return Q()
        return self._q(_AREA_PATHS[cast(str, model._meta.model_name)], "")

    def _q(self, paths: dict[str, str | None], prefix: str) -> Q:
        q = Q(pk__in=[])
        for level, ids in self._levels().items():
            lookup = paths[level]
            if ids and lookup:
                q |= Q(**{f"{prefix}{lookup}__in": sorted(ids)})
        return q

    def is_staff_of(self, community_id: int) -> bool:
        return self.is_all or community_id in self.community_ids

    def may_print_cards(self, community_id: int) -> bool:
        """Print the courtyards' service cards and replace their QR links: the community's
        staff (and administrators), not the grid workers or officials who only read."""
        return self.is_staff_of(community_id)

    def walks(self, grid_id: int) -> bool:
        return grid_id in self.grid_ids

    def is_provider(self, provider_id: int) -> bool:
        return provider_id in self.provider_ids


def assignable_users(community_id: int, *, grid_id: int | None = None) -> QuerySet[User]:
    """Who may be assigned an issue: the community's staff and the active grid workers of the
    issue's grid (`grid_id`; without it, of any grid of the community, as the list's assignee
    filter asks). The assign forms offer exactly these and the services accept exactly these.
    """
    from django.contrib.auth import get_user_model

    workers = Q(grid_worker__is_active=True)
    if grid_id is None:
        workers &= Q(grid_worker__grids__community_id=community_id)
    else:
        workers &= Q(grid_worker__grids=grid_id)
    return (
        get_user_model()
        .objects.filter(Q(staff_assignments__community_id=community_id) | workers, is_active=True)
        .distinct()
        .order_by("first_name", "username")
    )


def may_be_assigned(user: User, community_id: int, grid_id: int) -> bool:
    return assignable_users(community_id, grid_id=grid_id).filter(pk=user.pk).exists()
