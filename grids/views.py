from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from grassroots.http import AuthedRequest
from grids.access import Scope
from grids.forms import EndPatrolForm, StartPatrolForm
from grids.models import Courtyard, Patrol
from grids.services import PatrolRefused, end_patrol, start_patrol
from issues.models import Issue


def courtyard_list(request: AuthedRequest) -> HttpResponse:
    """The courtyards of the user's area with their open issues (a worker's grids: a few dozen)."""
    # Counted as the courtyard page lists them: a moved courtyard's earlier issues stay with
    # their old grid's area.
    open_in_area = Q(issues__status__in=Issue.OPEN_STATUSES) & Scope.for_user(request.user).issue_q(
        "issues__"
    )
    courtyards = list(
        Courtyard.objects.visible_to(request.user)
        .select_related("grid__community")
        .annotate(open_issues=Count("issues", filter=open_in_area))
        .order_by("grid__community__name", "grid__name", "name")[:300]
    )
    scope = Scope.for_user(request.user)
    communities = {c.grid.community_id: c.grid.community for c in courtyards}
    printable = [c for pk, c in communities.items() if scope.may_print_cards(pk)]
    return render(
        request,
        "grids/courtyard_list.html",
        {"courtyards": courtyards, "printable_communities": printable},
    )


def courtyard_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    courtyard = get_object_or_404(
        Courtyard.objects.visible_to(request.user).select_related("grid__community"), pk=pk
    )
    # Issues keep the grid they were logged in: after a courtyard moves to another grid, its
    # earlier issues belong to the old grid's area, not to the page's reader.
    issues = (
        Issue.objects.visible_to(request.user)
        .filter(courtyard=courtyard)
        .select_related("category")
    )
    open_issues = list(issues.filter(status__in=Issue.OPEN_STATUSES).order_by("-created_at"))
    past = list(issues.filter(status__in=Issue.CLOSED_STATUSES).order_by("-resolved_at")[:30])
    patrols = list(
        Patrol.objects.filter(grid_id=courtyard.grid_id)
        .select_related("grid_worker")
        .annotate(hazard_count=Count("hazards", filter=Q(hazards__courtyard=courtyard)))[:10]
    )
    return render(
        request,
        "grids/courtyard_detail.html",
        {
            "courtyard": courtyard,
            "open_issues": open_issues,
            "past_issues": past,
            "patrols": patrols,
            "now": timezone.now(),
            "may_print_card": Scope.for_user(request.user).may_print_cards(
                courtyard.grid.community_id
            ),
        },
    )


def patrol_list(request: AuthedRequest, form: StartPatrolForm | None = None) -> HttpResponse:
    """Start a patrol; the running one; past patrols with their hazards. A refused start form
    comes back as typed, with its errors."""
    user = request.user
    patrols = list(
        Patrol.objects.visible_to(user)
        .select_related("grid__community", "grid_worker")
        .annotate(hazard_count=Count("hazards"))
        .order_by("-started_at")[:50]
    )
    running = Patrol.objects.filter(grid_worker=user, ended_at__isnull=True).first()
    walks = bool(Scope.for_user(user).grid_ids)
    form = (form or StartPatrolForm(user=user)) if walks and running is None else None
    return render(
        request,
        "grids/patrol_list.html",
        {"patrols": patrols, "running": running, "form": form},
        status=400 if form is not None and form.errors else 200,
    )


@require_POST
def patrol_start(request: AuthedRequest) -> HttpResponse:
    if not Scope.for_user(request.user).grid_ids:
        raise PermissionDenied(_("Only grid workers go on patrol."))
    form = StartPatrolForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            patrol = start_patrol(by=request.user, **form.cleaned_data)
        except PatrolRefused as e:
            messages.error(request, str(e))
        else:
            return redirect(patrol)
    else:
        # The form comes back (400) with what was chosen and each refusal at its field: notes
        # it cannot take (a NUL) are said as such, not as a missing choice.
        return patrol_list(request, form)
    return redirect("grids:patrols")


def patrol_detail(
    request: AuthedRequest, pk: int, end_form: EndPatrolForm | None = None
) -> HttpResponse:
    patrol = get_object_or_404(
        Patrol.objects.visible_to(request.user).select_related("grid__community", "grid_worker"),
        pk=pk,
    )
    # Hazards stay with the patrol's grid: a courtyard moved since keeps its earlier hazards.
    hazards = list(
        Issue.objects.visible_to(request.user)
        .filter(patrol=patrol)
        .select_related("category", "courtyard")
        .order_by("created_at")
    )
    mine = patrol.grid_worker_id == request.user.pk and patrol.ended_at is None
    end_form = (end_form or EndPatrolForm()) if mine else None
    return render(
        request,
        "grids/patrol_detail.html",
        {"patrol": patrol, "hazards": hazards, "end_form": end_form},
        status=400 if end_form is not None and end_form.errors else 200,
    )


@require_POST
def patrol_end(request: AuthedRequest, pk: int) -> HttpResponse:
    patrol = get_object_or_404(Patrol.objects.visible_to(request.user), pk=pk)
    if patrol.grid_worker_id != request.user.pk:
        raise PermissionDenied(_("Only the grid worker on this patrol can end it."))
    form = EndPatrolForm(request.POST)
    if not form.is_valid():
        # Notes that cannot be stored (a NUL) are not dropped silently: the patrol goes on.
        return patrol_detail(request, pk, end_form=form)
    try:
        end_patrol(patrol, by=request.user, notes=form.cleaned_data["notes"])
    except PatrolRefused as e:
        messages.error(request, str(e))
    else:
        messages.success(request, _("Patrol ended."))
    return redirect(patrol)
