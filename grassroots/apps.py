from axes import apps as axes_apps
from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.utils.translation import gettext_lazy as _


class GrassrootsConfig(AppConfig):
    name = "grassroots"
    verbose_name = "Grassroots"

    def ready(self) -> None:
        from grassroots import checks  # noqa: F401 - registers the production check


class AdminConfig(admin_apps.AdminConfig):
    """Django's admin with our site (grassroots/admin.py) as `admin.site`."""

    default = False  # listed by its path in INSTALLED_APPS; "grassroots" is GrassrootsConfig
    default_site = "grassroots.admin.GrassrootsAdminSite"


class AxesConfig(axes_apps.AppConfig):
    """django-axes, under a name the admin index shows in the user's language."""

    default = False
    verbose_name = _("Login security")
