"""The dashboard of the user's area: figures, breakdowns, drill-down and download."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import (
    FileResponse,
    Http404,
    HttpResponse,
)
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from grassroots.http import AuthedRequest
from grids.access import Scope
from grids.models import Community, District, Grid, Patrol, Subdistrict
from issues import dashboard, exports, tallies
from issues.filters import (
    EARLIEST,
    LATEST,
)
from issues.models import (
    Category,
    Issue,
)
from issues.views.lookup import is_id
from wishes.dashboard import wish_figures

LEVELS = ["district", "subdistrict", "community", "grid"]
PATROL_AREA = {
    "district": "grid__community__subdistrict__district_id",
    "subdistrict": "grid__community__subdistrict_id",
    "community": "grid__community_id",
    "grid": "grid_id",
}
AREA_MODELS: dict[str, type[District | Subdistrict | Community | Grid]] = {
    "district": District,
    "subdistrict": Subdistrict,
    "community": Community,
    "grid": Grid,
}


def _dashboard_area(request: AuthedRequest) -> tuple[str | None, Any]:
    """The area asked for (404 outside the scope), or the user's own when it is one area."""
    user = request.user
    for level in reversed(LEVELS):
        value = request.GET.get(level, "")
        if value:
            if not is_id(value):
                raise Http404
            return level, get_object_or_404(
                AREA_MODELS[level].objects.visible_to(user), pk=int(value)
            )
    scope = Scope.for_user(user)
    for level in LEVELS:
        ids = getattr(scope, f"{level}_ids")
        if len(ids) == 1 and not any(
            getattr(scope, f"{lv}_ids") for lv in LEVELS[: LEVELS.index(level)]
        ):
            return level, AREA_MODELS[level].objects.get(pk=next(iter(ids)))
    return None, None


def _dashboard_period(request: AuthedRequest) -> tuple[str, dashboard.Period, str | None]:
    name = request.GET.get("period", "30d")
    today = timezone.localdate()
    if name == "custom":
        try:
            start = forms.DateField().clean(request.GET.get("from", ""))
            end = forms.DateField().clean(request.GET.get("to", ""))
        except ValidationError:
            return (
                "30d",
                dashboard.Period.named("30d", today),
                _("Give both dates of the custom period; showing the last 30 days."),
            )
        if start > end or (end - start).days > 3660 or start < EARLIEST or end > LATEST:
            return (
                "30d",
                dashboard.Period.named("30d", today),
                _("The custom period is not valid; showing the last 30 days."),
            )
        return name, dashboard.Period(start, end), None
    if name not in dict(dashboard.PERIODS):
        name = "30d"
    return name, dashboard.Period.named(name, today), None


def dashboard_view(request: AuthedRequest) -> HttpResponseBase:
    """An area's figures over a period, each linked to the issues behind it."""
    user = request.user
    level, area = _dashboard_area(request)
    period_name, period, period_error = _dashboard_period(request)
    # One condition on the four area columns serves the issues, their visits and mediations.
    area_q = Scope.for_user(user).issue_q()
    patrols = Patrol.objects.visible_to(user)
    area_param = ""
    if area is not None:
        assert level is not None  # an area comes with its level
        area_q &= Q(**{f"{level}_id": area.pk})
        patrols = patrols.filter(**{PATROL_AREA[level]: area.pk})
        area_param = f"{level}={area.pk}"
    child = _child_level(level, user)
    categories = {c.pk: c for c in Category.objects.all()}
    wage = next((pk for pk, c in categories.items() if c.code == "wage_arrears"), None)
    d = dashboard.build(
        Issue.objects.filter(area_q),
        period=period,
        child=f"{child}_id" if child else None,
        wage_id=wage,
        patrols=patrols,
        area=area_q,
        tallied=_tallied(user, level, area, child),
    )
    children = (
        {
            a.pk: a
            for a in AREA_MODELS[child].objects.visible_to(user).filter(pk__in=list(d.by_child))
        }
        if child
        else {}
    )
    period_params = f"created_after={period.start:%Y-%m-%d}&created_before={period.end:%Y-%m-%d}"
    resolved_params = (
        f"resolved_after={period.start:%Y-%m-%d}&resolved_before={period.end:%Y-%m-%d}"
    )
    context = {
        "level": level,
        "area": area,
        "crumbs": _crumbs(level, area, Scope.for_user(user)),
        "child": child,
        "d": d,
        "t": d.totals,
        "period_name": period_name,
        "period": period,
        "periods": dashboard.PERIODS,
        "period_error": period_error,
        "area_param": area_param,
        "period_params": period_params,
        "resolved_params": resolved_params,
        "categories": sorted(
            ((categories[k], r) for k, r in d.by_category.items() if k in categories),
            key=lambda cr: cr[0].sort_order,
        ),
        "child_rows": _sorted_children(d.by_child, children, request.GET.get("sort", "")),
        "ages": _age_links(),
        "chart": _chart(d.weeks),
        "sort": request.GET.get("sort", ""),
        "wage_category_id": wage or "",
        "area_columns": [
            ("name", _("Area")),
            ("collected", _("Collected")),
            ("resolved", _("Resolved")),
            ("resolution_rate", _("Resolution rate")),
            ("on_time_rate", _("On-time rate")),
            ("open", _("Open")),
            ("overdue", _("Overdue")),
        ],
    }
    if request.GET.get("format") in ("csv", "xlsx"):
        return _dashboard_download(request, context)
    context["wish_figures"] = wish_figures(user, area_q, period, level=level, area=area)
    return render(request, "issues/dashboard.html", context)


def _tallied(user: Any, level: str | None, area: Any, child: str | None) -> Any:
    """Whole districts (by subdistrict) and whole subdistricts (by community) read the
    tallies; smaller or partly covered areas count their issues."""
    if not tallies.enabled():
        return None
    scope = Scope.for_user(user)
    by_subdistrict = child in ("subdistrict", "district")
    if area is not None:
        if level == "district" and by_subdistrict:
            whole = scope.is_all or area.pk in scope.district_ids
            return tallies.Areas("district", [area.pk]) if whole else None
        if level == "subdistrict" and child == "community":
            whole = (
                scope.is_all
                or area.pk in scope.subdistrict_ids
                or area.district_id in scope.district_ids
            )
            return tallies.Areas("subdistrict", [area.pk]) if whole else None
        return None
    if scope.community_ids or scope.grid_ids:
        return None
    if scope.is_all and by_subdistrict:
        return tallies.Areas("district", None)
    if by_subdistrict and scope.district_ids and not scope.subdistrict_ids:
        return tallies.Areas("district", sorted(scope.district_ids))
    if child == "community" and scope.subdistrict_ids and not scope.district_ids:
        return tallies.Areas("subdistrict", sorted(scope.subdistrict_ids))
    return None


def _child_level(level: str | None, user: Any) -> str | None:
    """The next level down; for a user over several areas, the level of their assignments."""
    if level is not None:
        i = LEVELS.index(level)
        return LEVELS[i + 1] if i + 1 < len(LEVELS) else None
    scope = Scope.for_user(user)
    if scope.is_all:
        return "district"
    for lv in LEVELS:
        if getattr(scope, f"{lv}_ids"):
            return lv
    return None


def _crumbs(level: str | None, area: Any, scope: Scope) -> list[tuple[str, str]]:
    """The way back up, as far as the user's own area: (label, query string) pairs."""
    if area is None:
        return []
    chain = []
    node, lv = area, level
    while node is not None and lv is not None:
        chain.append((node.name, f"{lv}={node.pk}"))
        if not scope.is_all and node.pk in getattr(scope, f"{lv}_ids"):
            break  # the user's own assignment: above it is outside their scope
        parent = {"grid": "community", "community": "subdistrict", "subdistrict": "district"}.get(
            lv
        )
        node = getattr(node, parent) if parent else None
        lv = parent
    return list(reversed(chain))


CHILD_SORTS = {
    "collected",
    "resolved",
    "resolution_rate",
    "on_time_rate",
    "open",
    "overdue",
    "name",
}


def _sorted_children(
    rows: dict[Any, Any], areas: dict[int, Any], sort: str
) -> list[tuple[Any, dict[str, Any]]]:
    out = []
    for pk, area in areas.items():
        r = dict(rows.get(pk, {}))
        for key in ("collected", "closed", "resolved", "on_time", "open", "overdue"):
            r[key] = r.get(key) or 0
        r["resolution_rate"] = dashboard.rate(r["closed"], r["collected"])
        r["on_time_rate"] = dashboard.rate(r["on_time"], r["resolved"])
        out.append((area, r))
    key = sort.lstrip("-")
    if key not in CHILD_SORTS:
        key, sort = "overdue", "-overdue"
    desc = sort.startswith("-")
    if key == "name":
        return sorted(out, key=lambda ar: ar[0].name, reverse=desc)
    # Areas without a rate (nothing to divide) go last either way; the weakest stand out first.
    present = sorted(
        (ar for ar in out if ar[1][key] is not None), key=lambda ar: ar[1][key], reverse=desc
    )
    return present + [ar for ar in out if ar[1][key] is None]


def _age_links() -> list[tuple[str, str, str]]:
    """(bucket, label, created_after/created_before params) for the open-by-age figures."""
    today = timezone.localdate()
    out = []
    labels = {
        "0_3": _("0–3 days"),
        "4_7": _("4–7 days"),
        "8_30": _("8–30 days"),
        "31_": _("over 30 days"),
    }
    for name, low, high in dashboard.AGE_BUCKETS:
        params = f"created_before={today - timedelta(days=low):%Y-%m-%d}"
        if high is not None:
            params += f"&created_after={today - timedelta(days=high):%Y-%m-%d}"
        out.append((name, labels[name], params))
    return out


def _chart(weeks: list[tuple[Any, int, int]]) -> dict[str, Any]:
    """Bar pairs for an SVG 600 units wide (drawn by the template): collected against resolved."""
    top = max([max(c, r) for _w, c, r in weeks] + [1])
    step = 600 / max(len(weeks), 1)
    bar = round(min(step * 0.38, 24), 1)
    label_every = max(1, round(len(weeks) / 8))
    bars = []
    for i, (week, c, r) in enumerate(weeks):
        x = round(i * step + step * 0.1, 1)
        bars.append(
            {
                "week": week,
                "day": f"{week:%m-%d}",
                "collected": c,
                "resolved": r,
                "x": x,
                "xr": round(x + bar, 1),
                "w": bar,
                "label": i % label_every == 0,
                "hc": round(140 * c / top, 1),
                "hr": round(140 * r / top, 1),
                "yc": round(150 - 140 * c / top, 1),
                "yr": round(150 - 140 * r / top, 1),
            }
        )
    return {"bars": bars, "width": 600, "top": top}


def _dashboard_download(request: AuthedRequest, context: dict[str, Any]) -> HttpResponseBase:
    """The breakdown table (next level of areas, then categories) as CSV or Excel."""
    head = [
        _("Area"),
        _("Collected"),
        _("Resolved"),
        _("Resolution rate (%)"),
        _("On-time rate (%)"),
        _("Open"),
        _("Overdue"),
    ]
    rows = [
        [
            a.name,
            r["collected"],
            r["resolved"],
            r["resolution_rate"],
            r["on_time_rate"],
            r["open"],
            r["overdue"],
        ]
        for a, r in context["child_rows"]
    ]
    rows += [
        [
            c.display_name,
            r.get("collected") or 0,
            r.get("resolved") or 0,
            dashboard.rate(r.get("closed") or 0, r.get("collected") or 0),
            dashboard.rate(r.get("on_time") or 0, r.get("resolved") or 0),
            r.get("open") or 0,
            r.get("overdue") or 0,
        ]
        for c, r in context["categories"]
    ]
    name = f"dashboard-{timezone.localdate():%Y%m%d}"
    if request.GET.get("format") == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(head)
        writer.writerows([[exports.neutralise(v) for v in row] for row in rows])
        response = HttpResponse("\ufeff" + buffer.getvalue(), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return response
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Dashboard"))
    ws.append(head)
    for row in rows:
        ws.append([exports.neutralise(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    out.seek(0)
    return FileResponse(out, as_attachment=True, filename=f"{name}.xlsx")
