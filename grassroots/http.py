from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AuthedRequest(HttpRequest):
    """A request behind LoginRequiredMiddleware: the user is always a real User."""

    user: User
    htmx: HtmxDetails
