from django.contrib import admin

from grids.admin import CommunityAdmin
from grids.models import Community
from residents.models import CourtyardLink, SentText, ServiceNumber


class ServiceNumberInline(admin.TabularInline):
    model = ServiceNumber
    extra = 1
    fields = ["order", "name", "name_bo", "phone", "hours"]


# The community's service directory (便民服务电话) is kept on the community's own page.
admin.site.unregister(Community)


@admin.register(Community)
class CommunityWithServicesAdmin(CommunityAdmin):
    inlines = [*CommunityAdmin.inlines, ServiceNumberInline]


@admin.register(CourtyardLink)
class CourtyardLinkAdmin(admin.ModelAdmin):
    """Read only: links are issued when a card is printed and replaced from the card page."""

    list_display = ["courtyard", "created_at", "replaced_at", "replaced_by"]
    list_select_related = ["courtyard", "replaced_by"]
    list_filter = ["replaced_at"]
    search_fields = ["courtyard__name"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(SentText)
class SentTextAdmin(admin.ModelAdmin):
    list_display = ["event", "sent_at"]
    list_select_related = ["event"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False
