from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.auth.models import User

phone_validator = RegexValidator(
    r"^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$",
    _("Enter a mobile number of 11 digits or a landline such as 0891-6321234."),
)


def person_name(user: User) -> str:
    """How the app names a person: their full name, or their username if they have none."""
    return user.get_full_name() or user.username


def person_label(user: User) -> str:
    """A person in the admin's pickers, where two people may share a name: 拉姆 (lamu)."""
    name = user.get_full_name()
    return f"{name} ({user.username})" if name else user.username


class AreaQuerySet(models.QuerySet):
    def visible_to(self, user: User) -> Self:
        """Areas inside the user's scope: the area itself or one of its parents is assigned."""
        from grids.access import Scope

        return self.filter(Scope.for_user(user).area_q(self.model))


class District(models.Model):
    """区/县."""

    name = models.CharField(_("name"), max_length=50, unique=True)
    is_county = models.BooleanField(_("is a county"), default=False)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("district/county")
        verbose_name_plural = _("districts/counties")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Subdistrict(models.Model):
    """街道/乡镇."""

    district = models.ForeignKey(
        District, models.PROTECT, related_name="subdistricts", verbose_name=_("district/county")
    )
    name = models.CharField(_("name"), max_length=50)
    is_township = models.BooleanField(_("is a township"), default=False)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("subdistrict/township")
        verbose_name_plural = _("subdistricts/townships")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["district", "name"], name="subdistrict_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Community(models.Model):
    """社区/村."""

    subdistrict = models.ForeignKey(
        Subdistrict,
        models.PROTECT,
        related_name="communities",
        verbose_name=_("subdistrict/township"),
    )
    name = models.CharField(_("name"), max_length=50)
    is_village = models.BooleanField(_("is a village"), default=False)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("community/village")
        verbose_name_plural = _("communities/villages")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["subdistrict", "name"], name="community_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Grid(models.Model):
    """网格: the patch one or a few grid workers walk."""

    community = models.ForeignKey(
        Community, models.PROTECT, related_name="grids", verbose_name=_("community/village")
    )
    name = models.CharField(_("name"), max_length=50)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("grid")
        verbose_name_plural = _("grids")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["community", "name"], name="grid_unique_name")
        ]

    def __str__(self) -> str:
        return f"{self.community.name} · {self.name}"


class Courtyard(models.Model):
    """大院/小区: every issue belongs to exactly one."""

    grid = models.ForeignKey(
        Grid, models.PROTECT, related_name="courtyards", verbose_name=_("grid")
    )
    name = models.CharField(_("name"), max_length=80)
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    leader_name = models.CharField(_("courtyard leader"), max_length=50, blank=True)
    leader_phone = models.CharField(
        _("leader's phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    households = models.PositiveIntegerField(_("households"), default=0)

    objects = AreaQuerySet.as_manager()

    class Meta:
        verbose_name = _("courtyard")
        verbose_name_plural = _("courtyards")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["grid", "name"], name="courtyard_unique_name")
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("grids:courtyard", args=[self.pk])


class GridWorker(models.Model):
    """网格员: the profile of a user who walks one or more grids."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, models.CASCADE, related_name="grid_worker", verbose_name=_("user")
    )
    phone = models.CharField(_("phone"), max_length=20, blank=True, validators=[phone_validator])
    grids = models.ManyToManyField(Grid, related_name="grid_workers", verbose_name=_("grids"))
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("grid worker")
        verbose_name_plural = _("grid workers")

    def __str__(self) -> str:
        return person_name(self.user)


class StaffAssignment(models.Model):
    """社区工作人员: a user who triages one community's issues."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="staff_assignments",
        verbose_name=_("user"),
    )
    community = models.ForeignKey(
        Community,
        models.CASCADE,
        related_name="staff_assignments",
        verbose_name=_("community/village"),
    )

    class Meta:
        verbose_name = _("community staff assignment")
        verbose_name_plural = _("community staff assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "community"], name="staff_assignment_unique")
        ]

    def __str__(self) -> str:
        return f"{person_label(self.user)} → {self.community}"


class OfficialAssignment(models.Model):
    """街道/区/县干部: a read-only user over a subdistrict or a whole district."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="official_assignments",
        verbose_name=_("user"),
    )
    district = models.ForeignKey(
        District,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="official_assignments",
        verbose_name=_("district/county"),
    )
    subdistrict = models.ForeignKey(
        Subdistrict,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="official_assignments",
        verbose_name=_("subdistrict/township"),
    )

    class Meta:
        verbose_name = _("official assignment")
        verbose_name_plural = _("official assignments")
        constraints = [
            models.CheckConstraint(
                condition=Q(district__isnull=True) ^ Q(subdistrict__isnull=True),
                name="official_assignment_one_area",
                violation_error_message=_("Choose either a district or a subdistrict."),
            )
        ]

    def __str__(self) -> str:
        return f"{person_label(self.user)} → {self.district or self.subdistrict}"


class PatrolQuerySet(models.QuerySet["Patrol"]):
    def visible_to(self, user: User) -> Self:
        from grids.access import Scope

        return self.filter(Scope.for_user(user).grid_q("grid"))


class Patrol(models.Model):
    """巡查: a walk of a grid; hazards found on it are issues linked to it."""

    class Kind(models.TextChoices):
        ROUTINE = "routine", _("Routine")
        FLOOD = "flood", _("Rain/flood")
        SAFETY = "safety", _("Safety")

    grid_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="patrols",
        verbose_name=_("grid worker"),
    )
    grid = models.ForeignKey(Grid, models.PROTECT, related_name="patrols", verbose_name=_("grid"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.ROUTINE)
    started_at = models.DateTimeField(_("started at"))
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-started_at"]
        indexes = [
            # Serves the patrol list and the dashboard's patrol count: WHERE grid_id IN (…)
            # AND started_at >= …
            models.Index(fields=["grid", "started_at"]),
            # Serves "my patrols": WHERE grid_worker_id = … ORDER BY started_at DESC
            models.Index(fields=["grid_worker", "-started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.started_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("grids:patrol", args=[self.pk])

    def courtyards(self) -> models.QuerySet[Courtyard]:
        """Where a hazard found on this patrol may be: the courtyards of the patrol's grid.
        The capture form offers these and `create_issue` accepts only these."""
        return Courtyard.objects.filter(grid_id=self.grid_id)
