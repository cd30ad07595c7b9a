"""The residents' side's changes: the cards' links and a resident's report."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import Scope
from grids.models import Courtyard
from issues.services import TransitionRefused
from residents.models import CourtyardLink

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def current_links(courtyards: Iterable[Courtyard]) -> dict[int, CourtyardLink]:
    """Each courtyard's current link, issuing one to a courtyard that has none (two queries)."""
    ids = [c.pk for c in courtyards]
    links = {
        link.courtyard_id: link
        for link in CourtyardLink.objects.current().filter(courtyard_id__in=ids)
    }
    missing = [CourtyardLink(courtyard_id=pk) for pk in ids if pk not in links]
    if missing:
        # Two printers at once: the constraint keeps one current link, the loser reads it.
        CourtyardLink.objects.bulk_create(missing, ignore_conflicts=True)
        for link in CourtyardLink.objects.current().filter(courtyard_id__in=ids):
            links.setdefault(link.courtyard_id, link)
    return links


@transaction.atomic
def replace_link(courtyard: Courtyard, *, by: User) -> CourtyardLink:
    """A new QR link for a defaced or misused card; the old one then only says it was replaced."""
    if not Scope.for_user(by).may_print_cards(courtyard.grid.community_id):
        raise TransitionRefused(_("Only the community's staff can replace a service card's code."))
    CourtyardLink.objects.current().filter(courtyard=courtyard).update(
        replaced_at=timezone.now(), replaced_by=by
    )
    try:
        with transaction.atomic():
            return CourtyardLink.objects.create(courtyard=courtyard)
    except IntegrityError:
        # Someone replaced it at the same moment: theirs is the new one.
        return CourtyardLink.objects.current().get(courtyard=courtyard)
