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

from django.db.models import Q

from grids.access import Scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import User

    from issues.models import Issue, Reporter
    from wishes.models import Dispatch, Wish


# The rule, once: the community's staff, the grid's workers, the assignee and the administrator
# see a resident's contact; everyone else (officials) sees it masked. `sees_contact_in` answers
# it for one row's columns; `contact_q` is the same rule as a filter, for searches that must not
# match a name the user sees masked. tests/test_privacy.py holds the two to the same answers.


def sees_contact_in(
    scope: Scope, user_pk: int | None, *, community_id: int, grid_id: int, assignee_id: int | None
) -> bool:
    """Whether a user with this scope sees the full contact of an issue with these columns."""
    return (
        scope.is_all
        or community_id in scope.community_ids
        or grid_id in scope.grid_ids
        or (assignee_id is not None and assignee_id == user_pk)
    )


def contact_q(user: User) -> Q:
    """The issues whose resident's name and phone `user` sees without asking."""
    scope = Scope.for_user(user)
    if scope.is_all:
        return Q()
    q = Q(assignee_id=user.pk) if user.pk is not None else Q(pk__in=[])
    if scope.community_ids:
        q |= Q(community_id__in=sorted(scope.community_ids))
    if scope.grid_ids:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    return q


def sees_contact(user: User, issue: Issue) -> bool:
    """Whether the user sees the resident's full name and phone without asking."""
    return sees_contact_in(
        Scope.for_user(user),
        user.pk,
        community_id=issue.community_id,
        grid_id=issue.grid_id,
        assignee_id=issue.assignee_id,
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
