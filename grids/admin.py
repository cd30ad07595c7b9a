from django.contrib import admin

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
)


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
    list_display = ["user", "phone", "is_active"]
    list_filter = ["is_active"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "phone"]
    autocomplete_fields = ["user", "grids"]


@admin.register(StaffAssignment)
class StaffAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "community"]
    list_select_related = ["user", "community"]
    search_fields = ["user__username", "community__name"]
    autocomplete_fields = ["user", "community"]


@admin.register(OfficialAssignment)
class OfficialAssignmentAdmin(admin.ModelAdmin):
    list_display = ["user", "district", "subdistrict"]
    list_select_related = ["user", "district", "subdistrict"]
    search_fields = ["user__username", "district__name", "subdistrict__name"]
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
