"""The back office of micro-wishes: service kinds, providers and their logins, offers.

Wishes and their dispatches change only through the services (the pages), so their admin
reads; the timeline is append-only.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from wishes.models import Dispatch, Offer, Provider, ServiceKind, Wish, WishEvent, WishPhoto


@admin.register(ServiceKind)
class ServiceKindAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "name_en",
        "remind_after_days",
        "escalate_after_days",
        "sort_order",
        "is_active",
    ]
    list_editable = ["sort_order", "is_active"]


class OfferInline(admin.TabularInline):
    model = Offer
    extra = 0
    fields = ["title", "kind", "form", "capacity", "place", "time_text", "community", "is_active"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "contact_name", "contact_phone", "user", "is_active"]
    list_filter = ["kind", "is_active", "communities"]
    search_fields = ["name", "contact_name", "contact_phone"]
    filter_horizontal = ["communities"]
    autocomplete_fields = ["user"]
    inlines = [OfferInline]


@admin.register(Offer)
class OfferAdmin(admin.ModelAdmin):
    list_display = ["title", "provider", "kind", "form", "capacity", "community", "is_active"]
    list_filter = ["kind", "form", "is_active", "community"]
    search_fields = ["title", "provider__name"]
    autocomplete_fields = ["provider"]


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Wish)
class WishAdmin(ReadOnly):
    list_display = ["reference", "title", "kind", "status", "community", "created_at"]
    list_filter = ["status", "kind", "source"]
    search_fields = ["reference", "title"]
    list_select_related = ["kind", "community"]


@admin.register(Dispatch)
class DispatchAdmin(ReadOnly):
    list_display = ["wish", "provider", "offer", "state", "dispatched_at"]
    list_filter = ["state"]
    list_select_related = ["wish", "provider", "offer__provider"]


@admin.register(WishEvent)
class WishEventAdmin(ReadOnly):
    list_display = ["wish", "action", "actor", "created_at"]
    list_select_related = ["wish", "actor"]


@admin.register(WishPhoto)
class WishPhotoAdmin(ReadOnly):
    list_display = ["wish", "uploaded_by", "created_at"]
    list_select_related = ["wish", "uploaded_by"]
