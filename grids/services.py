from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grids.access import Scope
from grids.models import Grid, GridWorker, Patrol

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class PatrolRefused(Exception):
    pass


@transaction.atomic
def start_patrol(*, by: User, grid: Grid, kind: str, notes: str = "") -> Patrol:
    """Start a patrol of one of the worker's grids; one patrol at a time."""
    if not Scope.for_user(by).walks(grid.pk):
        raise PatrolRefused(_("That grid is not one of yours."))
    running = Patrol.objects.filter(grid_worker=by, ended_at__isnull=True).first()
    if running is not None:
        raise PatrolRefused(
            _("End the patrol you started at %(time)s first.")
            % {"time": timezone.localtime(running.started_at).strftime("%H:%M")}
        )
    return Patrol.objects.create(
        grid_worker=by, grid=grid, kind=kind, notes=notes.strip(), started_at=timezone.now()
    )


@transaction.atomic
def end_patrol(patrol: Patrol, *, by: User, notes: str = "") -> Patrol:
    if patrol.grid_worker_id != by.pk:
        raise PatrolRefused(_("Only the grid worker on this patrol can end it."))
    fields: dict[str, object] = {"ended_at": timezone.now()}
    if notes.strip():
        fields["notes"] = "\n".join(filter(None, [patrol.notes, notes.strip()]))
    if not Patrol.objects.filter(pk=patrol.pk, ended_at__isnull=True).update(**fields):
        raise PatrolRefused(_("This patrol has already ended."))
    patrol.refresh_from_db()
    return patrol


@transaction.atomic
def add_grid_worker(
    *,
    full_name: str,
    username: str,
    password: str,
    phone: str,
    grids: Iterable[Grid],
    email: str = "",
) -> GridWorker:
    """Create a grid worker's account and profile together: they can log in and see their grids."""
    # The whole name in first_name, as Chinese names are written (get_full_name() returns it).
    user = get_user_model().objects.create_user(
        username=username, password=password, first_name=full_name.strip(), email=email
    )
    worker = GridWorker.objects.create(user=user, phone=phone)
    worker.grids.set(grids)
    return worker
