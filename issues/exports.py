"""The issue list as CSV or Excel, streamed so that memory stays flat whatever the row count."""

from __future__ import annotations

import csv
import re
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from grids.access import Scope
from issues.models import Issue, IssueQuerySet, Urgency
from issues.privacy import mask_phone, sees_contact_in, surname

if TYPE_CHECKING:
    from django.contrib.auth.models import User

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# What XML, and so a workbook, cannot hold: C0 controls other than tab, line feed and carriage
# return (openpyxl refuses the whole file) and the noncharacters U+FFFE and U+FFFF (openpyxl
# writes a file no spreadsheet opens). No spreadsheet would show them anyway.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
COLUMNS = [
    "reference",
    "title",
    "category__name",
    "category__name_en",
    "urgency",
    "status",
    "source",
    "district__name",
    "subdistrict__name",
    "community__name",
    "grid__name",
    "courtyard__name",
    "resident_name",
    "resident_phone",
    "further_reporters",
    "assignee__username",
    "assignee__first_name",
    "created_at",
    "due_at",
    "resolved_at",
    "people_affected",
    "amount_owed",
    "amount_recovered",
    "description",
    "resolution",
    "grid_id",
    "community_id",
    "assignee_id",
]


def headers() -> list[str]:
    return [
        _("Reference"),
        _("Title"),
        _("Category"),
        _("Urgency"),
        _("Status"),
        _("Source"),
        _("District/county"),
        _("Subdistrict/township"),
        _("Community/village"),
        _("Grid"),
        _("Courtyard"),
        _("Resident"),
        _("Resident's phone"),
        _("Residents reporting"),
        _("Assignee"),
        _("Collected at"),
        _("Due at"),
        _("Resolved at"),
        _("People affected"),
        _("Amount owed (yuan)"),
        _("Amount recovered (yuan)"),
        _("Overdue"),
        _("Description"),
        _("Resolution"),
    ]


def neutralise(value: Any) -> Any:
    """A cell as inert text: characters a workbook cannot hold dropped, and a cell a spreadsheet
    would run as a formula prefixed with an apostrophe."""
    if not isinstance(value, str):
        return value
    if not value.isprintable():  # the quick test first: exports run to 100,000 rows
        value = CONTROL_CHARACTERS.sub("", value)
    if value.startswith(FORMULA_START):
        return "'" + value
    return value


def rows(user: User, qs: IssueQuerySet) -> Iterator[list[Any]]:
    """One list per issue, with the resident's contact shown as the user's screen shows it."""
    scope = Scope.for_user(user)
    # Labels and the time zone are looked up once, not per row: exports run to 100,000 rows.
    statuses = {k: str(v) for k, v in Issue.Status.choices}
    sources = {k: str(v) for k, v in Issue.Source.choices}
    urgencies = {k: str(v) for k, v in Urgency.choices}
    english = _("Category") == "Category"
    yes = _("yes")
    tz = timezone.get_current_timezone()
    now = timezone.now()
    open_statuses = set(Issue.OPEN_STATUSES)

    def fmt(dt: Any) -> str:
        if dt is None:
            return ""
        t = dt.astimezone(tz)
        return f"{t.year:04d}-{t.month:02d}-{t.day:02d} {t.hour:02d}:{t.minute:02d}"

    for (
        reference,
        title,
        category,
        category_en,
        urgency,
        status,
        source,
        district,
        subdistrict,
        community,
        grid,
        courtyard,
        resident_name,
        resident_phone,
        further_reporters,
        assignee_username,
        assignee_first_name,
        created_at,
        due_at,
        resolved_at,
        people_affected,
        amount_owed,
        amount_recovered,
        description,
        resolution,
        grid_id,
        community_id,
        assignee_id,
    ) in qs.with_reporter_count().values_list(*COLUMNS).iterator(chunk_size=5000):
        full = sees_contact_in(
            scope, user.pk, community_id=community_id, grid_id=grid_id, assignee_id=assignee_id
        )
        overdue = status in open_statuses and due_at is not None and due_at < now
        yield [
            neutralise(v)
            for v in (
                reference,
                title,
                category_en if english else category,
                urgencies.get(urgency, urgency),
                statuses.get(status, status),
                sources.get(source, source),
                district,
                subdistrict,
                community,
                grid,
                courtyard,
                resident_name if full else surname(resident_name),
                resident_phone if full else mask_phone(resident_phone),
                1 + further_reporters,
                assignee_first_name or assignee_username or "",
                fmt(created_at),
                fmt(due_at),
                fmt(resolved_at),
                "" if people_affected is None else people_affected,
                "" if amount_owed is None else str(amount_owed),
                "" if amount_recovered is None else str(amount_recovered),
                yes if overdue else "",
                description,
                resolution,
            )
        ]


class _Echo:
    def write(self, value: str) -> str:
        return value


def csv_stream(user: User, qs: IssueQuerySet) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A byte-order mark, so that Excel opens the Chinese text as UTF-8.
    yield "\ufeff" + writer.writerow(headers())
    # A chunk of a few hundred lines per write keeps the response's per-chunk cost small.
    batch: list[str] = []
    for row in rows(user, qs):
        batch.append(writer.writerow(row))
        if len(batch) == 500:
            yield "".join(batch)
            batch = []
    if batch:
        yield "".join(batch)


def xlsx_file(user: User, qs: IssueQuerySet) -> tempfile.SpooledTemporaryFile:
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
