"""Micro-wishes (微心愿): residents' small wishes, the offers that fulfil them, and who gives them.

A wish is not a problem to fix: it is help to give. The community collects wishes into a needs
list (需求清单), gathers what its member units, partner units, registered party members and
volunteer teams offer into a services list (服务清单), and dispatches wishes to offers.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Self

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from grids.access import Scope
from grids.models import Community, Courtyard, District, Grid, Subdistrict, phone_validator
from issues.models import REFERENCE_ALPHABET

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def new_reference() -> str:
    """ "W" and seven random characters, e.g. "WK7Q-X9P3": never the same as an issue's."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(7))
    return f"W{chars[:3]}-{chars[3:]}"


class ServiceKind(models.Model):
    """A kind of help (生活照料、助医、助学 …); data, edited in the admin."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    remind_after_days = models.PositiveSmallIntegerField(
        _("remind after (days)"),
        default=3,
        help_text=_("A provider who has not taken a dispatched wish this long is reminded."),
    )
    escalate_after_days = models.PositiveSmallIntegerField(
        _("tell staff after (days)"),
        default=7,
        help_text=_("A dispatched wish not taken this long is reported to the community's staff."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("service kind")
        verbose_name_plural = _("service kinds")
        ordering = ["sort_order", "pk"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name


class ProviderQuerySet(models.QuerySet["Provider"]):
    def visible_to(self, user: User) -> Self:
        """Providers serving a community in the user's area, and the user's own."""
        scope = Scope.for_user(user)
        if scope.is_all:
            return self
        mine = Q(pk__in=sorted(scope.provider_ids))
        return self.filter(
            Q(
                pk__in=Provider.communities.through.objects.filter(
                    scope.community_q("community")
                ).values("provider_id")
            )
            | mine
        )


class Provider(models.Model):
    """A unit, partner unit, registered party member or volunteer team that gives help."""

    class Kind(models.TextChoices):
        MEMBER_UNIT = "member_unit", _("Member unit")
        PARTNER_UNIT = "partner_unit", _("Partner unit")
        PARTY_MEMBER = "party_member", _("Registered party member")
        VOLUNTEER_TEAM = "volunteers", _("Volunteer team")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    name = models.CharField(_("name"), max_length=80)
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(
        _("contact phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    communities = models.ManyToManyField(
        Community, related_name="providers", verbose_name=_("communities served")
    )
    # The contact's login; staff act on the provider's behalf when it has none.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="providers",
        verbose_name=_("login"),
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = ProviderQuerySet.as_manager()

    class Meta:
        verbose_name = _("service provider")
        verbose_name_plural = _("service providers")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class OfferQuerySet(models.QuerySet["Offer"]):
    def visible_to(self, user: User) -> Self:
        """Offers of a community in the user's area, and the provider's own."""
        scope = Scope.for_user(user)
        if scope.is_all:
            return self
        in_grids = Grid.objects.filter(pk__in=sorted(scope.grid_ids)).values("community_id")
        return self.filter(
            scope.community_q("community")
            # Grid workers tell residents what their community offers.
            | Q(community_id__in=in_grids)
            | Q(provider_id__in=sorted(scope.provider_ids))
        )

    def for_list(self) -> Self:
        return self.select_related("provider", "kind", "community").with_open_count()

    def with_open_count(self) -> Self:
        """`open_count`: the wishes dispatched to the offer and not yet done or handed back."""
        return self.annotate(
            open_count=Count("dispatches", filter=Q(dispatches__state__in=Dispatch.OPEN_STATES))
        )

    def fitting(self, wish: Wish) -> Self:
        """Offers that fit the wish: active, same kind, capacity left; its community first.

        An offer the wish is already dispatched to (and not handed back) is left out.
        """
        already = Dispatch.objects.filter(
            offer=OuterRef("pk"), wish=wish, state__in=Dispatch.OPEN_STATES
        )
        return (
            self.filter(is_active=True, provider__is_active=True, kind_id=wish.kind_id)
            .filter(Q(community_id=wish.community_id) | Q(provider__communities=wish.community_id))
            .distinct()
            .for_list()
            .filter(open_count__lt=models.F("capacity"))
            .exclude(Exists(already))
            .annotate(
                is_same_community=models.Case(
                    models.When(community_id=wish.community_id, then=True),
                    default=False,
                    output_field=models.BooleanField(),
                )
            )
            .order_by("-is_same_community", "open_count", "pk")
        )


class Offer(models.Model):
    """One line of the services list (服务清单): what a provider offers, how often, where."""

    class Form(models.TextChoices):
        ONE_TO_ONE = "one_to_one", _("One to one")
        ONE_TO_MANY = "one_to_many", _("One to many")
        MANY_TO_ONE = "many_to_one", _("Many to one")

    provider = models.ForeignKey(
        Provider, models.CASCADE, related_name="offers", verbose_name=_("provider")
    )
    title = models.CharField(_("title"), max_length=120)
    kind = models.ForeignKey(
        ServiceKind, models.PROTECT, related_name="offers", verbose_name=_("kind of service")
    )
    form = models.CharField(_("form"), max_length=12, choices=Form, default=Form.ONE_TO_ONE)
    capacity = models.PositiveSmallIntegerField(
        _("wishes at a time"), default=1, validators=[MinValueValidator(1)]
    )
    place = models.CharField(_("place"), max_length=120, blank=True)
    time_text = models.CharField(_("time"), max_length=120, blank=True)
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="offers", verbose_name=_("community/village")
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("listed at"), default=timezone.now)

    objects = OfferQuerySet.as_manager()

    class Meta:
        verbose_name = _("offer")
        verbose_name_plural = _("services list")
        ordering = ["kind__sort_order", "title"]
        indexes = [
            # The dispatch screen: WHERE kind_id = … AND is_active, the wish's community first.
            models.Index(fields=["kind", "community"], name="offer_kind_community"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.title}"


class WishQuerySet(models.QuerySet["Wish"]):
    def visible_to(self, user: User) -> Self:
        """Wishes in the user's area; for a provider, those dispatched to it and not handed back."""
        scope = Scope.for_user(user)
        if scope.is_all:
            return self
        q = scope.issue_q()
        if scope.provider_ids:
            q |= Q(
                pk__in=Dispatch.objects.filter(
                    provider_id__in=sorted(scope.provider_ids), state__in=Dispatch.PROVIDER_STATES
                ).values("wish_id")
            )
        return self.filter(q)

    def for_list(self) -> Self:
        return self.select_related("kind", "courtyard", "grid").defer(
            "description", "done_note", "courtyard__address"
        )


class Wish(models.Model):
    """One line of the needs list (需求清单): a resident's small wish, and its fulfilment."""

    class Status(models.TextChoices):
        COLLECTED = "collected", _("Collected")
        VERIFIED = "verified", _("Verified")
        DECLINED = "declined", _("Declined")
        DISPATCHED = "dispatched", _("Dispatched")
        TAKEN = "taken", _("Taken")
        DONE = "done", _("Fulfilled")
        REVISITED = "revisited", _("Revisited")

    class Source(models.TextChoices):
        VISIT = "visit", _("Grid worker's visit")
        QR = "qr", _("Residents' QR page")
        PHONE = "phone", _("Phone call")
        STATION = "station", _("Service station")
        WECHAT = "wechat", _("WeChat notice")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    OPEN_STATUSES = (Status.COLLECTED, Status.VERIFIED, Status.DISPATCHED, Status.TAKEN)
    # 需求清单: the wishes the community has checked and accepted.
    LISTED_STATUSES = (
        Status.VERIFIED,
        Status.DISPATCHED,
        Status.TAKEN,
        Status.DONE,
        Status.REVISITED,
    )
    FULFILLED_STATUSES = (Status.DONE, Status.REVISITED)

    reference = models.CharField(
        _("reference"), max_length=9, unique=True, default=new_reference, editable=False
    )
    title = models.CharField(_("wish"), max_length=120)
    description = models.TextField(_("details"), blank=True)
    kind = models.ForeignKey(
        ServiceKind, models.PROTECT, related_name="wishes", verbose_name=_("kind of service")
    )
    source = models.CharField(_("source"), max_length=10, choices=Source, default=Source.VISIT)
    beneficiary_name = models.CharField(_("for whom"), max_length=50)
    beneficiary_phone = models.CharField(
        _("beneficiary's phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    courtyard = models.ForeignKey(
        Courtyard, models.PROTECT, related_name="wishes", verbose_name=_("courtyard")
    )
    # Copied from the courtyard, as on issues, so that lists and figures filter on an index.
    grid = models.ForeignKey(Grid, models.PROTECT, related_name="wishes", verbose_name=_("grid"))
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="wishes", verbose_name=_("community/village")
    )
    subdistrict = models.ForeignKey(
        Subdistrict, models.PROTECT, related_name="wishes", verbose_name=_("subdistrict/township")
    )
    district = models.ForeignKey(
        District, models.PROTECT, related_name="wishes", verbose_name=_("district/county")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="wishes_logged",
        verbose_name=_("logged by"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.COLLECTED)
    created_at = models.DateTimeField(_("collected at"), default=timezone.now)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    declined_at = models.DateTimeField(_("declined at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    done_at = models.DateTimeField(_("fulfilled at"), null=True, blank=True)
    revisited_at = models.DateTimeField(_("revisited at"), null=True, blank=True)
    due_on = models.DateField(_("to be done by"), null=True, blank=True)
    decline_reason = models.TextField(_("reason for declining"), blank=True)
    done_note = models.TextField(_("what was done"), blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction, blank=True
    )
    # The capture form's one-time token: a resent form finds the wish it already created.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = WishQuerySet.as_manager()

    class Meta:
        verbose_name = _("micro-wish")
        verbose_name_plural = _("needs list")
        ordering = ["-created_at"]
        indexes = [
            # The staff needs list: WHERE community_id = … AND status IN (…) ORDER BY created_at
            models.Index(
                fields=["community", "status", "-created_at"], name="wish_community_status"
            ),
            # The grid worker's list: WHERE grid_id IN (…) ORDER BY created_at
            models.Index(fields=["grid", "-created_at"], name="wish_grid_created"),
            # Officials' lists and the figures' "collected": WHERE <area> = … AND created_at …
            models.Index(
                fields=["subdistrict", "-created_at"],
                name="wish_subdistrict_created",
                include=["status", "kind"],
            ),
            models.Index(
                fields=["district", "-created_at"],
                name="wish_district_created",
                include=["status", "kind"],
            ),
            # The figures' "fulfilled" and its median: WHERE <area> = … AND done_at BETWEEN …
            models.Index(
                fields=["district", "done_at"],
                name="wish_district_done",
                include=["created_at"],
                condition=Q(done_at__isnull=False),
            ),
            # The reminder of taken wishes past their date: WHERE status = 'taken' AND due_on < …
            models.Index(fields=["due_on"], name="wish_taken_due", condition=Q(status="taken")),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("wishes:detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    def set_area_from_courtyard(self) -> None:
        """Copy the courtyard's grid, community, subdistrict and district onto the wish."""
        grid = self.courtyard.grid
        self.grid = grid
        self.community = grid.community
        self.subdistrict_id = grid.community.subdistrict_id
        self.district_id = grid.community.subdistrict.district_id


class DispatchQuerySet(models.QuerySet["Dispatch"]):
    def open(self) -> Self:
        return self.filter(state__in=Dispatch.OPEN_STATES)


class Dispatch(models.Model):
    """A wish sent to one provider's offer (社区派单); the rows are the truth for reminders."""

    class State(models.TextChoices):
        DISPATCHED = "dispatched", _("Dispatched")
        TAKEN = "taken", _("Taken")
        HANDED_BACK = "handed_back", _("Handed back")
        DONE = "done", _("Done")
        # Another provider fulfilled the wish before this one took it.
        WITHDRAWN = "withdrawn", _("Withdrawn")

    OPEN_STATES = (State.DISPATCHED, State.TAKEN)
    # What a provider still sees of a wish: not what it handed back or was withdrawn from.
    PROVIDER_STATES = (State.DISPATCHED, State.TAKEN, State.DONE)

    wish = models.ForeignKey(
        Wish, models.CASCADE, related_name="dispatches", verbose_name=_("wish")
    )
    offer = models.ForeignKey(
        Offer, models.PROTECT, related_name="dispatches", verbose_name=_("offer")
    )
    # Copied from the offer: the provider's scope and its screen read it without a join.
    provider = models.ForeignKey(
        Provider, models.PROTECT, related_name="dispatches", verbose_name=_("provider")
    )
    state = models.CharField(_("state"), max_length=12, choices=State, default=State.DISPATCHED)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="+",
        verbose_name=_("dispatched by"),
    )
    dispatched_at = models.DateTimeField(_("dispatched at"), default=timezone.now)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    handed_back_at = models.DateTimeField(_("handed back at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("reported to staff at"), null=True, blank=True)
    # A taken wish past its date: its provider is reminded once.
    overdue_reminded_at = models.DateTimeField(_("reminded of the date at"), null=True, blank=True)

    objects = DispatchQuerySet.as_manager()

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["dispatched_at", "pk"]
        indexes = [
            # The provider's "dispatched to me" list and its scope:
            # WHERE provider_id IN (…) AND state IN (…)
            models.Index(fields=["provider", "state"], name="dispatch_provider_state"),
            # The capacity guard: COUNT(*) WHERE offer_id = … AND state IN ('dispatched', 'taken')
            models.Index(fields=["offer", "state"], name="dispatch_offer_state"),
            # The reminder sweep only ever looks at dispatches not yet taken.
            models.Index(
                fields=["dispatched_at"],
                name="dispatch_untaken",
                condition=Q(state="dispatched"),
            ),
        ]
        constraints = [
            # One open dispatch per wish and offer: a double click dispatches once.
            models.UniqueConstraint(
                fields=["wish", "offer"],
                condition=Q(state__in=["dispatched", "taken"]),
                name="dispatch_one_open_per_offer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.wish_id} → {self.provider_id} ({self.state})"


class WishEventQuerySet(models.QuerySet["WishEvent"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The event log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The event log is append-only.")


class WishEvent(models.Model):
    """One line of a wish's timeline; rows are only ever added."""

    class Action(models.TextChoices):
        CREATE = "create", _("Collected")
        VERIFY = "verify", _("Verified")
        DECLINE = "decline", _("Declined")
        DISPATCH = "dispatch", _("Dispatched")
        TAKE = "take", _("Taken")
        HAND_BACK = "hand_back", _("Handed back")
        COMPLETE = "complete", _("Fulfilled")
        RECORD_SATISFACTION = "record_satisfaction", _("Satisfaction recorded")
        REMIND = "remind", _("Provider reminded")
        ESCALATE = "escalate", _("Reported to staff")

    wish = models.ForeignKey(Wish, models.CASCADE, related_name="events", verbose_name=_("wish"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    dispatch = models.ForeignKey(
        Dispatch,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
        verbose_name=_("dispatch"),
    )
    action = models.CharField(_("action"), max_length=20, choices=Action)
    from_status = models.CharField(_("from"), max_length=10, choices=Wish.Status, blank=True)
    to_status = models.CharField(_("to"), max_length=10, choices=Wish.Status, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    objects = WishEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("wish event")
        verbose_name_plural = _("wish events")
        ordering = ["created_at", "pk"]
        indexes = [
            # The wish page's timeline: WHERE wish_id = … ORDER BY created_at
            models.Index(fields=["wish", "created_at"], name="wishevent_wish_created")
        ]

    def __str__(self) -> str:
        return f"{self.wish_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("The event log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The event log is append-only.")


def photo_path(instance: WishPhoto, filename: str) -> str:
    # The stored name never comes from the client: a random name with the checked extension.
    return f"wishes/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.{filename.rsplit('.', 1)[-1]}"


class WishPhoto(models.Model):
    """A photo of a fulfilled wish, re-encoded without its metadata (issues/photos.py)."""

    wish = models.ForeignKey(Wish, models.CASCADE, related_name="photos", verbose_name=_("wish"))
    image = models.ImageField(
        _("photo"), upload_to=photo_path, width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(_("thumbnail"), upload_to=photo_path, blank=True)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("wish photo")
        verbose_name_plural = _("wish photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.image.name or ""
