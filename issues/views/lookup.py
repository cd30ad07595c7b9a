"""The scoped lookups every issue view starts from, and a safe way back."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from grassroots.http import AuthedRequest
from issues import services
from issues.models import (
    Issue,
)


def is_id(value: str) -> bool:
    """Digits a database id can be made of: ASCII only ("²".isdigit() is true, int() fails)."""
    return value.isascii() and value.isdigit()


def visible_issue(request: AuthedRequest, reference: str) -> Issue:
    return get_object_or_404(
        Issue.objects.visible_to(request.user).select_related(
            "category",
            "courtyard",
            "grid",
            "community",
            "assignee",
            "created_by",
            "patrol",
            "duplicate_of",
        ),
        reference=reference.upper(),
    )


def acting_issue(request: AuthedRequest, reference: str) -> Issue:
    """The issue for a change: 404 outside the scope, 403 for read-only roles inside it."""
    issue = visible_issue(request, reference)
    if not services.can_contribute(request.user, issue):
        raise PermissionDenied(_("Your role can read this issue but not change it."))
    return issue


def safe_back(url: str, default: str) -> str:
    """A path on this site to go back to, else `default`: "//host" and "/\\host" leave it."""
    if url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=None):
        return url
    return default
