"""Account protection that needs a little code: the client's address, the lockout page."""

import ipaddress

from django.conf import settings
from django.contrib.auth import password_validation
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext


def client_ip(request: HttpRequest) -> str | None:
    """The address login throttling counts against.

    Only the hops the deployment trusts are read from X-Forwarded-For, counted from the end
    (the part the client cannot forge); with no trusted proxy it is the socket's address.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < hops:
        return remote
    candidate = forwarded[-hops]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        # Not an address (a misconfigured proxy, or a forged header): the socket's instead.
        return remote


def locked_out(request: HttpRequest, response, credentials=None) -> HttpResponse:
    """The page a paused login gets: 429, in the user's language, with the wait in minutes."""
    from axes.helpers import get_failure_limit

    context = {
        "failure_limit": get_failure_limit(request, credentials),
        "cooloff_minutes": cooloff_minutes(request),
    }
    return render(request, "registration/locked_out.html", context, status=429)


def tries_left(request: HttpRequest, username: str) -> int | None:
    """Wrong passwords this account may still take from this address before it is paused.

    The count is django-axes' own (its handler, by the same username and address it locks
    on); None before any failure.
    """
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_failure_limit

    credentials = {settings.AXES_USERNAME_FORM_FIELD: username}
    failures = AxesProxyHandler.get_failures(request, credentials)
    if not failures:
        return None
    return max(get_failure_limit(request, credentials) - failures, 0)


def cooloff_minutes(request: HttpRequest) -> int | None:
    """How long a paused login waits, in whole minutes (at least one)."""
    from axes.helpers import get_cool_off

    cool_off = get_cool_off(request)
    return max(1, int(cool_off.total_seconds() // 60)) if cool_off else None


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's rule, with its message in the project's catalogue (Django's own lacks Chinese)."""

    def get_error_message(self) -> str:
        return ngettext(
            "This password is too short: it needs at least %(min_length)d character.",
            "This password is too short: it needs at least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}

    def get_help_text(self) -> str:
        return ngettext(
            "At least %(min_length)d character.",
            "At least %(min_length)d characters.",
            self.min_length,
        ) % {"min_length": self.min_length}
