from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _


class ContentSecurityPolicyMiddleware:
    """Scripts only from this site, never inline: an injected <script> does not run.

    The admin has a policy of its own (its pages draw no blobs), which its date pickers,
    filters and autocompletes work with.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = (
            settings.ADMIN_CONTENT_SECURITY_POLICY
            if request.path.startswith("/admin/")
            else settings.CONTENT_SECURITY_POLICY
        )
        response.headers.setdefault("Content-Security-Policy", policy)
        return response


def holds_nul(request: HttpRequest) -> bool:
    """Whether a parameter's name or value carries a NUL, which PostgreSQL text cannot hold."""
    return any(
        "\x00" in key or any("\x00" in value for value in values if isinstance(value, str))
        for params in (request.GET, request.POST)
        for key, values in params.lists()
    )


class AdminRefusesNulMiddleware:
    """The admin's list filters hand a parameter to the database as it came: a NUL would be a
    500. The app's own forms refuse it field by field; the admin's are Django's, so here."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/admin/") and holds_nul(request):
            return HttpResponseBadRequest(
                _("The request holds a character that is not allowed (NUL)."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


class PrivatePagesMiddleware:
    """What a logged-in user is shown (pages, photos, exports) is kept in no cache.

    On a shared phone the browser's cache would show the last user's pages and photos to the
    next; `no-store` keeps them out of it (and out of any proxy). Static files never get here:
    WhiteNoise answers them before the session is read, with its own long cache lifetime.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
