"""The admin site: Chinese titles, the areas in their hierarchy's order, people by name.

`grassroots.apps.AdminConfig` makes this the default site, so `admin.site` and
`@admin.register` everywhere mean it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin
from django.contrib.admin.views.autocomplete import AutocompleteJsonView
from django.contrib.auth import get_user_model
from django.db.models import ForeignKey, ManyToManyField
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from grids.forms import PersonChoiceField, PersonMultipleChoiceField
from grids.models import person_label

# The index lists the apps and their models in this order (model names as in the URLs); what is
# not named follows, alphabetically. Areas go down their hierarchy (区/县 → 街道/乡镇 → 社区/村 →
# 网格 → 大院), then the people and roles who work in them, then patrols.
INDEX_ORDER = {
    "grids": [
        "district",
        "subdistrict",
        "community",
        "grid",
        "courtyard",
        "gridworker",
        "staffassignment",
        "officialassignment",
        "patrol",
    ],
    "issues": [
        "issue",
        "category",
        "mediation",
        "followup",
        "attachment",
        "notification",
        "issueevent",
        "phonereveal",
    ],
    "auth": ["user", "group"],
    "axes": [],
}


def _position(order: list[str], name: str) -> tuple[int, int]:
    return (order.index(name), 0) if name in order else (len(order), 1)


# A mixin for model admins: to the type checker, it is one.
if TYPE_CHECKING:
    _ModelAdmin = admin.ModelAdmin
else:
    _ModelAdmin = object


class PeopleByName(_ModelAdmin):
    """Every picker of a user (select, autocomplete) shows "full name (username)"."""

    def formfield_for_foreignkey(self, db_field: ForeignKey, request: HttpRequest, **kwargs: Any):
        if db_field.remote_field.model is get_user_model():
            kwargs.setdefault("form_class", PersonChoiceField)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(
        self, db_field: ManyToManyField, request: HttpRequest, **kwargs: Any
    ):
        if db_field.remote_field.model is get_user_model():
            kwargs.setdefault("form_class", PersonMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class PeopleAutocompleteJsonView(AutocompleteJsonView):
    def serialize_result(self, obj: Any, to_field_name: str) -> dict[str, str]:
        result = super().serialize_result(obj, to_field_name)
        if isinstance(obj, get_user_model()):
            result["text"] = person_label(obj)
        return result


class GrassrootsAdminSite(admin.AdminSite):
    site_header = _("Grassroots administration")
    site_title = _("Grassroots")

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        # Every model admin, ours and the packages', names people in its user pickers.
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, PeopleByName):
            admin_class = type(admin_class.__name__, (PeopleByName, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        # as_view() promises any response; this view's is always a JsonResponse.
        return cast(HttpResponse, PeopleAutocompleteJsonView.as_view(admin_site=self)(request))

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        """The apps and their models in INDEX_ORDER, not in the alphabet's order."""
        apps = super().get_app_list(request, app_label)
        for app in apps:
            order = INDEX_ORDER.get(app["app_label"], [])
            app["models"].sort(key=lambda m: _position(order, m["model"]._meta.model_name))
        names = list(INDEX_ORDER)
        apps.sort(key=lambda app: _position(names, app["app_label"]))
        return apps
