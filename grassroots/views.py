from typing import Any

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache

from grassroots.celery import app as celery_app
from grassroots.http import AuthedRequest
from grassroots.security import cooloff_minutes, tries_left
from grids.access import Role, Scope

HOMES = {
    Role.ADMIN: "admin:index",
    Role.OFFICIAL: "issues:dashboard",
    Role.STAFF: "issues:list",
    Role.GRID_WORKER: "issues:mine",
    Role.PROVIDER: "wishes:mine",
    Role.NONE: "issues:list",
}


def home(request: AuthedRequest) -> HttpResponse:
    """Each role lands where its day starts."""
    return redirect(HOMES[Scope.for_user(request.user).role])


class LoginView(auth_views.LoginView):
    """Django's login; after a wrong password it says how many tries are left before the pause."""

    def form_invalid(self, form: Any) -> HttpResponse:
        # The username as the form cleaned it: one it refused (a NUL) was never tried.
        username = form.cleaned_data.get("username")
        left = tries_left(self.request, username) if username else None
        return self.render_to_response(
            self.get_context_data(
                form=form, tries_left=left, cooloff_minutes=cooloff_minutes(self.request)
            )
        )


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True
    except Exception:
        return False


@login_not_required
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever the page links; send them to the icon."""
    return redirect(static("favicon.svg"))


@login_not_required
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """200 when the database and the broker answer, 503 naming the one that does not."""
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    status = 200 if all(checks.values()) else 503
    return JsonResponse(
        {
            "status": "ok" if status == 200 else "error",
            **{k: "ok" if v else "error" for k, v in checks.items()},
        },
        status=status,
    )
