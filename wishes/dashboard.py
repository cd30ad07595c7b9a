"""The micro-wish figures of the dashboard, in two queries; each opens its list exactly.

Definitions, over the dashboard's area and period (the list behind each counts the same wishes):
- collected: wishes whose collection time falls in the period (需求征集);
- verified: of those, the ones on the needs list now — verified and beyond (需求清单 N项);
- offers: active offers of the area's communities now (服务清单 M项); no period;
- fulfilled: wishes whose fulfilment time falls in the period (完成微心愿 K个);
- median time to fulfil: the lower median of (fulfilled − collected) over those, in whole
  days, rounded down (hours below two days).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q

from issues.dashboard import Median, Period
from wishes.models import Offer, Wish

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import Model

# The dashboard's area levels, as an offer (which belongs to a community) reaches them.
OFFER_AREA = {
    "district": "community__subdistrict__district_id",
    "subdistrict": "community__subdistrict_id",
    "community": "community_id",
    "grid": "community__grids",
}


class WishFigures(TypedDict):
    collected: int
    verified: int
    offers: int
    fulfilled: int
    median_days: int | None
    median_hours: int | None
    created_params: str
    done_params: str


def offers_in_area(user: User, level: str | None, area: Model | None) -> Q:
    return Q(**{OFFER_AREA[level]: area.pk}) if level and area is not None else Q()


def wish_figures(
    user: User, area_q: Q, period: Period, *, level: str | None, area: Model | None
) -> WishFigures:
    """The wish figures of `area_q` (the dashboard's condition on the four area columns)."""
    start, end = period.range
    collected = Q(created_at__range=(start, end))
    done = Q(done_at__range=(start, end))
    # 1. the wishes' figures: one aggregate over the area's wishes of the period
    row = (
        Wish.objects.filter(area_q)
        .filter(collected | done)
        .aggregate(
            collected=Count("pk", filter=collected),
            verified=Count("pk", filter=collected & Q(status__in=Wish.LISTED_STATUSES)),
            fulfilled=Count("pk", filter=done),
            median=Median(
                ExpressionWrapper(F("done_at") - F("created_at"), output_field=DurationField()),
                filter=done,
            ),
        )
    )
    # 2. the services list: active offers of the area now
    offers = (
        Offer.objects.visible_to(user)
        .filter(offers_in_area(user, level, area), is_active=True)
        .values("pk")
        .distinct()
        .count()
    )
    median = row["median"]
    days = median.days if median is not None else None
    return {
        "collected": row["collected"],
        "verified": row["verified"],
        "offers": offers,
        "fulfilled": row["fulfilled"],
        "median_days": days if days is not None and days >= 2 else None,
        "median_hours": int(median.total_seconds() // 3600)
        if median is not None and days is not None and days < 2
        else None,
        "created_params": f"created_after={period.start:%Y-%m-%d}"
        f"&created_before={period.end:%Y-%m-%d}",
        "done_params": f"done_after={period.start:%Y-%m-%d}&done_before={period.end:%Y-%m-%d}",
    }
