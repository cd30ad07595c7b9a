from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.sessions.models import Session
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from grids import services
from grids.forms import GridWorkerCreationForm
from grids.models import (
    Community,
    Courtyard,
    District,
    Grid,
    GridWorker,
    OfficialAssignment,
    Patrol,
    StaffAssignment,
    Subdistrict,
    person_label,
)


@admin.display(description=_("user"), ordering="user__first_name")
def person(assignment: StaffAssignment | OfficialAssignment) -> str:
    return person_label(assignment.user)


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "is_county"]
    search_fields = ["name"]


@admin.register(Subdistrict)
class SubdistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "district", "is_township"]
    list_filter = ["district", "is_township"]
    list_select_related = ["district"]
    search_fields = ["name", "district__name"]
    autocomplete_fields = ["district"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "subdistrict", "is_village"]
    list_filter = ["subdistrict__district", "is_village"]
    list_select_related = ["subdistrict"]
    search_fields = ["name", "subdistrict__name"]
    autocomplete_fields = ["subdistrict"]


@admin.register(Grid)
class GridAdmin(admin.ModelAdmin):
    list_display = ["name", "community"]
    list_filter = ["community__subdistrict__district"]
    list_select_related = ["community"]
    search_fields = ["name", "community__name"]
    autocomplete_fields = ["community"]


@admin.register(Courtyard)
class CourtyardAdmin(admin.ModelAdmin):
    list_display = ["name", "grid", "address", "leader_name", "households"]
    list_select_related = ["grid__community"]
    search_fields = ["name", "address", "leader_name"]
    autocomplete_fields = ["grid"]
    show_full_result_count = False


@admin.register(GridWorker)
class GridWorkerAdmin(admin.ModelAdmin):
    list_display = ["__str__", "username", "phone", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "phone"]
    autocomplete_fields = ["user", "grids"]
    # Adding one is a single form: the account, the name and phone, and the grids.
    add_form = GridWorkerCreationForm
    add_fieldsets = [
        (
            None,
            {
                "fields": [
                    "full_name",
                    "phone",
                    "username",
                    "email",
                    "password1",
                    "password2",
                    "grids",
                ]
            },
        )
    ]

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, worker: GridWorker) -> str:
        return worker.user.username

    def get_fieldsets(self, request: HttpRequest, obj: GridWorker | None = None) -> Any:
        return self.add_fieldsets if obj is None else super().get_fieldsets(request, obj)

    def get_form(
        self,
        request: HttpRequest,
        obj: GridWorker | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm]:
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, change, **kwargs)

    def save_model(self, request: HttpRequest, obj: GridWorker, form: Any, change: bool) -> None:
        if change:
            return super().save_model(request, obj, form, change)
        data = form.cleaned_data
        worker = services.add_grid_worker(
            full_name=data["full_name"],
            username=data["username"],
            password=data["password1"],
            phone=data["phone"],
            grids=data["grids"],
            email=data["email"],
        )
        # The admin goes on with the form's instance (its message, its log, its redirect).
        obj.pk, obj.user = worker.pk, worker.user
        obj._state.adding, obj._state.db = False, worker._state.db
        return None

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        if change:  # on adding, add_grid_worker has set the grids
            super().save_related(request, form, formsets, change)


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = [person, "community"]
    list_select_related = ["user", "community"]
    search_fields = ["user__username", "user__first_name", "community__name"]
    autocomplete_fields = ["user", "community"]


@admin.register(OfficialAssignment)
class OfficialAssignmentAdmin(admin.ModelAdmin):
    list_display = [person, "district", "subdistrict"]
    list_select_related = ["user", "district", "subdistrict"]
    search_fields = ["user__username", "user__first_name", "district__name", "subdistrict__name"]
    autocomplete_fields = ["user", "district", "subdistrict"]


@admin.register(Patrol)
class PatrolAdmin(admin.ModelAdmin):
    list_display = ["started_at", "kind", "grid", "grid_worker", "ended_at"]
    list_filter = ["kind"]
    list_select_related = ["grid__community", "grid_worker"]
    search_fields = ["grid__name", "grid_worker__username", "notes"]
    autocomplete_fields = ["grid", "grid_worker"]
    date_hierarchy = "started_at"
    show_full_result_count = False


class UserAdmin(DjangoUserAdmin):
    """Accounts, with deactivation in one step for a lost phone or a worker who has left."""

    actions = ["deactivate", "reactivate"]
    list_filter = ("is_active", "is_staff", "is_superuser")

    @admin.action(description=_("Deactivate the selected accounts (logged out at once)"))
    def deactivate(self, request, queryset):
        users = list(queryset.exclude(pk=request.user.pk).filter(is_active=True))
        for user in users:
            user.is_active = False
            user.save(update_fields=["is_active"])
            self.log_change(request, user, [{"changed": {"fields": ["is_active"]}}])
        # An inactive user is anonymous on the very next request (ModelBackend.get_user);
        # clearing their sessions also empties the table of what can no longer be used.
        end_sessions({user.pk for user in users})
        skipped = queryset.filter(pk=request.user.pk).exists()
        self.message_user(
            request,
            ngettext(
                "%(count)d account deactivated.", "%(count)d accounts deactivated.", len(users)
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(request, _("Your own account was left active."), messages.WARNING)

    @admin.action(description=_("Reactivate the selected accounts"))
    def reactivate(self, request, queryset):
        users = list(queryset.filter(is_active=False))
        for user in users:
            user.is_active = True
            user.save(update_fields=["is_active"])
            self.log_change(request, user, [{"changed": {"fields": ["is_active"]}}])
        self.message_user(
            request,
            ngettext(
                "%(count)d account reactivated.", "%(count)d accounts reactivated.", len(users)
            )
            % {"count": len(users)},
            messages.SUCCESS,
        )


def end_sessions(user_ids: set[int]) -> int:
    """Delete the stored sessions of these users; returns how many were deleted."""
    if not user_ids:
        return 0
    wanted = {str(pk) for pk in user_ids}
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) in wanted
    ]
    Session.objects.filter(pk__in=doomed).delete()
    return len(doomed)


User = get_user_model()
admin.site.unregister(User)
admin.site.register(User, UserAdmin)
