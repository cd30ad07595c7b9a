"""The issue list as CSV or Excel, streamed so that memory stays flat whatever the row count."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from grids.access import Scope
from issues.models import Issue, Urgency
from issues.privacy import mask_phone, surname

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = [
    "reference", "title", "category__name", "category__name_en", "urgency", "status", "source",
    "district__name", "subdistrict__name", "community__name", "grid__name", "courtyard__name",
    "resident_name", "resident_phone", "assignee__username", "assignee__first_name",
    "created_at", "due_at", "resolved_at", "people_affected", "amount_owed", "amount_recovered",
    "description", "resolution", "grid_id", "community_id", "assignee_id",
]


def headers() -> list[str]:
    return [_("Reference"), _("Title"), _("Category"), _("Urgency"), _("Status"), _("Source"),
            _("District/county"), _("Subdistrict/township"), _("Community/village"), _("Grid"),
            _("Courtyard"), _("Resident"), _("Resident's phone"), _("Assignee"),
            _("Collected at"), _("Due at"), _("Resolved at"), _("People affected"),
            _("Amount owed (yuan)"), _("Amount recovered (yuan)"), _("Overdue"),
            _("Description"), _("Resolution")]


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet would run as a formula is prefixed with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def rows(user: User, qs: QuerySet[Issue]) -> Iterator[list[Any]]:
    """One list per issue, with the resident's contact shown as the user's screen shows it."""
    scope = Scope.for_user(user)
    statuses = dict(Issue.Status.choices)
    sources = dict(Issue.Source.choices)
    urgencies = dict(Urgency.choices)
    english = _("Category") == "Category"
    now = timezone.now()

    def fmt(dt: Any) -> str:
        return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M") if dt else ""

    for r in qs.values_list(*COLUMNS).iterator(chunk_size=2000):
        d = dict(zip(COLUMNS, r, strict=True))
        full = (scope.is_all or scope.is_staff_of(d["community_id"])
                or scope.walks(d["grid_id"]) or d["assignee_id"] == user.pk)
        name = d["resident_name"] if full else surname(d["resident_name"])
        phone = d["resident_phone"] if full else mask_phone(d["resident_phone"])
        is_open = d["status"] in Issue.OPEN_STATUSES
        overdue = is_open and d["due_at"] is not None and d["due_at"] < now
        yield [neutralise(v) for v in [
            d["reference"], d["title"],
            d["category__name_en"] if english else d["category__name"],
            str(urgencies.get(d["urgency"], d["urgency"])),
            str(statuses.get(d["status"], d["status"])),
            str(sources.get(d["source"], d["source"])),
            d["district__name"], d["subdistrict__name"], d["community__name"], d["grid__name"],
            d["courtyard__name"], name, phone,
            d["assignee__first_name"] or d["assignee__username"] or "",
            fmt(d["created_at"]), fmt(d["due_at"]), fmt(d["resolved_at"]),
            d["people_affected"] if d["people_affected"] is not None else "",
            str(d["amount_owed"]) if d["amount_owed"] is not None else "",
            str(d["amount_recovered"]) if d["amount_recovered"] is not None else "",
            _("yes") if overdue else "", d["description"], d["resolution"]]]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(user: User, qs: QuerySet[Issue]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark, so that Excel opens the Chinese text as UTF-8.
    yield "\ufeff" + writer.writerow(headers())
    for row in rows(user, qs):
        yield writer.writerow(row)


def xlsx_file(user: User, qs: QuerySet[Issue]) -> tempfile.SpooledTemporaryFile:
    """A write-only workbook: openpyxl streams rows to disk instead of holding them."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("Issues"))
    ws.append(headers())
    for row in rows(user, qs):
        ws.append(row)
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    wb.save(out)
    out.seek(0)
    return out
