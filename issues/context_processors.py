from django.http import HttpRequest

from grids.access import Scope
from issues.models import Notification


def header(request: HttpRequest) -> dict[str, object]:
    """The header's role and unread badge; the count is queried only if a page shows it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def unread_count() -> int:
        # The same rows as the inbox lists.
        return Notification.objects.listed_for(user).unread().count()

    return {"user_role": Scope.for_user(user).role.value, "unread_count": unread_count}
