from django.contrib import admin
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from grassroots import views

admin.site.site_header = admin.site.site_title = "Grassroots"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # Before issues.urls: its "issues/<reference>/<action>/" would take the reply's URL.
    path("", include("residents.urls")),
    path("", include("issues.urls")),
    path("", include("grids.urls")),
]
