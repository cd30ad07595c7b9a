"""Residents' personal data: what each role sees of a resident's name and phone.

| data | grid worker, staff, admin | official |
| name | shown | surname only |
| phone | shown | masked (138****1234); revealing it is logged |

Exports follow the same rules as the screen of the user who exports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from grids.access import Scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from issues.models import Issue
    from wishes.models import Dispatch, Wish


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


def resident_view(user: User, issue: Issue, *, revealed: bool = False) -> ResidentView:
    if revealed or sees_contact(user, issue):
        return ResidentView(issue.resident_name, issue.resident_phone, False)
    return ResidentView(
        surname(issue.resident_name), mask_phone(issue.resident_phone), bool(issue.resident_phone)
    )


def wish_beneficiary_view(user: User, wish: Wish, dispatches: Iterable[Dispatch]) -> ResidentView:
    """A wish's beneficiary, by the residents' rules; a provider sees the contact only once it
    has taken the wish (`dispatches`: the wish's, as loaded by the caller)."""
    scope = Scope.for_user(user)
    taken = any(
        d.state in ("taken", "done") and scope.is_provider(d.provider_id) for d in dispatches
    )
    if taken or scope.is_all or scope.is_staff_of(wish.community_id) or scope.walks(wish.grid_id):
        return ResidentView(wish.beneficiary_name, wish.beneficiary_phone, False)
    return ResidentView(
        surname(wish.beneficiary_name),
        mask_phone(wish.beneficiary_phone),
        bool(wish.beneficiary_phone),
    )
