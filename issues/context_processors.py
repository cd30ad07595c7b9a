from django.http import HttpRequest

from grids.access import Scope


def header(request: HttpRequest) -> dict[str, object]:
    """The header's role and unread badge; the count is read only when a page renders it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"user_role": Scope.for_user(user).role}
