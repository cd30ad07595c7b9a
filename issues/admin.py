from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import HttpRequest

from grassroots.paginator import CappedPaginator
from issues.models import (
    Attachment,
    Category,
    CommunityIssueTally,
    FollowUp,
    Issue,
    IssueEvent,
    IssueQuerySet,
    IssueTally,
    Mediation,
    Notification,
    PhoneReveal,
    Reporter,
    ResolveTimeTally,
    SubdistrictResolveTimeTally,
    SubdistrictVisitIssueTally,
    VisitIssueTally,
    VisitTally,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "default_urgency",
        "time_limit_hours",
        "is_dispute",
        "follow_up_days",
        "sort_order",
        "is_active",
    ]
    list_editable = ["sort_order", "is_active"]
    list_filter = ["is_dispute", "default_urgency", "is_active"]
    search_fields = ["code", "name", "name_en"]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class EventInline(ReadOnlyInline):
    model = IssueEvent
    fields = ["created_at", "actor", "action", "from_status", "to_status", "note"]
    readonly_fields = cast(list[str], fields)  # names only, no groups


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["visit_no", "due_at", "assignee", "done_at", "method", "satisfaction"]
    readonly_fields = cast(list[str], fields)  # names only, no groups


class ReporterInline(ReadOnlyInline):
    model = Reporter
    fields = ["created_at", "name", "phone", "source", "created_by"]
    readonly_fields = cast(list[str], fields)  # names only, no groups


class MediationInline(ReadOnlyInline):
    model = Mediation
    fields = ["mediated_on", "mediator", "method", "outcome", "agreement"]
    readonly_fields = cast(list[str], fields)  # names only, no groups


@admin.register(Issue)
class IssueAdmin(admin.ModelAdmin):
    list_display = [
        "reference",
        "title",
        "category",
        "urgency",
        "status",
        "community",
        "assignee",
        "created_at",
        "due_at",
    ]
    list_filter = ["status", "urgency", "category", "source", "district"]
    list_select_related = ["category", "community", "assignee"]
    search_fields = ["=reference"]
    search_help_text = "Reference (e.g. K7QM-X9P3), or words of the title or description."
    autocomplete_fields = ["category", "courtyard", "created_by", "assignee", "patrol"]
    raw_id_fields = ["grid", "community", "subdistrict", "district"]
    readonly_fields = [
        "reference",
        "status",
        "listed_at",
        "started_at",
        "resolved_at",
        "revisited_at",
        "last_activity_at",
        "grid",
        "community",
        "subdistrict",
        "district",
    ]
    inlines = [ReporterInline, MediationInline, FollowUpInline, EventInline]
    date_hierarchy = None
    # A million rows: count at most CappedPaginator.cap and never the whole table twice.
    paginator = CappedPaginator
    show_full_result_count = False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        if not search_term.strip():
            return queryset, False
        return cast(IssueQuerySet, queryset).search(
            search_term, user=cast("User", request.user)
        ), False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # An issue's events are its audit trail; closing it is a workflow action.
        return False

    def save_model(self, request: HttpRequest, obj: Issue, form: Any, change: bool) -> None:
        obj.set_area_from_courtyard()
        obj.search_text = obj.search_document()
        super().save_model(request, obj, form, change)
        if change:
            obj.move_children()


class AuditAdmin(admin.ModelAdmin):
    """An audit trail: readable by administrators, never added to, changed or deleted here."""

    paginator = CappedPaginator
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(IssueEvent)
class IssueEventAdmin(AuditAdmin):
    """Every change of every issue."""

    list_display = ["created_at", "issue", "actor", "action", "from_status", "to_status"]
    list_filter = ["action"]
    list_select_related = ["issue", "actor"]
    search_fields = ["=issue__reference"]


@admin.register(Mediation)
class MediationAdmin(admin.ModelAdmin):
    list_display = ["issue", "mediated_on", "mediator", "method", "outcome"]
    list_filter = ["outcome", "method"]
    list_select_related = ["issue", "mediator"]
    search_fields = ["=issue__reference", "parties"]
    autocomplete_fields = ["issue", "mediator", "created_by"]
    paginator = CappedPaginator
    show_full_result_count = False


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin):
    list_display = ["issue", "visit_no", "due_at", "assignee", "done_at", "satisfaction"]
    list_filter = ["satisfaction", "method"]
    list_select_related = ["issue", "assignee"]
    search_fields = ["=issue__reference"]
    autocomplete_fields = ["issue", "assignee", "done_by"]
    paginator = CappedPaginator
    show_full_result_count = False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["issue", "image", "size", "uploaded_by", "created_at"]
    list_select_related = ["issue", "uploaded_by"]
    search_fields = ["=issue__reference"]
    autocomplete_fields = ["issue", "uploaded_by"]
    paginator = CappedPaginator
    show_full_result_count = False


@admin.register(Reporter)
class ReporterAdmin(admin.ModelAdmin):
    list_display = ["issue", "name", "phone", "source", "created_by", "created_at"]
    list_select_related = ["issue", "created_by"]
    search_fields = ["=issue__reference"]
    autocomplete_fields = ["issue", "created_by"]
    paginator = CappedPaginator
    show_full_result_count = False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "issue", "created_at", "read_at"]
    list_filter = ["kind"]
    list_select_related = ["recipient", "issue"]
    search_fields = ["recipient__username", "=issue__reference"]
    autocomplete_fields = ["recipient", "issue", "follow_up"]
    paginator = CappedPaginator
    show_full_result_count = False


@admin.register(PhoneReveal)
class PhoneRevealAdmin(AuditAdmin):
    """Who saw which resident's phone number, and when: read only."""

    list_display = ["created_at", "user", "issue"]
    list_select_related = ["user", "issue"]
    search_fields = ["user__username", "=issue__reference"]
    date_hierarchy = "created_at"


class TallyAdmin(AuditAdmin):
    """The dashboard tallies, kept by the database: readable, never edited here (a wrong sum
    is corrected by the nightly recount, or by `tallies.reconcile()`)."""

    list_filter = ["pending"]
    ordering = ["-id"]

    def get_model_perms(self, request: HttpRequest) -> dict[str, bool]:
        # Internal: kept off the admin's index and menu; their lists still open by URL.
        return {}


ISSUE_SUMS = ["category_id", "collected", "closed", "hazards", "resolved", "on_time", "recovered"]


@admin.register(IssueTally)
class IssueTallyAdmin(TallyAdmin):
    list_display = ["week", "district_id", "subdistrict_id", *ISSUE_SUMS, "pending"]


@admin.register(CommunityIssueTally)
class CommunityIssueTallyAdmin(TallyAdmin):
    list_display = ["week", "subdistrict_id", "community_id", *ISSUE_SUMS, "pending"]


@admin.register(ResolveTimeTally)
class ResolveTimeTallyAdmin(TallyAdmin):
    list_display = ["week", "district_id", "bucket", "resolved", "pending"]


@admin.register(SubdistrictResolveTimeTally)
class SubdistrictResolveTimeTallyAdmin(TallyAdmin):
    list_display = ["week", "subdistrict_id", "bucket", "resolved", "pending"]


@admin.register(VisitTally)
class VisitTallyAdmin(TallyAdmin):
    list_display = ["week", "district_id", "subdistrict_id", "done", "on_time", "satisfied"]


@admin.register(VisitIssueTally)
class VisitIssueTallyAdmin(TallyAdmin):
    list_display = ["day", "next_day", "district_id", "kind", "n", "pending"]


@admin.register(SubdistrictVisitIssueTally)
class SubdistrictVisitIssueTallyAdmin(TallyAdmin):
    list_display = ["day", "next_day", "subdistrict_id", "kind", "n", "pending"]
