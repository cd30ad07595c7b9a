"""The password-reset request: throttled, answered the same whatever the address, mailed by Celery.

Django's own view sends the mail inside the request, for every post, and takes longer when the
address has an account. Here the request only counts and enqueues: at most
PASSWORD_RESET_PER_ADDRESS mails per address and PASSWORD_RESET_PER_CLIENT requests per client
address go out in PASSWORD_RESET_WINDOW, and every valid form gets the same redirect.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.decorators import method_decorator

from grassroots.security import client_ip


def _within(key: str, limit: int) -> bool:
    """Count one more under `key` for the window; whether the count is still within `limit`."""
    window = int(settings.PASSWORD_RESET_WINDOW.total_seconds())
    cache.add(key, 0, window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, window)
        count = 1
    return count <= limit


def may_send_reset(email: str, client: str | None) -> bool:
    """Count the request against the address and the client; whether a mail may go out."""
    address = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    per_client = _within(f"password-reset:client:{client}", settings.PASSWORD_RESET_PER_CLIENT)
    per_address = _within(f"password-reset:address:{address}", settings.PASSWORD_RESET_PER_ADDRESS)
    return per_client and per_address


def send_reset_mail(email: str) -> None:
    """Mail a reset link to every active account of the address (none: nothing is sent)."""
    site = urlsplit(settings.SITE_URL)
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=site.netloc, use_https=site.scheme == "https")


@method_decorator(login_not_required, name="dispatch")
class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        from grassroots import tasks

        email = form.cleaned_data["email"]
        if may_send_reset(email, client_ip(self.request)):
            transaction.on_commit(lambda: tasks.send_password_reset.delay(email), robust=True)
        # The same answer whether the address has an account, has none, or is throttled.
        return HttpResponseRedirect(self.get_success_url())
