"""Demo data of the residents' side, written by `seed_demo`: the communities' service numbers
and a service-card link for every courtyard, whose public address it prints."""

from __future__ import annotations

from collections.abc import Callable

from grids.models import Community, Courtyard
from residents.models import ServiceNumber
from residents.services import current_links

# 便民服务电话 as the communities post them (demo numbers).
SERVICE_NUMBERS: list[tuple[str, str, str, str]] = [
    ("社区服务站", "སྡོད་ཁུལ་ཞབས་ཞུ་ས་ཚིགས།", "0891-6323100", "9:00–18:00"),
    ("家政服务", "ཁྱིམ་ཚང་ཞབས་ཞུ།", "0891-6323101", "9:00–18:00"),
    ("健康卫生", "འཕྲོད་བསྟེན།", "0891-6323102", "24h"),
    ("水电维修", "ཆུ་གློག་ཉམས་གསོ།", "0891-6323103", "8:30–20:00"),
    ("矛盾调解", "རྩོད་གཞི་བར་འདུམ།", "0891-6323104", "9:00–18:00"),
    ("救急救弱", "ཛ་དྲག་རོགས་རམ།", "0891-6323110", "24h"),
]


def seed(write: Callable[[str], None]) -> None:
    """Idempotent: numbers only for a community that has none; links only where missing."""
    for community in Community.objects.filter(service_numbers__isnull=True):
        ServiceNumber.objects.bulk_create(
            ServiceNumber(community=community, name=n, name_bo=bo, phone=p, hours=h, order=i)
            for i, (n, bo, p, h) in enumerate(SERVICE_NUMBERS)
        )
    courtyards = list(
        Courtyard.objects.select_related("grid__community").order_by(
            "grid__community__name", "grid__name", "name"
        )
    )
    links = current_links(courtyards)
    write("Service cards (the courtyards' public report pages):")
    for c in courtyards:
        write(f"  {c.grid.community.name} {c.name}: {links[c.pk].public_url}")
