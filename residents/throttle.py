"""Rate limits of the public pages, counted in the cache in fixed windows.

Per client address (the project's `client_ip`, which honours GRASSROOTS_TRUSTED_PROXIES) and
per courtyard; the limits are settings. A refused request creates nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone

from grassroots.security import client_ip


def _hit(key: str, limit: int, seconds: int) -> bool:
    """Count one more in the window; whether it is still within the limit."""
    cache.add(key, 0, seconds)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, seconds)
        count = 1
    return count <= limit


def _address(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def allow_report(request: HttpRequest, courtyard_id: int) -> bool:
    """A resident's report: so many per hour from one address, so many a day per courtyard."""
    now = timezone.localtime()
    return _hit(
        f"residents:report:address:{_address(request)}:{now:%Y%m%d%H}",
        settings.RESIDENT_REPORTS_PER_HOUR_PER_ADDRESS,
        3600,
    ) and _hit(
        f"residents:report:courtyard:{courtyard_id}:{now:%Y%m%d}",
        settings.RESIDENT_REPORTS_PER_DAY_PER_COURTYARD,
        86400,
    )


def allow_lookup(request: HttpRequest) -> bool:
    """A tracking lookup: so many per hour from one address, so references cannot be tried."""
    now = timezone.localtime()
    return _hit(
        f"residents:track:address:{_address(request)}:{now:%Y%m%d%H}",
        settings.TRACKING_LOOKUPS_PER_HOUR_PER_ADDRESS,
        3600,
    )
