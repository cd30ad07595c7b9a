from django.contrib import admin
from django.contrib.auth import urls as auth_urls
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.i18n import set_language

from grassroots import accounts, views

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.healthz, name="healthz"),
    # Django's login, which also says how many wrong passwords are left, and a password reset
    # that is throttled and mailed by Celery; the rest as Django's.
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path(
        "accounts/password_reset/",
        accounts.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/",
        include(
            [
                p
                for p in auth_urls.urlpatterns
                if getattr(p, "name", None) not in ("login", "password_reset")
            ]
        ),
    ),
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    # Before issues.urls: its "issues/<reference>/<action>/" would take the reply's URL.
    path("", include("residents.urls")),
    path("", include("issues.urls")),
    path("", include("grids.urls")),
    path("", include("wishes.urls")),
]
