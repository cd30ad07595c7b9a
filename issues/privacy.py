"""Residents' personal data: what each role sees of a resident's name and phone.

| data | grid worker, staff, admin | official |
| name | shown | surname only |
| phone | shown | masked (138****1234); revealing it is logged |

The rules are the same for every resident of an issue: the one on the issue and the further
ones who reported it (`Reporter`); one logged reveal shows all of that issue's numbers.
Exports follow the same rules as the screen of the user who exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grids.access import Scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from issues.models import Issue, Reporter


def sees_contact(user: User, issue: Issue) -> bool:
    """Whether the user sees the resident's full name and phone without asking."""
    scope = Scope.for_user(user)
    return (
        scope.is_all
        or scope.is_staff_of(issue.community_id)
        or scope.walks(issue.grid_id)
        or issue.assignee_id == user.pk
    )


def mask_phone(phone: str) -> str:
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"


def surname(name: str) -> str:
    """The family name alone: the first character of a Han name; Tibetan names have none."""
    if not name:
        return ""
    return f"{name[0]}**" if len(name) > 1 else name


@dataclass(frozen=True)
class ResidentView:
    name: str
    phone: str
    is_masked: bool


def contact_view(
    user: User, issue: Issue, name: str, phone: str, *, revealed: bool = False
) -> ResidentView:
    """One resident of `issue` as `user` may see them."""
    if revealed or sees_contact(user, issue):
        return ResidentView(name, phone, False)
    return ResidentView(surname(name), mask_phone(phone), bool(phone))


def resident_view(user: User, issue: Issue, *, revealed: bool = False) -> ResidentView:
    """The resident on the issue."""
    return contact_view(user, issue, issue.resident_name, issue.resident_phone, revealed=revealed)


def reporter_views(
    user: User, issue: Issue, reporters: Iterable[Reporter], *, revealed: bool = False
) -> list[ResidentView]:
    """The further residents who reported the issue, by the same rules."""
    return [contact_view(user, issue, r.name, r.phone, revealed=revealed) for r in reporters]
