from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Self, cast

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from grids.access import Scope
from grids.models import Community, Courtyard, District, Grid, Patrol, Subdistrict, phone_validator
from issues.privacy import contact_q
from issues.search import bigrams

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# No 0/O, 1/I/L: a resident reads the reference off a phone screen or over the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
# What the URLs and the bulk form take as a reference (any case; looked up upper-cased).
REFERENCE_PATTERN = "[0-9A-Za-z]{4}-[0-9A-Za-z]{4}"


def one_line(text: str) -> str:
    """The text on one line: every run of spaces and line breaks (\r, \n, U+2028 …) one space."""
    return " ".join(text.split())


def new_reference() -> str:
    """Eight random characters, e.g. "K7QM-X9P3": unique and not guessable from a neighbour's."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


class Urgency(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")


def default_follow_up_days() -> list[int]:
    return [7]


class Category(models.Model):
    """A kind of concern; data, edited in the admin."""

    code = models.SlugField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=50)
    name_en = models.CharField(_("name (English)"), max_length=50)
    default_urgency = models.CharField(
        _("default urgency"), max_length=6, choices=Urgency, default=Urgency.NORMAL
    )
    time_limit_hours = models.PositiveIntegerField(
        _("time limit (hours)"), default=168, validators=[MinValueValidator(1)]
    )
    is_dispute = models.BooleanField(
        _("is a dispute"),
        default=False,
        help_text=_("Resolving a dispute requires a mediation record."),
    )
    follow_up_days = models.JSONField(
        _("follow-up visits (days after resolving)"),
        default=default_follow_up_days,
        help_text=_("A list of whole days, e.g. [3, 30, 90]."),
    )
    sort_order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    # What a resident picks on the service card's report page; empty: not offered to residents.
    resident_label = models.CharField(
        _("name for residents (Chinese)"),
        max_length=60,
        blank=True,
        help_text=_("Plain words shown on the residents' report page; empty: not offered there."),
    )
    resident_label_bo = models.CharField(
        _("name for residents (Tibetan)"), max_length=60, blank=True
    )

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name

    @property
    def time_limit(self) -> timedelta:
        return timedelta(hours=self.time_limit_hours)

    @property
    def label_for_residents(self) -> str:
        """The resident-facing name in the active language (Tibetan, else Chinese)."""
        if get_language() == "bo" and self.resident_label_bo:
            return self.resident_label_bo
        return self.resident_label or self.name


class BigramMatch(models.Expression):
    """`search_vector @@ to_tsquery('simple', …)` on the query's own issue table.

    The vector is a generated column the model does not declare (SQLite has no tsvector), so
    the expression names it through the table alias of the query it is compiled in: as a
    subquery (a page's ids, a capped count) that alias is not "issues_issue".
    """

    conditional = True
    output_field = models.BooleanField()

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query

    # The stubs declare Django 6's tuple of params; Django 5.2's expressions return a list.
    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[str]]:  # type: ignore[override]
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return f"{alias}.search_vector @@ to_tsquery('simple', %s)", [self.query]


class IssueQuerySet(models.QuerySet["Issue"]):
    def visible_to(self, user: User) -> Self:
        """Issues inside the user's area; none for a user without a role."""
        return self.filter(Scope.for_user(user).issue_q())

    def for_list(self) -> Self:
        """The joins one row of a list needs, so that no template queries per row.

        The long texts stay in the database: a page of fifty rows needs none of them.
        """
        return (
            self.select_related("category", "courtyard", "grid", "assignee")
            .defer(
                "description",
                "resolution",
                "search_text",
                "courtyard__address",
                "assignee__password",
            )
            .with_reporter_count()
        )

    def with_reporter_count(self) -> Self:
        """`further_reporters`: how many residents reported each issue after the first (on the
        issue itself, or as a duplicate merged into it), counted in the same query (a subquery
        per row each, by the reporters' issue index and the duplicates' foreign key)."""
        reported = (
            Reporter.objects.filter(issue=OuterRef("pk"))
            .order_by()
            .values("issue")
            .annotate(n=Count("*"))
            .values("n")
        )
        merged = (
            Issue.objects.filter(duplicate_of=OuterRef("pk"))
            .order_by()
            .values("duplicate_of")
            .annotate(n=Count("*"))
            .values("n")
        )
        return self.annotate(
            further_reporters=Coalesce(Subquery(reported, output_field=models.IntegerField()), 0)
            + Coalesce(Subquery(merged, output_field=models.IntegerField()), 0)
        )

    def open(self) -> Self:
        return self.filter(status__in=Issue.OPEN_STATUSES)

    def overdue(self, now: datetime | None = None) -> Self:
        return self.open().filter(due_at__lt=now or timezone.now())

    def search(self, term: str, *, user: User) -> Self:
        """Reference, title, description and resident name containing the term.

        The resident's name is searched only on the issues where `user` sees it in full
        (`privacy.contact_q`): an official, who sees a surname, must not find 张三丰 by "三丰".
        On PostgreSQL a GIN index over the text's character bigrams finds candidates (two
        characters is the length of most Chinese words, which trigrams cannot serve); the
        `contains` recheck drops bigrams that matched across words or fields, and the names
        the user may not search.
        """
        term = " ".join(term.split())
        if not term:
            return self
        if len(term) == 9 and term[4] == "-":
            return self.filter(reference=term.upper())
        text = (
            Q(title__contains=term)
            | Q(description__contains=term)
            | (Q(resident_name__contains=term) & contact_q(user))
        )
        grams = bigrams(term)
        if (
            settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
            and grams
            # A one-character word inside a longer run is no bigram of the stored text.
            and all(len(g) == 2 for g in grams)
        ):
            query = " <-> ".join(f"'{g}'" for g in grams)
            return self.filter(BigramMatch(query)).filter(text)
        return self.filter(text)


class Issue(models.Model):
    class Status(models.TextChoices):
        COLLECTED = "collected", _("Collected")
        LISTED = "listed", _("Listed")
        IN_PROGRESS = "in_progress", _("In progress")
        RESOLVED = "resolved", _("Resolved")
        REVISITED = "revisited", _("Revisited")
        # Closed without resolving (a duplicate, referred, not accepted): terminal, and
        # neither open nor resolved, so not among CLOSED_STATUSES (the resolved ones).
        CLOSED = "closed", _("Closed without resolving")

    class Outcome(models.TextChoices):
        DUPLICATE = "duplicate", _("Duplicate: merged into another issue")
        REFERRED = "referred", _("Referred to another body")
        NOT_ACCEPTED = "not_accepted", _("Not accepted")

    class Source(models.TextChoices):
        VISIT = "visit", _("Courtyard visit")
        PATROL = "patrol", _("Patrol")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")
        WALK_IN = "walk_in", _("Walk-in")
        PUBLIC = "public", _("Public form")
        QR = "qr", _("Resident scan (QR code)")

    OPEN_STATUSES = (Status.COLLECTED, Status.LISTED, Status.IN_PROGRESS)
    CLOSED_STATUSES = (Status.RESOLVED, Status.REVISITED)

    reference = models.CharField(
        _("reference"), max_length=9, unique=True, default=new_reference, editable=False
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    category = models.ForeignKey(
        Category, models.PROTECT, related_name="issues", verbose_name=_("category")
    )
    urgency = models.CharField(_("urgency"), max_length=6, choices=Urgency, default=Urgency.NORMAL)
    source = models.CharField(_("source"), max_length=10, choices=Source, default=Source.VISIT)
    courtyard = models.ForeignKey(
        Courtyard, models.PROTECT, related_name="issues", verbose_name=_("courtyard")
    )
    # Copied from the courtyard, so that lists and dashboards filter on an indexed column.
    grid = models.ForeignKey(Grid, models.PROTECT, related_name="issues", verbose_name=_("grid"))
    community = models.ForeignKey(
        Community, models.PROTECT, related_name="issues", verbose_name=_("community/village")
    )
    subdistrict = models.ForeignKey(
        Subdistrict, models.PROTECT, related_name="issues", verbose_name=_("subdistrict/township")
    )
    district = models.ForeignKey(
        District, models.PROTECT, related_name="issues", verbose_name=_("district/county")
    )
    patrol = models.ForeignKey(
        Patrol,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="hazards",
        verbose_name=_("patrol"),
    )
    resident_name = models.CharField(_("resident's name"), max_length=50, blank=True)
    resident_phone = models.CharField(
        _("resident's phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    # The language the resident wrote in (service card): their text messages speak it.
    resident_language = models.CharField(
        _("resident's language"), max_length=7, blank=True, default=""
    )
    # Empty for a concern a resident sent through the service card's QR code.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="issues_created",
        verbose_name=_("logged by"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="issues_assigned",
        verbose_name=_("assignee"),
    )
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.COLLECTED)
    created_at = models.DateTimeField(_("collected at"), default=timezone.now)
    listed_at = models.DateTimeField(_("listed at"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    revisited_at = models.DateTimeField(_("revisited at"), null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last activity"), default=timezone.now)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    resolution = models.TextField(_("resolution"), blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome, blank=True, default="")
    # A duplicate follows the issue it joined: its tracking page shows that one's state.
    duplicate_of = models.ForeignKey(
        "self",
        models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("duplicate of"),
    )
    referred_to = models.CharField(_("referred to"), max_length=100, blank=True, default="")
    people_affected = models.PositiveIntegerField(_("people affected"), null=True, blank=True)
    amount_owed = models.DecimalField(
        _("amount owed (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    amount_recovered = models.DecimalField(
        _("amount recovered (yuan)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
    )
    # The capture form's one-time token: a resent form finds the issue it already created.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # Space-separated character bigrams of title, description and resident name. PostgreSQL
    # keeps a generated tsvector of it in search_vector, GIN-indexed (migration 0007).
    search_text = models.TextField(blank=True, editable=False)

    objects = IssueQuerySet.as_manager()

    class Meta:
        verbose_name = _("issue")
        verbose_name_plural = _("issues")
        ordering = ["-created_at"]
        indexes = [
            # The staff list: WHERE community_id = … AND status IN (…) ORDER BY created_at
            models.Index(
                fields=["community", "status", "-created_at"], name="issue_community_status"
            ),
            # The grid worker's list: WHERE grid_id IN (…) AND status IN (…)
            models.Index(fields=["grid", "status", "-created_at"], name="issue_grid_status"),
            # "Assigned to me": WHERE assignee_id = … AND status IN (…)
            models.Index(fields=["assignee", "status"], name="issue_assignee_status"),
            # Overdue and due-soon lists only ever look at open issues.
            models.Index(
                fields=["due_at"],
                name="issue_open_due",
                condition=Q(status__in=["collected", "listed", "in_progress"]),
            ),
            # Officials' lists and the dashboard's "collected" query: WHERE <area> = … AND
            # created_at BETWEEN …, grouped by category and the next level. The included columns
            # make it an index-only scan over a year of a district's issues.
            models.Index(
                fields=["district", "-created_at"],
                name="issue_district_created",
                include=["id", "category", "subdistrict", "status", "source"],
            ),
            models.Index(
                fields=["subdistrict", "-created_at"],
                name="issue_subdistrict_created",
                include=["id", "category", "community", "status", "source"],
            ),
            models.Index(
                fields=["community", "-created_at"],
                name="issue_community_created",
                include=["id", "category", "grid", "status", "source"],
            ),
            # The dashboard's "resolved" query and its median: WHERE <area> = … AND resolved_at
            # BETWEEN …; only resolved issues have the date, so the index holds only them.
            models.Index(
                fields=["district", "resolved_at"],
                name="issue_district_resolved",
                include=[
                    "category",
                    "subdistrict",
                    "due_at",
                    "created_at",
                    "amount_recovered",
                    "people_affected",
                ],
                condition=Q(resolved_at__isnull=False),
            ),
            models.Index(
                fields=["subdistrict", "resolved_at"],
                name="issue_subdistrict_resolved",
                include=[
                    "category",
                    "community",
                    "due_at",
                    "created_at",
                    "amount_recovered",
                    "people_affected",
                ],
                condition=Q(resolved_at__isnull=False),
            ),
            models.Index(
                fields=["community", "resolved_at"],
                name="issue_community_resolved",
                include=[
                    "category",
                    "grid",
                    "due_at",
                    "created_at",
                    "amount_recovered",
                    "people_affected",
                ],
                condition=Q(resolved_at__isnull=False),
            ),
            # Open issues by area for the dashboard and officials' lists: a few percent of the
            # table, small enough to read whole whatever the area.
            models.Index(
                fields=["district", "subdistrict", "community", "grid"],
                name="issue_open_area",
                include=["category", "status", "due_at", "created_at"],
                condition=Q(status__in=["collected", "listed", "in_progress"]),
            ),
            # The courtyard page and the capture form's duplicate hint.
            models.Index(
                fields=["courtyard", "category", "status"], name="issue_courtyard_category"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("issues:detail", args=[self.reference])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()

    @property
    def is_urgent(self) -> bool:
        return self.urgency == Urgency.URGENT

    @property
    def residents_reporting(self) -> int:
        """The resident on the issue, the further ones who reported it (`reporters`), and the
        residents of the duplicates merged into it (`duplicates`)."""
        further = getattr(self, "further_reporters", None)
        if further is None:
            further = self.reporters.count() + self.duplicates.count()
        return 1 + further

    @property
    def has_resident(self) -> bool:
        """Someone outside waits for an answer (事事有答复): a resident who left a name or a
        phone, or who wrote in through the service card; such an issue needs a reply."""
        return bool(self.resident_name or self.resident_phone) or self.source in (
            self.Source.QR,
            self.Source.PUBLIC,
        )

    @property
    def tracking_url(self) -> str:
        """The resident's tracking page, as a full link for a text message or a card."""
        return settings.SITE_URL + reverse("residents:track", args=[self.reference])

    def search_document(self) -> str:
        """The bigrams that `IssueQuerySet.search` looks up."""
        parts = (self.title, self.description, self.resident_name)
        return " ".join(" ".join(bigrams(part)) for part in parts if part)

    def area_ids(self) -> dict[str, int]:
        """The four area columns, as the rows that copy them (visits, mediations) store them."""
        return {
            "grid_id": self.grid_id,
            "community_id": self.community_id,
            "subdistrict_id": self.subdistrict_id,
            "district_id": self.district_id,
        }

    def move_children(self) -> None:
        """After the issue moved to another area, its visits and mediations follow it."""
        area = self.area_ids()
        self.follow_ups.exclude(**area).update(**area)
        self.mediations.exclude(**area).update(**area)

    def set_area_from_courtyard(self) -> None:
        """Copy the courtyard's grid, community, subdistrict and district onto the issue."""
        grid = self.courtyard.grid
        self.grid = grid
        self.community = grid.community
        self.subdistrict_id = grid.community.subdistrict_id
        self.district_id = grid.community.subdistrict.district_id


class IssueEventQuerySet(models.QuerySet["IssueEvent"]):
    def update(self, **kwargs: object) -> int:
        raise TypeError("The event log is append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("The event log is append-only.")


class IssueEvent(models.Model):
    """One line of an issue's timeline; rows are only ever added."""

    class Action(models.TextChoices):
        CREATE = "create", _("Logged")
        LIST = "list", _("Listed")
        HANDLE_NOW = "handle_now", _("Handled at once")
        START = "start", _("Started")
        RESOLVE = "resolve", _("Resolved")
        REVISIT = "revisit", _("Revisited")
        REOPEN = "reopen", _("Reopened")
        ASSIGN = "assign", _("Assigned")
        COMMENT = "comment", _("Comment")
        MEDIATE = "mediate", _("Mediation recorded")
        SCHEDULE = "schedule", _("Follow-up visits scheduled")
        FOLLOW_UP = "follow_up", _("Follow-up visit recorded")
        REPORT = "report", _("Reported again")
        REPLY = "reply", _("Reply to the resident")
        CLOSE = "close", _("Closed without resolving")

    # The actions a resident reads on the tracking page; every other entry is internal.
    PUBLIC_ACTIONS = frozenset({Action.REPLY})

    issue = models.ForeignKey(Issue, models.CASCADE, related_name="events", verbose_name=_("issue"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    action = models.CharField(_("action"), max_length=12, choices=Action)
    from_status = models.CharField(_("from"), max_length=12, choices=Issue.Status, blank=True)
    to_status = models.CharField(_("to"), max_length=12, choices=Issue.Status, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)
    # The capture form's one-time token, when its words were added to this issue instead of
    # making a new one: a resent form finds this event and adds nothing twice.
    submission_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    objects = IssueEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("issue event")
        verbose_name_plural = _("issue events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["issue", "created_at"], name="event_issue_created")]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.action} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("The event log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("The event log is append-only.")

    @property
    def is_public(self) -> bool:
        return self.action in self.PUBLIC_ACTIONS


class IssueArea(models.Model):
    """The issue's four area columns, copied onto a row that dashboards count by area.

    Counting visits or mediations in a district then reads one index instead of joining every
    issue of the district. The copy is made when the row is written and follows the issue if
    an administrator moves it (`Issue.move_children`).
    """

    grid = models.ForeignKey(Grid, models.PROTECT, related_name="+", db_index=False)
    community = models.ForeignKey(Community, models.PROTECT, related_name="+", db_index=False)
    subdistrict = models.ForeignKey(Subdistrict, models.PROTECT, related_name="+", db_index=False)
    district = models.ForeignKey(District, models.PROTECT, related_name="+", db_index=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.district_id is None:
            self.copy_area()
        super().save(*args, **kwargs)

    def copy_area(self) -> None:
        # Each concrete subclass declares its `issue`; this abstract model cannot.
        for column, value in self.issue.area_ids().items():  # type: ignore[attr-defined]
            setattr(self, column, value)


class Mediation(IssueArea):
    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        COUNCIL = "council", _("Residents' council")
        COMMITTEE = "committee", _("People's mediation committee")
        LAWYER = "lawyer", _("With a lawyer")
        PHONE = "phone", _("By phone")

    class Outcome(models.TextChoices):
        AGREEMENT = "agreement", _("Agreement reached")
        PARTIAL = "partial", _("Partial agreement")
        FAILED = "failed", _("Failed")

    issue = models.ForeignKey(
        Issue, models.CASCADE, related_name="mediations", verbose_name=_("issue")
    )
    mediator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="mediations",
        verbose_name=_("mediator"),
    )
    mediated_on = models.DateField(_("date"))
    parties = models.TextField(_("parties"))
    place = models.CharField(_("place"), max_length=100, blank=True)
    method = models.CharField(_("method"), max_length=10, choices=Method, default=Method.IN_PERSON)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome)
    agreement = models.TextField(_("agreement"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("recorded by")
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now)

    class Meta:
        verbose_name = _("mediation")
        verbose_name_plural = _("mediations")
        indexes = [
            models.Index(fields=["mediated_on"], name="mediation_on"),
            # Disputes mediated in an area and a period, read from the index alone.
            models.Index(
                fields=["district", "mediated_on"],
                name="mediation_district_on",
                include=["issue", "subdistrict", "community", "grid"],
            ),
            models.Index(
                fields=["subdistrict", "mediated_on"],
                name="mediation_subdistrict_on",
                include=["issue", "community", "grid"],
            ),
            models.Index(
                fields=["community", "mediated_on"],
                name="mediation_community_on",
                include=["issue", "grid"],
            ),
            models.Index(
                fields=["grid", "mediated_on"], name="mediation_grid_on", include=["issue"]
            ),
        ]
        ordering = ["mediated_on", "pk"]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.mediated_on} {self.get_outcome_display()}"


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def visible_to(self, user: User) -> Self:
        # Visits carry their issue's area columns: no join to the issues.
        return self.filter(Scope.for_user(user).issue_q())

    def pending(self) -> Self:
        return self.filter(done_at__isnull=True)

    def due(self, now: datetime) -> Self:
        """Visits not yet done whose day has come."""
        return self.pending().filter(due_at__lte=now)

    def overdue(self, now: datetime, grace: timedelta) -> Self:
        return self.pending().filter(due_at__lt=now - grace)


class FollowUp(IssueArea):
    """A follow-up visit (回访). These rows, not queued tasks, are the schedule's truth."""

    class Method(models.TextChoices):
        IN_PERSON = "in_person", _("In person")
        PHONE = "phone", _("Phone")
        WECHAT = "wechat", _("WeChat")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        UNSATISFIED = "unsatisfied", _("Unsatisfied")

    # What the dashboard, the list's visit filter and the tallies' triggers count: a visit is
    # on time up to a day after it was due, and "satisfied" includes "basically satisfied".
    ON_TIME_GRACE = timedelta(days=1)
    SATISFIED = (Satisfaction.SATISFIED, Satisfaction.BASICALLY)

    issue = models.ForeignKey(
        Issue, models.CASCADE, related_name="follow_ups", verbose_name=_("issue")
    )
    visit_no = models.PositiveSmallIntegerField(_("visit"))
    due_at = models.DateTimeField(_("due at"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        related_name="follow_ups",
        verbose_name=_("assignee"),
    )
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("visited by"),
    )
    method = models.CharField(_("method"), max_length=10, choices=Method, blank=True)
    satisfaction = models.CharField(
        _("satisfaction"), max_length=12, choices=Satisfaction, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    reminded_on = models.DateField(_("last reminded on"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    created_at = models.DateTimeField(_("scheduled at"), default=timezone.now)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up visit")
        verbose_name_plural = _("follow-up visits")
        ordering = ["due_at", "pk"]
        constraints = [
            # Scheduling twice (a resent task, the sweep) creates nothing twice.
            models.UniqueConstraint(fields=["issue", "visit_no"], name="follow_up_unique_visit"),
        ]
        indexes = [
            # The beat tasks: WHERE done_at IS NULL AND due_at <= now
            models.Index(
                fields=["due_at"], name="follow_up_pending_due", condition=Q(done_at__isnull=True)
            ),
            # The issue list's "visited between" filter.
            models.Index(
                fields=["done_at"],
                name="follow_up_done",
                include=["issue", "due_at", "satisfaction"],
                condition=Q(done_at__isnull=False),
            ),
            # The dashboard's visits done in an area and a period, read from the index alone.
            models.Index(
                fields=["district", "done_at"],
                name="follow_up_district_done",
                include=["issue", "due_at", "satisfaction", "subdistrict", "community", "grid"],
                condition=Q(done_at__isnull=False),
            ),
            models.Index(
                fields=["subdistrict", "done_at"],
                name="follow_up_subdistrict_done",
                include=["issue", "due_at", "satisfaction", "community", "grid"],
                condition=Q(done_at__isnull=False),
            ),
            models.Index(
                fields=["community", "done_at"],
                name="follow_up_community_done",
                include=["issue", "due_at", "satisfaction", "grid"],
                condition=Q(done_at__isnull=False),
            ),
            models.Index(
                fields=["grid", "done_at"],
                name="follow_up_grid_done",
                include=["issue", "due_at", "satisfaction"],
                condition=Q(done_at__isnull=False),
            ),
            # "My follow-ups, due first": WHERE assignee_id = … ORDER BY due_at
            models.Index(fields=["assignee", "due_at"], name="follow_up_assignee_due"),
        ]

    def __str__(self) -> str:
        return f"{self.issue_id} #{self.visit_no} {self.due_at:%Y-%m-%d}"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return self.done_at is None and self.due_at < timezone.now()


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never comes from the client: a random name with the checked extension.
    return f"photos/{timezone.now():%Y/%m}/{secrets.token_hex(12)}.{filename.rsplit('.', 1)[-1]}"


class Attachment(models.Model):
    """A photo of an issue, re-encoded without its metadata."""

    issue = models.ForeignKey(
        Issue, models.CASCADE, related_name="attachments", verbose_name=_("issue")
    )
    image = models.ImageField(
        _("photo"), upload_to=attachment_path, width_field="width", height_field="height"
    )
    thumbnail = models.ImageField(_("thumbnail"), upload_to=attachment_path, blank=True)
    width = models.PositiveIntegerField(default=0, editable=False)
    height = models.PositiveIntegerField(default=0, editable=False)
    size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    # Empty for a resident's photo sent through the service card.
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["pk"]

    def __str__(self) -> str:
        return cast(str, self.image.name)  # a stored photo always has its file's name


class Reporter(models.Model):
    """A further resident who reported an issue already logged; the first is on the issue.

    Their name and phone are personal data like the first resident's, shown through
    `issues.privacy` by the same rules.
    """

    issue = models.ForeignKey(
        Issue, models.CASCADE, related_name="reporters", verbose_name=_("issue")
    )
    name = models.CharField(_("resident's name"), max_length=50, blank=True)
    phone = models.CharField(
        _("resident's phone"), max_length=20, blank=True, validators=[phone_validator]
    )
    source = models.CharField(
        _("source"), max_length=10, choices=Issue.Source, default=Issue.Source.VISIT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("logged by"),
    )
    created_at = models.DateTimeField(_("reported at"), default=timezone.now)

    class Meta:
        verbose_name = _("further resident")
        verbose_name_plural = _("further residents")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.issue_id} {self.created_at:%Y-%m-%d %H:%M}"


class NotificationQuerySet(models.QuerySet["Notification"]):
    def unread(self) -> Self:
        return self.filter(read_at__isnull=True)

    def listed_for(self, user: User) -> Self:
        """The user's own, leaving out those about an issue outside their area now (they have
        moved on). The admin's area is an empty Q, which `|` would drop, hence the `&`."""
        in_area = Q(issue__isnull=True) | (
            Q(issue__isnull=False) & Scope.for_user(user).issue_q("issue__")
        )
        return self.filter(in_area, recipient=user)


class Notification(models.Model):
    """An in-app message; email (and later SMS or WeChat) go out beside it."""

    class Kind(models.TextChoices):
        URGENT = "urgent", _("Urgent issue logged")
        ASSIGNED = "assigned", _("Issue assigned to you")
        FOLLOW_UP_DUE = "follow_up_due", _("Follow-up visit due")
        FOLLOW_UP_OVERDUE = "overdue", _("Follow-up visit overdue")
        REOPENED = "reopened", _("Issue reopened")
        RESIDENT = "resident", _("Concern sent by a resident")
        WISH_NOT_TAKEN = "wish_untaken", _("Micro-wish waiting to be taken")
        WISH_ESCALATED = "wish_escalated", _("Micro-wish still not taken")
        WISH_OVERDUE = "wish_overdue", _("Micro-wish past its date")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=14, choices=Kind)
    issue = models.ForeignKey(
        Issue,
        models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("issue"),
    )
    # A visit dropped on reopening leaves its reminders in the inbox.
    follow_up = models.ForeignKey(
        FollowUp,
        models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("follow-up visit"),
    )
    # Micro-wish reminders share the inbox, the badge and the channels (wishes/reminders.py).
    wish = models.ForeignKey(
        "wishes.Wish",
        models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("micro-wish"),
    )
    created_at = models.DateTimeField(_("sent at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set once the other channels (email) have it: a message lost with the broker or a worker
    # is sent again by the beat sweep until it is.
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # The header badge: WHERE recipient_id = … AND read_at IS NULL
            models.Index(fields=["recipient", "read_at"], name="notification_unread"),
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(
                fields=["created_at"],
                name="notification_undelivered",
                condition=Q(delivered_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient_id} {self.kind}"


class PhoneReveal(models.Model):
    """An audit row: a user who may only see masked numbers asked to see a resident's phone."""

    issue = models.ForeignKey(
        Issue, models.CASCADE, related_name="phone_reveals", verbose_name=_("issue")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.PROTECT, related_name="+", verbose_name=_("user")
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("phone number view")
        verbose_name_plural = _("phone number views")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.issue_id} {self.created_at:%Y-%m-%d %H:%M}"


class Tally(models.Model):
    """Dashboard counts of one area and week, kept by PostgreSQL triggers.

    Every insert, update or delete of the counted rows adds a row of differences in the same
    transaction, so the sums are exact at every moment; `issues.tallies.compact` folds the
    rows of a key into one. Nothing reads one row alone: every reader sums. Whole districts
    read the tallies by subdistrict; whole subdistricts those by community.
    """

    district_id = models.IntegerField(_("district"))
    week = models.DateField(_("week"), help_text=_("The Monday of the local week."))
    pending = models.BooleanField(_("not yet folded"), default=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.district_id} {self.week}"


class IssueSums(Tally):
    """Issues collected in the week, and issues resolved in it, by category."""

    subdistrict_id = models.IntegerField(_("subdistrict"))
    category_id = models.IntegerField(_("category"))
    collected = models.IntegerField(_("collected"), default=0)
    closed = models.IntegerField(_("collected, now resolved"), default=0)
    hazards = models.IntegerField(_("hazards"), default=0)
    resolved = models.IntegerField(_("resolved"), default=0)
    on_time = models.IntegerField(_("on time"), default=0)
    recovered = models.DecimalField(
        _("amount recovered (yuan)"), max_digits=14, decimal_places=2, default=0
    )
    # The people affected by the issues resolved in the week (wage cases: their workers).
    people = models.BigIntegerField(_("people affected, resolved"), default=0)

    class Meta:
        abstract = True


class IssueTally(IssueSums):
    """By subdistrict and category, for whole districts."""

    class Meta:
        verbose_name = _("issue tally")
        verbose_name_plural = _("issue tallies")
        indexes = [
            models.Index(fields=["district_id", "week"], name="issuetally_district_week"),
            models.Index(fields=["id"], name="issuetally_pending", condition=Q(pending=True)),
        ]


class CommunityIssueTally(IssueSums):
    """By community and category, for whole subdistricts."""

    community_id = models.IntegerField(_("community"))

    class Meta:
        verbose_name = _("issue tally by community")
        verbose_name_plural = _("issue tallies by community")
        indexes = [
            models.Index(fields=["subdistrict_id", "week"], name="communitytally_sub_week"),
            models.Index(fields=["id"], name="communitytally_pending", condition=Q(pending=True)),
        ]


class ResolveTimeSums(Tally):
    """Issues resolved in the week by how long they took: whole hours below two days (0–47),
    whole days from there on (46 + days). The median is read off these counts."""

    bucket = models.IntegerField(_("time to resolve"))
    resolved = models.IntegerField(_("resolved"), default=0)

    class Meta:
        abstract = True


class ResolveTimeTally(ResolveTimeSums):
    """For whole districts."""

    class Meta:
        verbose_name = _("resolve-time tally")
        verbose_name_plural = _("resolve-time tallies")
        indexes = [
            models.Index(fields=["district_id", "week"], name="resolvetally_district_week"),
            models.Index(fields=["id"], name="resolvetally_pending", condition=Q(pending=True)),
        ]


class SubdistrictResolveTimeTally(ResolveTimeSums):
    """For whole subdistricts."""

    subdistrict_id = models.IntegerField(_("subdistrict"))

    class Meta:
        verbose_name = _("resolve-time tally by subdistrict")
        verbose_name_plural = _("resolve-time tallies by subdistrict")
        indexes = [
            models.Index(fields=["subdistrict_id", "week"], name="subresolvetally_sub_week"),
            models.Index(fields=["id"], name="subresolvetally_pending", condition=Q(pending=True)),
        ]


class VisitTally(Tally):
    """Follow-up visits done in the week, by subdistrict: all, on time, and satisfied."""

    subdistrict_id = models.IntegerField(_("subdistrict"))
    done = models.IntegerField(_("visits done"), default=0)
    on_time = models.IntegerField(_("on time"), default=0)
    satisfied = models.IntegerField(_("satisfied"), default=0)

    class Meta:
        verbose_name = _("visit tally")
        verbose_name_plural = _("visit tallies")
        indexes = [
            models.Index(fields=["district_id", "week"], name="visittally_district_week"),
            models.Index(fields=["subdistrict_id", "week"], name="visittally_sub_week"),
            models.Index(fields=["id"], name="visittally_pending", condition=Q(pending=True)),
        ]


class VisitIssueSums(models.Model):
    """How many issues had a visit done on time (kind 1) or found the resident satisfied
    (kind 2), without counting an issue twice, kept by PostgreSQL triggers.

    For each issue, the local days with such a visit in the area, d1 < d2 < …, give a row
    (d, d) of +1 per day and a row (dᵢ, dᵢ₊₁) of +1 per pair of consecutive days. The days of
    one issue inside a period are consecutive, so over a period S–E the issues counted are the
    day rows inside it less the pair rows inside it (dᵢ ≥ S, dᵢ₊₁ ≤ E): one per issue with
    any such day.
    """

    district_id = models.IntegerField(_("district"))
    kind = models.SmallIntegerField(_("kind"), choices=[(1, _("On time")), (2, _("Satisfied"))])
    day = models.DateField(_("day"))
    next_day = models.DateField(_("next day"))
    n = models.IntegerField(_("issues"), default=0)
    pending = models.BooleanField(_("not yet folded"), default=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.district_id} {self.kind} {self.day} {self.next_day}"


class VisitIssueTally(VisitIssueSums):
    """For whole districts."""

    class Meta:
        verbose_name = _("visited-issue tally")
        verbose_name_plural = _("visited-issue tallies")
        indexes = [
            models.Index(fields=["district_id", "day"], name="visitissuetally_district_day"),
            models.Index(fields=["id"], name="visitissuetally_pending", condition=Q(pending=True)),
        ]


class SubdistrictVisitIssueTally(VisitIssueSums):
    """For whole subdistricts."""

    subdistrict_id = models.IntegerField(_("subdistrict"))

    class Meta:
        verbose_name = _("visited-issue tally by subdistrict")
        verbose_name_plural = _("visited-issue tallies by subdistrict")
        indexes = [
            models.Index(fields=["subdistrict_id", "day"], name="subvisitissuetally_sub_day"),
            models.Index(fields=["id"], name="subvisitissue_pending", condition=Q(pending=True)),
        ]
